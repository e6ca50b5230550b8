"""The quarantine: source records kept out of the store, with every reason (DESIGN.md §6).

Re-processing a batch re-judges its records: a record still bad keeps its open entry
(reasons refreshed), a record that now passes is marked `replayed` by that run, a newly
bad one is added. Nothing is deleted, so the table is the history of what was rejected.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from oms.models import Quarantine, table
from omshub.config import SourceConfig
from transforms.batch import Reason

if TYPE_CHECKING:
    from transforms.compiler import CompiledMapping

_q = table(Quarantine)


def _key(record: Any) -> str | None:
    if isinstance(record, dict):
        for k in ("id", "Id", "name", "order_number", "sku", "rma_number", "tracking_code"):
            if record.get(k) not in (None, ""):
                # a NUL byte (refused as data) must not reach a text column either
                return str(record[k]).replace("\x00", "\\x00")[:256]
    return None


def _json(record: Any) -> str:
    return json.dumps(record, default=str, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class BadEntry:
    """One rejected source record of a batch: its position, raw content and every reason."""

    index: int
    raw: Any
    reasons: list[Reason]
    #: (name, version) of the mapping that judged it, when not the batch's one mapping
    mapping: tuple[str, str | None] | None = None


def format_reason(name: str, line: int | None, reason: str) -> Reason:
    """A record the format could not read: the reason names the file and line."""
    where = f"{name}:{line}" if line is not None else name
    return Reason("*", "", "format", f"{where}: {reason}")


def record(
    conn: Connection,
    source: SourceConfig,
    stream: str,
    batch_id: str,
    run_id: str,
    mapping: CompiledMapping | None,
    bad: Sequence[BadEntry],
) -> None:
    """Write the batch's rejected records; entries of this batch that now pass are healed."""
    now = dt.datetime.now(dt.UTC)
    open_rows = {
        r.record_index: r.id
        for r in conn.execute(
            select(_q.c.id, _q.c.record_index).where(
                _q.c.batch_id == batch_id, _q.c.status == "open"
            )
        )
    }
    fresh = []
    for entry in sorted(bad, key=lambda b: b.index):
        name, version = entry.mapping or (
            (mapping.name, mapping.version) if mapping else (None, None)
        )
        payload = json.dumps([r.as_dict() for r in entry.reasons], ensure_ascii=False)
        if entry.index in open_rows:
            conn.execute(
                update(_q)
                .where(_q.c.id == open_rows[entry.index])
                .values(reasons=payload, run_id=run_id, mapping_version=version)
            )
            continue
        fresh.append(
            {
                "run_id": run_id,
                "batch_id": batch_id,
                "source": source.name,
                "system": source.system,
                "stream": stream,
                "record_index": entry.index,
                "record_key": _key(entry.raw),
                "mapping_name": name,
                "mapping_version": version,
                "raw_record": _json(entry.raw),
                "reasons": payload,
                "status": "open",
                "created_at": now,
            }
        )
    if fresh:
        conn.execute(insert(_q), fresh)
    still_bad = {b.index for b in bad}
    healed = [qid for i, qid in open_rows.items() if i not in still_bad]
    if healed:
        conn.execute(
            update(_q)
            .where(_q.c.id.in_(healed))
            .values(status="replayed", resolved_at=now, resolved_by_run=run_id)
        )


def list_entries(
    engine: Engine,
    status: str | None = "open",
    source: str | None = None,
    batch_id: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    q = select(_q).order_by(_q.c.id.desc()).limit(limit)
    if status and status != "all":
        q = q.where(_q.c.status == status)
    if source:
        q = q.where(_q.c.source == source)
    if batch_id:
        q = q.where(_q.c.batch_id == batch_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def get_entry(engine: Engine, qid: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(_q).where(_q.c.id == qid)).mappings().one_or_none()
    return dict(row) if row else None


def open_batches(
    engine: Engine, ids: list[int] | None = None, source: str | None = None
) -> list[str]:
    q = select(_q.c.batch_id).where(_q.c.status == "open").distinct()
    if ids:
        q = q.where(_q.c.id.in_(ids))
    if source:
        q = q.where(_q.c.source == source)
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(q))


STATUSES = ("open", "replayed", "dismissed")


def _where(status: str | None, source: str | None, batch_id: str | None) -> list[Any]:
    cond: list[Any] = []
    if status and status != "all":
        cond.append(_q.c.status == status)
    if source:
        cond.append(_q.c.source == source)
    if batch_id:
        cond.append(_q.c.batch_id == batch_id)
    return cond


def page_entries(
    engine: Engine,
    status: str | None = "open",
    source: str | None = None,
    batch_id: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of entries (newest first) and how many match in all: a listing shows the
    true total, never its page size as if it were the total."""
    cond = _where(status, source, batch_id)
    q = select(_q).where(*cond).order_by(_q.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(_q).where(*cond)).scalar() or 0)
        return [dict(r) for r in conn.execute(q).mappings()], total


def dismiss_batch(conn: Connection, batch_id: str, by: str, at: dt.datetime) -> int:
    """Close the open entries of a batch an operator discarded (no replay will load them)."""
    return conn.execute(
        update(_q)
        .where(_q.c.batch_id == batch_id, _q.c.status == "open")
        .values(status="dismissed", resolved_at=at, resolved_by_run=by)
    ).rowcount
