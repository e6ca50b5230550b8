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
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlalchemy import Connection

from oms.entities import entity_spec
from oms.load.context import LoadContext, LoadResult
from oms.load.prepare import Prepared
from oms.ownership import Ownership

if TYPE_CHECKING:
    from oms.load.ahead import ChunkBindings

__all__ = ["LoadContext", "LoadResult", "load_batch", "prepare_batch"]


def prepare_batch(tables: Mapping[str, pa.Table], system: str) -> dict[str, Prepared]:
    """What the upsert computes without the database (identity, ids, hashes, newest row
    per key), per row-kind entity; pure, so the caller may run it ahead in a thread."""
    from oms.load.prepare import prepare

    return {
        e: prepare(entity_spec(e), t, system)
        for e, t in tables.items()
        if entity_spec(e).kind != "snapshot" and t.num_rows
    }


def load_batch(
    conn: Connection,
    tables: Mapping[str, pa.Table],
    ctx: LoadContext,
    ownership: Ownership,
    prepared: Mapping[str, Prepared] | None = None,
    bindings: ChunkBindings | None = None,
) -> dict[str, LoadResult]:
    """Lock, load every entity of a mapped chunk in order, then run the post-load steps.

    Every row bucket the chunk may write is locked first, in one global order
    (`oms.rowids.lock_tables`), so concurrent batches of other sources never deadlock.
    `prepared` is `prepare_batch(tables, ctx.system)` when the caller computed it ahead,
    `bindings` the chunk's bindings read ahead (`oms.load.ahead.ChunkBindings`).
    On PostgreSQL the transaction runs without JIT: each statement is planned once per
    chunk, and compiling it cost more than running it.
    """
    from oms.load.steps import post_load
    from oms.load.stock import load_snapshot
    from oms.load.upsert import upsert
    from oms.rowids import lock_tables

    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")
    # ids are computed once: prepared (here or by the caller), locked from, then upserted
    if prepared is None:
        prepared = prepare_batch(tables, ctx.system)
    lock_tables(conn, tables, ctx.system, prepared)
    results: dict[str, LoadResult] = {}
    for entity, tbl in tables.items():
        if entity_spec(entity).kind == "snapshot":
            results[entity] = load_snapshot(conn, tbl, ctx)
        else:
            p = prepared.get(entity)
            results[entity] = upsert(conn, entity, tbl, ctx, ownership, p, bindings)
    post_load(conn, results, ctx)
    return results
