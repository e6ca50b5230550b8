"""Local folder transport: files dropped into a folder (or a system's export folder).

Only regular files inside the folder are read: a symlink that resolves outside it is
skipped with a warning (never followed into /etc), and so are temporary names (`*.tmp`,
`*.part`, dotfiles). Two options guard against reading a file still being written:
`settle_seconds` (take a file only once its mtime is that old) and `done_marker` (take it
only once a marker file exists: `{name}.done` per file, or a fixed name like `_SUCCESS`
for the whole folder the file is in).
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from connectors.base import RawBatch, StreamRequest
from connectors.errors import ConnectorConfigError, ConnectorError

log = logging.getLogger(__name__)

SKIPPED_SUFFIXES = (".tmp", ".part")


def _settle(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConnectorConfigError(
            f"local_folder: settle_seconds must be a number >= 0, not {value!r}"
        )
    return float(value)


def _marker(value: Any) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not value.strip()
        or "/" in value
        or "\\" in value
        or value in (".", "..")
    ):
        raise ConnectorConfigError(
            f"local_folder: done_marker must be a file name like '{{name}}.done' or '_SUCCESS',"
            f" not {value!r}"
        )
    try:
        value.format(name="x", stem="x")
    except (KeyError, IndexError, ValueError) as e:
        raise ConnectorConfigError(
            f"local_folder: done_marker {value!r}: only {{name}} and {{stem}} can be used"
        ) from e
    return value


def _pattern(value: Any, stream: str) -> str:
    if not value or not isinstance(value, str):
        raise ConnectorConfigError(f"stream {stream!r}: local_folder needs `pattern`")
    if value.startswith(("/", "\\")) or ".." in PurePosixPath(value).parts:
        raise ConnectorConfigError(
            f"stream {stream!r}: pattern {value!r} must stay inside the folder"
            " (no absolute path, no '..')"
        )
    return value


class LocalFolderTransport:
    """Yields one batch per file matching the stream's `pattern`, oldest name first.

    Files are read, never moved: the landing zone keeps the immutable copy, and the
    loader's idempotence makes a re-read harmless.
    """

    kind: ClassVar[str] = "local_folder"

    def __init__(
        self,
        path: str,
        base: str | None = None,
        settle_seconds: float = 0,
        done_marker: str | None = None,
        **_: Any,
    ) -> None:
        if not isinstance(path, str) or not path:
            raise ConnectorConfigError("local_folder needs `path` (the folder to read)")
        root = Path(path)
        if not root.is_absolute() and base:
            root = Path(base) / root
        self.root = root
        self.settle_seconds = _settle(settle_seconds)
        self.done_marker = _marker(done_marker)

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        pattern = _pattern(request.options.get("pattern"), request.stream)
        settle = _settle(request.options.get("settle_seconds", self.settle_seconds))
        marker = _marker(request.options.get("done_marker", self.done_marker))
        if not self.root.is_dir():
            raise ConnectorError(f"folder {self.root} does not exist or is not a directory")
        real_root = self.root.resolve()
        paths = sorted(self.root.glob(pattern))
        markers = {self._marker_path(p, marker) for p in paths} if marker else set()
        for path in paths:
            if path in markers or not self._wanted(path, real_root):
                continue
            if marker and not self._marker_path(path, marker).is_file():
                log.info("%s: waiting for its done marker %s", path, marker)
                continue
            content = self._read(path, real_root, settle)
            if content is not None:
                yield RawBatch(content, path.name, request.format, metadata={"path": str(path)})

    @staticmethod
    def _marker_path(path: Path, marker: str) -> Path:
        return path.parent / marker.format(name=path.name, stem=path.stem)

    def _wanted(self, path: Path, real_root: Path) -> bool:
        """Skip temporary names and anything that is not a regular file inside the folder."""
        relative = path.relative_to(self.root)
        if any(part.startswith(".") for part in relative.parts) or path.name.endswith(
            SKIPPED_SUFFIXES
        ):
            return False
        real = path.resolve()
        if not real.is_relative_to(real_root):
            log.warning("%s: skipped, it is a link to %s, outside %s", path, real, self.root)
            return False
        return real.is_file()

    def _read(self, path: Path, real_root: Path, settle: float) -> bytes | None:
        """The file's bytes, or None when it is still being written (or changed meanwhile).

        Opened by its resolved path with O_NOFOLLOW and checked with fstat, so a link
        swapped in after the check is never followed out of the folder.
        """
        real = path.resolve()
        try:
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as e:
            raise ConnectorError(f"cannot read {path}: {e.strerror}") from e
        with os.fdopen(fd, "rb") as f:
            before = os.fstat(f.fileno())
            if not stat.S_ISREG(before.st_mode) or not real.is_relative_to(real_root):
                log.warning("%s: skipped, not a regular file inside %s", path, self.root)
                return None
            age = time.time() - before.st_mtime
            if age < settle:
                log.info("%s: skipped, modified %.1fs ago (settle_seconds %g)", path, age, settle)
                return None
            try:
                content = f.read()
            except OSError as e:
                raise ConnectorError(f"cannot read {path}: {e.strerror}") from e
            after = os.fstat(f.fileno())
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            log.info("%s: skipped, it changed while being read", path)
            return None
        return content
