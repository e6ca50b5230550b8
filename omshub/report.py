"""What the store says about itself: row counts per system and the last runs' counts.

`stats()` is the contract of `omshub stats --json` that monitoring scripts read:
`{"entities": {ENTITY: {SYSTEM: ROWS}}, "last_runs": [{source, entity, extracted, loaded,
changed, quarantined, status}]}`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from oms.models import BUSINESS_TABLES, Binding, RunStat, SyncRun, table

LEDGER = ("inventory_movement", "inventory_position")


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


def last_runs(engine: Engine, source: str | None = None) -> list[dict[str, Any]]:
    sr, rs = table(SyncRun), table(RunStat)
    with engine.connect() as conn:
        runs = conn.execute(select(sr).order_by(sr.c.started_at.desc())).mappings().all()
        latest: dict[str, Any] = {}
        for r in runs:
            if r["trigger"] != "replay" and r["source"] not in latest:
                latest[r["source"]] = r
        out = []
        for src in sorted(latest):
            if source and src != source:
                continue
            run = latest[src]
            q = (
                select(
                    rs.c.entity,
                    func.sum(rs.c.extracted),
                    func.sum(rs.c.loaded),
                    func.sum(rs.c.changed),
                    func.sum(rs.c.quarantined),
                    func.sum(rs.c.stale),
                    func.min(rs.c.status),  # "failed" < "success"
                )
                .where(rs.c.run_id == run["run_id"])
                .group_by(rs.c.entity)
                .order_by(rs.c.entity)
            )
            for entity, ex, lo, ch, qu, sta, st in conn.execute(q):
                out.append(
                    {
                        "source": src,
                        "entity": entity,
                        "extracted": int(ex or 0),
                        "loaded": int(lo or 0),
                        "changed": int(ch or 0),
                        "quarantined": int(qu or 0),
                        "stale": int(sta or 0),
                        "status": "failed"
                        if st == "failed" or run["status"] == "failed"
                        else run["status"],
                        "run_id": run["run_id"],
                    }
                )
    return out


def stats(engine: Engine) -> dict[str, Any]:
    return {"entities": entity_rows(engine), "last_runs": last_runs(engine)}
