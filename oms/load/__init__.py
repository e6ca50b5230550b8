"""The batch-loader seam (DESIGN.md §4a): one call loads one mapped chunk into the store.

`load_batch(conn, tables, ctx, ownership)` takes the Arrow tables of a mapped chunk (one
per entity, in the mapping's order, shaped as `oms.arrow` says), writes them inside the
caller's transaction with every rule of DESIGN.md §4 (identity, recency, ownership,
provenance, change log), then runs the post-load steps (stock ledger, order-line
derivation), and returns one `LoadResult` per entity.

Implementations live behind this function, one per backend; callers never branch on the
dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection

from oms.loader import LoadContext, LoadResult
from oms.ownership import Ownership

__all__ = ["LoadContext", "LoadResult", "load_batch"]


def _frame(tbl: pa.Table) -> pd.DataFrame:
    """Interim adapter to the per-row loader: an object frame of Python values."""
    return pd.DataFrame({c: tbl.column(c).to_pylist() for c in tbl.column_names}, dtype=object)


def load_batch(
    conn: Connection,
    tables: Mapping[str, pa.Table],
    ctx: LoadContext,
    ownership: Ownership,
) -> dict[str, LoadResult]:
    """Load every entity of a mapped chunk, then run the post-load steps."""
    from oms.derive import refresh_order_lines, touched_lines
    from oms.entities import SNAPSHOT_ENTITY
    from oms.inventory import apply_movements, apply_snapshot
    from oms.loader import Loader

    loader = Loader(ownership)
    results: dict[str, LoadResult] = {}
    line_keys: set[tuple[Any, ...]] = set()
    for entity, tbl in tables.items():
        good = _frame(tbl)
        if entity == SNAPSHOT_ENTITY:
            result = apply_snapshot(conn, good, ctx)
        else:
            result = loader.load(conn, entity, good, ctx)
        if entity == "inventory_movement":
            apply_movements(conn, result.inserted_rows, ctx)
        line_keys |= touched_lines(entity, good, result.changed_keys)
        results[entity] = result
    if line_keys:
        refresh_order_lines(conn, line_keys, ctx)
    return results
