"""The landing zone: every extracted batch written once, unchanged, with a manifest.

The batch id is derived from source, stream and the content's SHA-256, so extracting the
same bytes twice lands them once (and a retried task finds its batch already there), also
when two processes land the same file at the same moment: the second insert hits the
unique key and returns the first one's id. Files are written to a temporary name unique
to the process and renamed, so a crash never leaves half a batch and two writers never
share a temporary file. A source file name of any length or charset lands under a safe
name (ASCII, at most 200 bytes); the original name is kept in the manifest and the table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from connectors.base import RawBatch
from oms.db import project_home
from oms.errors import FatalError
from oms.models import LandedBatch, table

_t = table(LandedBatch)

#: longest landed file name, manifest suffix included (file systems allow 255 bytes)
MAX_NAME_BYTES = 200
_MANIFEST = ".manifest.json"
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def landing_root() -> Path:
    env = os.environ.get("OMSHUB_LANDING_DIR")
    return Path(env) if env else project_home() / ".omshub" / "landing"


def safe_name(name: str, budget: int = 120) -> str:
    """`name` in ASCII letters, digits and `._-`, at most `budget` bytes.

    A name that had to be changed or shortened gets `~` and 8 hex digits of its SHA-256,
    so two different long names never land under one name.
    """
    keep = "".join(c if c in _SAFE_CHARS else "_" for c in name).lstrip(".") or "batch"
    if keep == name and len(keep) <= budget:
        return keep
    tag = "~" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return keep[: max(budget - len(tag), 1)] + tag


def land(engine: Engine, source: str, stream: str, batch: RawBatch, run_id: str) -> str:
    """Write `batch` once; return its batch id (existing id when already landed)."""
    checksum = hashlib.sha256(batch.content).hexdigest()
    batch_id = f"{source}.{stream}.{checksum[:20]}"
    existing = _existing(engine, source, stream, checksum)
    if existing:
        return existing
    now = dt.datetime.now(dt.UTC)
    folder = landing_root() / source / stream / now.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    budget = MAX_NAME_BYTES - len(batch_id) - 2 - len(_MANIFEST)
    path = folder / f"{batch_id}__{safe_name(batch.name, budget)}"
    manifest: dict[str, Any] = {
        "batch_id": batch_id,
        "source": source,
        "stream": stream,
        "original_name": batch.name,
        "format": batch.format,
        "size_bytes": len(batch.content),
        "sha256": checksum,
        "cursor_from": batch.cursor_from,
        "cursor_to": batch.cursor_to,
        "run_id": run_id,
        "landed_at": now.isoformat(),
        "metadata": batch.metadata,
    }
    _write(path, batch.content)
    _write(
        path.with_name(path.name + _MANIFEST),
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=str).encode(),
    )
    row = {
        "batch_id": batch_id,
        "source": source,
        "stream": stream,
        "uri": str(path),
        "original_name": batch.name,
        "format": batch.format,
        "size_bytes": len(batch.content),
        "checksum": checksum,
        "cursor_from": batch.cursor_from,
        "cursor_to": batch.cursor_to,
        "origin": json.dumps(batch.metadata, sort_keys=True, default=str)
        if batch.metadata
        else None,
        "run_id": run_id,
        "landed_at": now,
        "status": "landed",
    }
    return record_landed(engine, row)


def record_landed(engine: Engine, row: dict[str, Any]) -> str:
    """Insert the landed_batch row; when the same bytes were recorded meanwhile (another
    process landing the same file at once), keep that row and return its batch id."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(_t).values(**row))
    except IntegrityError:
        existing = _existing(engine, row["source"], row["stream"], row["checksum"])
        if not existing:
            raise
        return existing
    return str(row["batch_id"])


def _existing(engine: Engine, source: str, stream: str, checksum: str) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(
            select(_t.c.batch_id).where(
                _t.c.source == source, _t.c.stream == stream, _t.c.checksum == checksum
            )
        ).scalar()
    return str(found) if found else None


def _write(target: Path, data: bytes) -> None:
    """Write under a temporary name unique to this process, then rename atomically."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def open_landed(uri: str, checksum: str) -> Iterator[BinaryIO]:
    """The landed file, open for binary reading, verified against its checksum first.

    The SHA-256 is computed by streaming the file (1 MiB at a time), so a batch of any
    size is verified in constant memory; the file is then rewound for the reader.
    """
    try:
        f = open(uri, "rb")  # noqa: SIM115 (closed below, after the caller is done)
    except OSError as e:
        raise FatalError(f"landed batch {uri} is missing: {e.strerror}") from e
    with f:
        digest = hashlib.sha256()
        while chunk := f.read(1 << 20):
            digest.update(chunk)
        if digest.hexdigest() != checksum:
            raise FatalError(f"landed batch {uri} does not match its checksum: it was modified")
        f.seek(0)
        yield f


def read_landed(uri: str, checksum: str) -> bytes:
    """The landed bytes, verified against the manifest checksum."""
    with open_landed(uri, checksum) as f:
        return f.read()
