"""The batch-loader seam (DESIGN.md §4a): one call loads one mapped chunk into the store.

`load_batch(conn, tables, ctx, ownership)` takes the Arrow tables of a mapped chunk (one
per entity, in the mapping's order, shaped as `oms.arrow` says), writes them inside the
caller's transaction with every rule of DESIGN.md §4 (identity, recency, ownership,
provenance, change log), then runs the post-load steps (stock ledger, order-line
derivation), and returns one `LoadResult` per entity.

Each step is set-based SQL with one implementation for PostgreSQL and SQLite
(`oms.load.sql` holds the dialect differences); callers never branch on the dialect.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
from sqlalchemy import Connection

from oms.entities import entity_spec
from oms.loader import LoadContext, LoadResult
from oms.ownership import Ownership

__all__ = ["LoadContext", "LoadResult", "load_batch"]


def load_batch(
    conn: Connection,
    tables: Mapping[str, pa.Table],
    ctx: LoadContext,
    ownership: Ownership,
) -> dict[str, LoadResult]:
    """Lock, load every entity of a mapped chunk in order, then run the post-load steps.

    Every row bucket the chunk may write is locked first, in one global order
    (`oms.locks.lock_tables`), so concurrent batches of other sources never deadlock.
    """
    from oms.load.prepare import prepare
    from oms.load.steps import post_load
    from oms.load.stock import load_snapshot
    from oms.load.upsert import upsert
    from oms.locks import lock_tables

    # ids are computed once: prepared here, locked from, then upserted
    prepared = {
        e: prepare(entity_spec(e), t, ctx.system)
        for e, t in tables.items()
        if entity_spec(e).kind != "snapshot" and t.num_rows
    }
    lock_tables(conn, tables, ctx.system, prepared)
    results: dict[str, LoadResult] = {}
    for entity, tbl in tables.items():
        if entity_spec(entity).kind == "snapshot":
            results[entity] = load_snapshot(conn, tbl, ctx)
        else:
            p = prepared.get(entity)
            results[entity] = upsert(conn, entity, tbl, ctx, ownership, p)
    post_load(conn, results, ctx)
    return results
