"""Arrow forms of the list aggregates `sum`, `min`, `max` (`transforms/aggregate.py`).

A list column (a path that maps over an array's items) is flattened, its items grouped
by the row they came from and reduced once; a null list stays null (the per-value
transforms pass null through), an empty one sums to 0 and has no min or max. Item types
Arrow cannot reduce as the per-value function does (text, mixed) run per value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.columnar.values import NotVectorised, VResult
from transforms.columnar.vcasts import as_decimal


def _flat(value: Any) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(items, the row of each item, the rows' list validity)."""
    if not isinstance(value, pa.Array):
        raise NotVectorised
    t = value.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
        raise NotVectorised  # a single value: per value (rare, and cheap)
    return pc.list_flatten(value), pc.list_parent_indices(value), pc.is_valid(value)


def _reduce(items: pa.Array, parents: pa.Array, valid: pa.Array, fn: str, empty: Any) -> pa.Array:
    n = len(valid)
    opts = pc.ScalarAggregateOptions(skip_nulls=True, min_count=0 if fn == "sum" else 1)
    grouped = (
        pa.table({"g": pc.cast(parents, pa.int64()), "v": items})
        .group_by("g", use_threads=False)
        .aggregate([("v", fn, opts)])
    )
    where = np.full(n, -1, dtype=np.int64)
    where[grouped.column("g").to_numpy()] = np.arange(grouped.num_rows)
    result = grouped.column(f"v_{fn}").combine_chunks()
    out = pc.take(result, pa.array(where, mask=where < 0))
    if empty is not None:  # a valid list with no items
        out = pc.fill_null(out, pa.scalar(empty, result.type))
    return pc.if_else(valid, out, pa.nulls(n, result.type))


def list_sum(value: Any) -> VResult:
    items, parents, valid = _flat(value)
    dec, sus = as_decimal(items, commas=False)
    if sus is not None and pc.any(sus).as_py():
        raise NotVectorised
    if pa.types.is_string(items.type) and pc.any(pc.equal(items, "")).as_py():
        raise NotVectorised
    return _reduce(dec, parents, valid, "sum", 0), None


def _extreme(value: Any, fn: str) -> VResult:
    items, parents, valid = _flat(value)
    t = items.type
    if not (pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_null(t)):
        raise NotVectorised
    return _reduce(items, parents, valid, fn, None), None


def list_min(value: Any) -> VResult:
    return _extreme(value, "min")


def list_max(value: Any) -> VResult:
    return _extreme(value, "max")
