"""Drop folders: claim a file, hand it over, then archive it or move it to `error/`.

A drop folder (an SFTP inbox, a local export folder) is shared by whoever writes files
into it and by every poller that reads them. These rules are written once, over a small
filesystem protocol (`DropFS`: `connectors.local.LocalFS`, `connectors.sftp.SftpFS`), so
both transports behave the same (docs/transports/sftp.md tells the whole story; the YAML
keys are in `connectors.dropconfig`):

- **claim**: a finished file is renamed into `processing/` as `<UTC time>-<token>--<name>`.
  The rename never overwrites and is atomic (OpenSSH's sftp-server and `LocalFS` rename by
  link + unlink), so of two pollers racing for a file exactly one wins. The claim time is
  in the name because a rename keeps the writer's mtime.
- **finish**: loaded -> `archive/YYYY/MM/DD/<name>`; failed for good -> `error/<name>` and
  `error/<name>.reason`. A taken name gets `~N`; a second call does nothing.
- **claim timeout**: a claim older than `claim_timeout_seconds` is claimed again, keeping
  its token, so `finish` of the first claim still finds the file.
- **still being written**: dotfiles, `*.tmp`/`*.part`, files younger than `settle_seconds`,
  files waiting for their done marker, files that change while downloaded, and anything
  but a regular file are left alone.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import logging
import posixpath
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from connectors.base import RawBatch
from connectors.dropconfig import DropRules
from connectors.errors import ConnectorError

log = logging.getLogger(__name__)

SKIPPED_SUFFIXES = (".tmp", ".part")
#: bytes per read when downloading a claimed file
READ_CHUNK = 1 << 20
_CLAIMED = re.compile(r"^(\d{8}T\d{6}Z)-([0-9a-f]{12})--(.+)$")
_STAMP = "%Y%m%dT%H%M%SZ"
#: longest file name written (255 bytes, less room for the `.reason` beside an error file)
MAX_NAME = 255 - len(".reason")


# -- the filesystem protocol ---------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One directory entry as `lstat` sees it (a link is never followed)."""

    name: str
    size: int
    mtime: float
    regular: bool
    link: bool = False


class DropFS(Protocol):
    """What the claim/archive/error rules need from a filesystem; paths are POSIX strings.

    `listdir` raises FileNotFoundError for a missing folder; `stat` is an lstat, None when
    the path does not exist; `rename` moves atomically and never overwrites: it raises
    FileNotFoundError when `src` is gone (another poller took it) and FileExistsError when
    `dst` exists; `remove` does nothing for a file already gone. Any other failure is a
    `ConnectorError` naming the path.
    """

    def listdir(self, folder: str) -> list[Entry]: ...
    def stat(self, path: str) -> Entry | None: ...
    def rename(self, src: str, dst: str) -> None: ...
    def open_read(self, path: str, size: int) -> AbstractContextManager[BinaryIO]: ...
    def makedirs(self, folder: str) -> None: ...
    def write(self, path: str, data: bytes) -> None: ...
    def remove(self, path: str) -> None: ...


# -- claim ---------------------------------------------------------------------------------


