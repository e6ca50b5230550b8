"""The landing zone: every extracted batch written once, unchanged, with a manifest.

The batch id is derived from source, stream and the content's SHA-256, so extracting the
same bytes twice lands them once (and a retried task finds its batch already there).
Files are written to a temporary name and renamed, so a crash never leaves half a batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from connectors.base import RawBatch
from oms.db import project_home
from oms.errors import FatalError
from oms.models import LandedBatch, table

_t = table(LandedBatch)


def landing_root() -> Path:
    env = os.environ.get("OMSHUB_LANDING_DIR")
    return Path(env) if env else project_home() / ".omshub" / "landing"


def _safe(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return keep[:120] or "batch"


def land(engine: Engine, source: str, stream: str, batch: RawBatch, run_id: str) -> str:
    """Write `batch` once; return its batch id (existing id when already landed)."""
    checksum = hashlib.sha256(batch.content).hexdigest()
    batch_id = f"{source}.{stream}.{checksum[:20]}"
    with engine.begin() as conn:
        found = conn.execute(select(_t.c.batch_id).where(_t.c.batch_id == batch_id)).scalar()
        if found:
            return batch_id
    now = dt.datetime.now(dt.UTC)
    folder = landing_root() / source / stream / now.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{batch_id}__{_safe(batch.name)}"
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
    for target, data in (
        (path, batch.content),
        (
            path.with_name(path.name + ".manifest.json"),
            json.dumps(manifest, indent=2, sort_keys=True).encode(),
        ),
    ):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    with engine.begin() as conn:
        conn.execute(
            insert(_t).values(
                batch_id=batch_id,
                source=source,
                stream=stream,
                uri=str(path),
                original_name=batch.name,
                format=batch.format,
                size_bytes=len(batch.content),
                checksum=checksum,
                cursor_from=batch.cursor_from,
                cursor_to=batch.cursor_to,
                run_id=run_id,
                landed_at=now,
                status="landed",
            )
        )
    return batch_id


def read_landed(uri: str, checksum: str) -> bytes:
    """The landed bytes, verified against the manifest checksum."""
    try:
        content = Path(uri).read_bytes()
    except OSError as e:
        raise FatalError(f"landed batch {uri} is missing: {e.strerror}") from e
    if hashlib.sha256(content).hexdigest() != checksum:
        raise FatalError(f"landed batch {uri} does not match its checksum: it was modified")
    return content
