"""Local folder transport: files dropped into a folder (or a system's export folder).

Only regular files inside the folder are read: a symlink that resolves outside it is
skipped with a warning (never followed into /etc), and so are temporary names (`*.tmp`,
`*.part`, dotfiles). Two options guard against reading a file still being written:
`settle_seconds` (take a file only once its mtime is that old) and `done_marker` (take it
only once a marker file exists: `{name}.done` per file, or a fixed name like `_SUCCESS`
for the whole folder the file is in).

With `claim: true` the folder is a drop folder shared with other pollers: each file is
claimed by an atomic rename into `processing/`, then archived under `archive/YYYY/MM/DD/`
once its batch loaded, or moved to `error/` with a `.reason` file when it failed for good
(`connectors.drop`, the same rules as the SFTP transport).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Literal

from pydantic import Field

from connectors import drop
from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.drop import SKIPPED_SUFFIXES, Entry
from connectors.dropconfig import DropConfig, DropStream, rules
from connectors.errors import ConnectorConfigError, ConnectorError

log = logging.getLogger(__name__)


class LocalFolderConfig(DropConfig):
    """`connector: {type: local_folder, path: ...}` (claim folders only with `claim: true`)."""

    type: Literal["local_folder"] = "local_folder"
    path: str = Field(min_length=1, description="the folder to read; relative to the project")
    claim: bool = Field(
        False, description="claim each file into processing/, then archive it or move it to error/"
    )


class LocalFolderStream(DropStream):
    """A stream's `pattern` (and per-stream overrides) for `local_folder`."""


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
        self.base = Path(context.base)
        self.root = root if root.is_absolute() else self.base / root
        self.config = config
        self.settle_seconds = config.settle_seconds
        self.done_marker = config.done_marker

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        opts = LocalFolderStream.coerce(request.options, request.stream)
        if self.config.claim:
            yield from self._claim(request, opts)
            return
        if request.window is not None:
            raise ConnectorConfigError(
                f"stream {request.stream!r}: a folder cannot re-read a time window (its files"
                " carry no update times); use `omshub replay` to reprocess landed batches"
            )
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

    def _claim(self, request: StreamRequest, opts: LocalFolderStream) -> Iterator[RawBatch]:
        """Claimed drop folder: each file renamed into processing/ before it is read."""
        if request.window is not None:
            raise ConnectorConfigError(
                f"stream {request.stream!r}: a claimed folder cannot re-read a time window"
                " (its files are archived once loaded)"
            )
        found = rules(self.config, opts, request.stream, str(self.root))
        yield from drop.DropFolder(LocalFS(), found).fetch(request.format)

    def finish(self, ref: dict[str, Any], ok: bool, reason: str | None = None) -> str | None:
        """Archive the claimed file of a loaded batch, or move it to error/ with its reason;
        nothing for a batch that was not claimed (`claim: false`) or is already done."""
        return drop.finish(LocalFS(), ref, ok, reason)

    def deliver(self, folder: str, name: str, data: bytes) -> str:
        """Write a file for the other side into `folder` (relative to the project)."""
        target = Path(folder) if Path(folder).is_absolute() else self.base / folder
        return drop.deliver(LocalFS(), str(target), name, data, "local_folder: ")

    @staticmethod
    def _marker_path(path: Path, marker: str) -> Path:
        return path.parent / drop.marker_name(marker, path.name)

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


@contextmanager
def os_errors(what: str) -> Iterator[None]:
    """Any OSError but "not found" / "exists" (which the rules act on) as a ConnectorError."""
    try:
        yield
    except (FileNotFoundError, FileExistsError):
        raise
    except OSError as e:
        raise ConnectorError(f"{what}: {e.strerror or e}") from e


def _entry(name: str, st: os.stat_result) -> Entry:
    return Entry(name, st.st_size, st.st_mtime, stat.S_ISREG(st.st_mode), stat.S_ISLNK(st.st_mode))


class LocalFS:
    """`DropFS` on the local filesystem. A rename is link + unlink (as OpenSSH's sftp-server
    does), so it never overwrites and exactly one of two racing renames succeeds."""

    def listdir(self, folder: str) -> list[Entry]:
        out = []
        with os_errors(f"cannot list {folder}"), os.scandir(folder) as it:
            for e in it:
                try:
                    out.append(_entry(e.name, e.stat(follow_symlinks=False)))
                except FileNotFoundError:
                    continue  # taken meanwhile
        return out

    def stat(self, path: str) -> Entry | None:
        try:
            with os_errors(f"cannot stat {path}"):
                return _entry(os.path.basename(path), os.lstat(path))
        except FileNotFoundError:
            return None

    def rename(self, src: str, dst: str) -> None:
        with os_errors(f"cannot move {src} to {dst}"):
            try:
                os.link(src, dst, follow_symlinks=False)
            except OSError as e:
                if isinstance(e, FileNotFoundError | FileExistsError) or not _no_links(e):
                    raise
                if os.path.lexists(dst):  # no hard links here (another file system): racy
                    raise FileExistsError(dst) from e
                os.rename(src, dst)
                return
            try:
                os.unlink(src)
            except FileNotFoundError:
                os.unlink(dst)  # another poller moved it first: drop our spare link
                raise

    @contextmanager
    def open_read(self, path: str, size: int) -> Iterator[BinaryIO]:
        with os_errors(f"cannot read {path}"):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise ConnectorError(f"{path} is not a regular file")
                yield f

    def makedirs(self, folder: str) -> None:
        with os_errors(f"cannot create {folder}"):
            os.makedirs(folder, exist_ok=True)

    def write(self, path: str, data: bytes) -> None:
        tmp = os.path.join(os.path.dirname(path), f".{secrets.token_hex(8)}.tmp")  # short
        with os_errors(f"cannot write {path}"):
            try:
                with open(tmp, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            finally:
                if os.path.lexists(tmp):
                    os.unlink(tmp)

    def remove(self, path: str) -> None:
        with os_errors(f"cannot remove {path}"), suppress(FileNotFoundError):
            os.unlink(path)


def _no_links(e: OSError) -> bool:
    import errno

    return e.errno in (errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK)