def _stamp(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime(_STAMP)


def marker_name(marker: str, name: str) -> str:
    """The done marker of the file `name` (a fixed marker is its own name)."""
    return marker.format(name=name, stem=posixpath.splitext(name)[0])


def _age(stamp: str, now: float) -> float:
    when = dt.datetime.strptime(stamp, _STAMP).replace(tzinfo=dt.UTC)
    return now - when.timestamp()


class DropFolder:
    """The claim side: which files of one stream's inbox to take, taken one at a time."""

    def __init__(self, fs: DropFS, rules: DropRules, where: str = "") -> None:
        self.fs = fs
        self.rules = rules
        self.where = where  # shown before paths in log lines (e.g. `sftp host:22`)
        self._made_processing = False

    def fetch(self, fmt: str) -> Iterator[RawBatch]:
        """Claim, download and yield each finished file: stale claims first, then the inbox
        by name. A file is claimed only when the caller asks for the next batch."""
        yield from self._stale(fmt)
        try:
            entries = self.fs.listdir(self.rules.inbox)
        except FileNotFoundError:
            raise ConnectorError(f"{self.where}folder {self.rules.inbox} does not exist") from None
        names = {e.name for e in entries}
        markers = self._markers(names)
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name in markers or not self._ready(entry, names):
                continue
            batch = self._take(entry, fmt)
            if batch is not None:
                yield batch

    def _markers(self, names: set[str]) -> set[str]:
        marker = self.rules.done_marker
        if not marker:
            return set()
        return {marker_name(marker, n) for n in names}

    def _ready(self, entry: Entry, names: set[str]) -> bool:
        """Whether `entry` is a finished data file this stream takes (else left alone)."""
        name, where = entry.name, f"{self.where}{posixpath.join(self.rules.inbox, entry.name)}"
        if name.startswith(".") or name.endswith(SKIPPED_SUFFIXES):
            return False
        if not fnmatch.fnmatchcase(name, self.rules.glob):
            return False
        if not entry.regular:
            if entry.link:
                log.warning("%s: skipped, a link is never followed in a claimed drop", where)
            return False
        marker = self.rules.done_marker
        if marker and marker_name(marker, name) not in names:
            log.info("%s: waiting for its done marker %s", where, marker)
            return False
        age = time.time() - entry.mtime
        if age < self.rules.settle_seconds:
            log.info(
                "%s: skipped, modified %.1fs ago (settle_seconds %g)",
                where,
                age,
                self.rules.settle_seconds,
            )
            return False
        return True

    def _take(self, entry: Entry, fmt: str) -> RawBatch | None:
        """Claim `entry` by renaming it into processing/, then download it."""
        if not self._made_processing:
            self.fs.makedirs(self.rules.processing)
            self._made_processing = True
        src = posixpath.join(self.rules.inbox, entry.name)
        claimed = self._claim(src, secrets.token_hex(6), entry.name)
        if claimed is None:
            return None
        marker = self.rules.done_marker
        if marker and "{" in marker:  # a per-file marker has done its job
            self.fs.remove(posixpath.join(self.rules.inbox, marker_name(marker, entry.name)))
        return self._download(claimed, entry, fmt, entry.name, src)

    def _claim(self, src: str, token: str, name: str) -> str | None:
        """Rename `src` to a claim of `name` made now; None when another poller was first."""
        claim = f"{_stamp(time.time())}-{token}--"
        claimed = posixpath.join(self.rules.processing, claim + fit(name, MAX_NAME - len(claim)))
        try:
            self.fs.rename(src, claimed)
        except (FileNotFoundError, FileExistsError):
            log.info("%s%s: taken by another poller, skipped", self.where, src)
            return None
        return claimed

    def _stale(self, fmt: str) -> Iterator[RawBatch]:
        """Claims older than the claim timeout, claimed again under a new time (same token)."""
        try:
            entries = self.fs.listdir(self.rules.processing)
        except FileNotFoundError:
            return
        now = time.time()
        for entry in sorted(entries, key=lambda e: e.name):
            m = _CLAIMED.match(entry.name)
            if not (m and entry.regular and fnmatch.fnmatchcase(m[3], self.rules.glob)):
                continue
            age = _age(m[1], now)
            if age < self.rules.claim_timeout_seconds:
                continue
            old = posixpath.join(self.rules.processing, entry.name)
            new = self._claim(old, m[2], m[3])
            if new is None:
                continue
            log.warning(
                "%s%s: claimed %.0fs ago and never finished (claim_timeout_seconds %g): taken again",
                self.where,
                old,
                age,
                self.rules.claim_timeout_seconds,
            )
            batch = self._download(new, entry, fmt, m[3], None)
            if batch is not None:
                yield batch

    def _download(
        self, claimed: str, entry: Entry, fmt: str, name: str, back: str | None
    ) -> RawBatch | None:
        """The claimed file's bytes (read in chunks), unless it changed meanwhile: a writer
        was still at it, so it goes back to the inbox (`back`) for a later run."""
        data = bytearray()
        with self.fs.open_read(claimed, entry.size) as f:
            while chunk := f.read(READ_CHUNK):
                data += chunk
        after = self.fs.stat(claimed)
        if after is None or (after.size, int(after.mtime)) != (entry.size, int(entry.mtime)):
            log.info("%s%s: it changed while being read, left for a later run", self.where, claimed)
            if back is not None and after is not None:
                with suppress(FileNotFoundError, FileExistsError):  # else the claim timeout
                    self.fs.rename(claimed, back)
            return None
        m = _CLAIMED.match(posixpath.basename(claimed))
        assert m is not None
        metadata = {
            "path": claimed,
            "name": name,
            "claim": f"{m[1]}-{m[2]}",
            "size": entry.size,
            "archive_dir": self.rules.archive,
            "error_dir": self.rules.error,
        }
        return RawBatch(bytes(data), name, fmt, metadata=metadata)


# -- finish --------------------------------------------------------------------------------


def finish(
    fs: DropFS, ref: dict[str, Any], ok: bool, reason: str | None, where: str = ""
) -> str | None:
    """Archive (ok) or move to error/ (with `.reason`) the file a batch was claimed from.

    Returns the file's new path, or None when there is nothing to do: `ref` is not a claim,
    or its file is gone (already finished: a second call is harmless).
    """
    if not ref.get("claim"):
        return None
    path = _current(fs, str(ref["path"]))
    if path is None:
        log.info("%s%s: already archived or moved to error/, nothing to do", where, ref["path"])
        return None
    name = str(ref["name"])
    if ok:
        day = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d")
        folder = posixpath.join(str(ref["archive_dir"]), day)
    else:
        folder = str(ref["error_dir"])
    fs.makedirs(folder)
    target = _move_unique(fs, path, folder, name)
    if target is None:
        return None
    if not ok:
        text = (reason or "failed") + "\n"
        fs.write(target + ".reason", text.encode("utf-8", "replace"))
    log.info("%s%s: %s to %s", where, path, "archived" if ok else "moved", target)
    return target


def _current(fs: DropFS, path: str) -> str | None:
    """Where the claimed file is now: `path`, or its newer claim (same token) after a
    claim timeout took it again; None when it was finished."""
    if fs.stat(path) is not None:
        return path
    folder, base = posixpath.split(path)
    m = _CLAIMED.match(base)
    if m is None:
        return None
    try:
        entries = fs.listdir(folder)
    except FileNotFoundError:
        return None
    for entry in entries:
        again = _CLAIMED.match(entry.name)
        if again and again[2] == m[2] and again[3] == m[3]:
            return posixpath.join(folder, entry.name)
    return None


def fit(name: str, budget: int = MAX_NAME) -> str:
    """`name`, or when longer than `budget` bytes its start + `~` + a hash + its extension:
    a file system refuses names over 255 bytes, and a partner's may be close to that."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= budget:
        return name
    stem, ext = posixpath.splitext(name)
    ext = ext if len(ext) <= 16 else ""
    tag = "~" + hashlib.sha256(raw).hexdigest()[:8]
    room = budget - len(tag) - len(ext.encode("utf-8", "surrogateescape"))
    short = stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return short + tag + ext


def _move_unique(fs: DropFS, path: str, folder: str, name: str) -> str | None:
    """Move `path` to `folder/name`, or `name~2`, `~3`... when taken; never overwrites."""
    stem, ext = posixpath.splitext(name)
    for n in range(1, 10_000):
        target = posixpath.join(folder, fit(name if n == 1 else f"{stem}~{n}{ext}"))
        if fs.stat(target) is not None:  # also where a server's rename would overwrite
            continue
        try:
            fs.rename(path, target)
        except FileExistsError:
            continue
        except FileNotFoundError:
            return None  # finished by someone else meanwhile
        return target
    raise ConnectorError(f"{folder}: no free name for {name!r}")


# -- deliver -------------------------------------------------------------------------------


def deliver(fs: DropFS, folder: str, name: str, data: bytes, where: str = "") -> str:
    """Put `data` into `folder/name` for a partner to take: written under a hidden
    `.name.part` first, then renamed, so a poller of that folder never reads half a file;
    an existing file of that name is never overwritten (`name~2`... instead)."""
    fs.makedirs(folder)
    part = posixpath.join(folder, f".{fit(name, MAX_NAME - 6)}.part")
    fs.write(part, data)
    target = _move_unique(fs, part, folder, name)
    if target is None:
        raise ConnectorError(f"{where}{part}: vanished before it could be renamed to {name}")
    log.info("%sdelivered %s (%d bytes)", where, target, len(data))
    return target
