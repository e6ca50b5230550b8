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
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.errors import ConnectorConfigError, ConnectorError

log = logging.getLogger(__name__)

SKIPPED_SUFFIXES = (".tmp", ".part")


def _marker(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip() or "/" in value or "\\" in value or value in (".", ".."):
        raise ValueError(
            f"done_marker must be a file name like '{{name}}.done' or '_SUCCESS', not {value!r}"
        )
    try:
        value.format(name="x", stem="x")
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"done_marker {value!r}: only {{name}} and {{stem}} can be used") from e
    return value


def _pattern(value: str | None) -> str | None:
    if value is None:
        return None
    if not value or value.startswith(("/", "\\")) or ".." in PurePosixPath(value).parts:
        raise ValueError(
            f"pattern {value!r} must stay inside the folder (no absolute path, no '..')"
        )
    return value


class LocalFolderConfig(TransportConfig):
    """`connector: {type: local_folder, path: ...}`."""

    type: Literal["local_folder"] = "local_folder"
    path: str = Field(min_length=1, description="the folder to read; relative to the project")
    settle_seconds: float = Field(
        0, ge=0, description="take a file only once its mtime is at least this old"
    )
    done_marker: str | None = Field(
        None, description="take a file only once `{name}.done` (or a fixed name) exists"
    )

    _check_marker = field_validator("done_marker")(_marker)


class LocalFolderStream(StreamOptions):
    """A stream's `pattern` (and per-stream overrides) for `local_folder`."""

    pattern: str | None = Field(None, description="file glob inside the folder")
    settle_seconds: float | None = Field(None, ge=0)
    done_marker: str | None = None

    _check_pattern = field_validator("pattern")(_pattern)
    _check_marker = field_validator("done_marker")(_marker)


class LocalFolderTransport:
    """Yields one batch per file matching the stream's `pattern`, oldest name first.

    Files are read, never moved: the landing zone keeps the immutable copy, and the
    loader's idempotence makes a re-read harmless.
    """

    kind: ClassVar[str] = "local_folder"
    Config: ClassVar[type[LocalFolderConfig]] = LocalFolderConfig
    Stream: ClassVar[type[LocalFolderStream]] = LocalFolderStream

    def __init__(self, config: LocalFolderConfig, context: TransportContext) -> None:
        root = Path(config.path)
        self.root = root if root.is_absolute() else Path(context.base) / root
        self.settle_seconds = config.settle_seconds
        self.done_marker = config.done_marker

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        opts = LocalFolderStream.coerce(request.options, request.stream)
        if not opts.pattern:
            raise ConnectorConfigError(f"stream {request.stream!r}: local_folder needs `pattern`")
        pattern = opts.pattern
        settle = self.settle_seconds if opts.settle_seconds is None else opts.settle_seconds
        marker = opts.done_marker or self.done_marker
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
