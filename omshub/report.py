"""What the store says about itself: rows per system, and per source its runs and batches.

`stats()` is the contract of `omshub stats --json` that monitoring scripts read
(docs/operations.md has an example):

- `sources`: every configured source and every source that ever ran, each with `last_run`
  (whatever its status or trigger), `last_success` (the last run that ended `success`,
  whatever happened since) and `attention` (its `failed` and `dead` batches); `null` where
  there is none. Times are ISO 8601 in UTC.
  A source whose file does not validate is listed with its `config_error`.
- `entities` (rows per entity and system) and `last_runs` (per source and entity, the last
  run that was not a replay or retry) as before, for scripts written against them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from oms.models import BUSINESS_TABLES, Binding, LandedBatch, RunStat, SyncRun, table
from omshub.runs import run_counts

LEDGER = ("inventory_movement", "inventory_position")
#: runs that re-process chosen batches rather than sync a source
PARTIAL_TRIGGERS = ("replay", "retry", "backfill")

_sr, _rs, _lb = table(SyncRun), table(RunStat), table(LandedBatch)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC (`2026-12-02T01:04:05.123456+00:00`), or None."""
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def entity_rows(engine: Engine) -> dict[str, dict[str, int]]:
    """Rows each system knows, per entity (bindings; the ledger by writing system)."""
    b = table(Binding)
    out: dict[str, dict[str, int]] = {name: {} for name in BUSINESS_TABLES}
    with engine.connect() as conn:
        q = select(b.c.entity, b.c.system, func.count(func.distinct(b.c.canonical_id))).group_by(
            b.c.entity, b.c.system
        )
        for entity, system, n in conn.execute(q):
            out.setdefault(entity, {})[system] = int(n)
        for name in LEDGER:
            t = table(BUSINESS_TABLES[name])
            q2 = select(t.c.source_system, func.count()).group_by(t.c.source_system)
            out[name] = {str(s): int(n) for s, n in conn.execute(q2)}
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def table_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table(m))).scalar() or 0)
            for name, m in sorted(BUSINESS_TABLES.items())
        }


def _latest(conn: Connection, source: str, *cond: Any) -> Any:
    q = (
        select(_sr)
        .where(_sr.c.source == source, *cond)
        .order_by(_sr.c.started_at.desc(), _sr.c.run_id.desc())
        .limit(1)
    )
    return conn.execute(q).mappings().one_or_none()


def _run_sources(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(_sr.c.source).distinct()).scalars())


def last_runs(engine: Engine, source: str | None = None) -> list[dict[str, Any]]:
    """Per source and entity, the counts of the source's last sync run (not a replay)."""
    cols = ("extracted", "loaded", "changed", "quarantined", "stale", "failed")
    sums = [func.sum(getattr(_rs.c, c)).label(c) for c in cols]
    worst = func.min(_rs.c.status).label("worst")  # "failed" < "success"
    out = []
    with engine.connect() as conn:
        for src in _run_sources(conn):
            if source and src != source:
                continue
            run = _latest(conn, src, _sr.c.trigger.not_in(PARTIAL_TRIGGERS))
            if run is None:
                continue
            q = (
                select(_rs.c.entity, *sums, worst)
                .where(_rs.c.run_id == run["run_id"], _rs.c.entity != "*")  # "*": never parsed
                .group_by(_rs.c.entity)
                .order_by(_rs.c.entity)
            )
            for r in conn.execute(q).mappings():
                failed = r["worst"] == "failed" or run["status"] == "failed"
                out.append(
                    {
                        "source": src,
                        "entity": r["entity"],
                        **{c: int(r[c] or 0) for c in cols},
                        "status": "failed" if failed else run["status"],
                        "run_id": run["run_id"],
                    }
                )
    return out


def _run(conn: Connection, run: Any) -> dict[str, Any]:
    entities, batches = run_counts(conn, run["run_id"])
    return {
        "run_id": run["run_id"],
        "status": run["status"],
        "trigger": run["trigger"],
        "started_at": iso(run["started_at"]),
        "finished_at": iso(run["finished_at"]),
        "message": run["message"],
        "entities": entities,
        "batches": batches,
    }


def attention(engine: Engine) -> dict[str, dict[str, int]]:
    """Per source, the batches waiting for a later run or an operator: failed and dead."""
    q = (
        select(_lb.c.source, _lb.c.status, func.count())
        .where(_lb.c.status.in_(("failed", "dead")))
        .group_by(_lb.c.source, _lb.c.status)
    )
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for src, status, n in conn.execute(q):
            out.setdefault(src, {"failed": 0, "dead": 0})[status] = int(n)
    return out


def source_status(
    engine: Engine, configured: list[str], broken: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per source: its last run, its last successful run and its batches needing attention.

    `broken` (source -> message) are configured sources whose file does not validate: they
    are listed with their error, as a source that cannot run is the first thing to see.
    """
    broken = broken or {}
    waiting = attention(engine)
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for src in sorted({*configured, *broken, *_run_sources(conn), *waiting}):
            last = _latest(conn, src)
            ok = _latest(conn, src, _sr.c.status == "success")
            out[src] = {
                "configured": src in configured or src in broken,
                "config_error": broken.get(src),
                "last_run": _run(conn, last) if last is not None else None,
                "last_success": None
                if ok is None
                else {
                    "run_id": ok["run_id"],
                    "started_at": iso(ok["started_at"]),
                    "finished_at": iso(ok["finished_at"]),
                },
                "attention": waiting.get(src, {"failed": 0, "dead": 0}),
            }
    return out


def stats(engine: Engine) -> dict[str, Any]:
    from omshub.config import broken_sources, sources

    broken = {stem: str(e) for stem, e in broken_sources().items()}
    return {
        "sources": source_status(engine, sorted(sources()), broken),
        "entities": entity_rows(engine),
        "last_runs": last_runs(engine),
    }
