"""What great-expectations is asked about a mapped table: each distinct value once.

Every check of a suite is a per-value test of one column (not null, in a set, a range,
a pattern), so its verdict on a value never changes. A flat file repeats its order
columns on every line and a batch comes in chunks, so GX is given, per column, only the
values it has not judged yet in this process (all padded to one frame, one suite run);
the verdicts are kept (`_MEMO`, bounded) and every row holding a failing value is
rejected. A column checked only for nulls is judged by one value and a null.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from oms.types import normalize_decimal

if TYPE_CHECKING:
    import pandas as pd

    from transforms.validation import Check

MAX_SEEN = 2_000_000  # distinct values remembered per column before starting afresh
RunSuite = Callable[[str, list["Check"], "pd.DataFrame"], list[tuple["Check", list[int]]]]


@dataclass
class _Memo:
    seen: pa.Array | None = None
    failing: dict[str, pa.Array] = field(default_factory=dict)  # check -> failing values


_MEMO: dict[tuple[Any, ...], _Memo] = {}
_LOCK = threading.Lock()


def _numpy_view(arr: pa.Array) -> Any:
    """One column for GX: decimals as float64 (range checks), text as object, nulls kept."""
    if pa.types.is_decimal(arr.type):
        arr = pc.cast(arr, pa.float64())
    if pa.types.is_integer(arr.type) and arr.null_count:
        arr = pc.cast(arr, pa.float64())
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type):
        return arr.to_numpy(zero_copy_only=False)
    return np.array(arr.to_pylist(), dtype=object)


def _encode(col: pa.Array, null_only: bool) -> tuple[pa.Array, pa.Array]:
    """(distinct values, each row's position among them)."""
    if null_only:
        valid = pc.drop_null(col)
        sample = valid[:1] if len(valid) else pa.nulls(0, col.type)
        uniques = pa.concat_arrays([sample, pa.nulls(1, col.type)])
        return uniques, pc.cast(pc.if_else(pc.is_null(col), len(sample), 0), pa.int32())
    enc = pc.dictionary_encode(col, null_encoding="encode")
    return enc.dictionary, enc.indices


def _frame(new: dict[str, pa.Array]) -> pd.DataFrame:
    import pandas as pd  # (only a GX run needs it: `mapping test` judges without pandas)

    width = max(len(u) for u in new.values())
    data = {}
    for c, u in new.items():
        pad = width - len(u)
        data[c] = _numpy_view(u if not pad else pa.concat_arrays([u, pa.repeat(u[0], pad)]))
    return pd.DataFrame(data)


def _fresh(uniques: pa.Array, seen: pa.Array | None, null_only: bool) -> pa.Array:
    """The distinct values GX has not judged yet (for a nulls-only check: any value
    stands for every other, so only "a value" and "a null" are ever asked)."""
    if seen is None:
        return uniques
    if null_only:
        has_value, has_null = seen.null_count < len(seen), seen.null_count > 0
        valid = pc.is_valid(uniques)
        keep = pc.or_(pc.and_(valid, not has_value), pc.and_(pc.invert(valid), not has_null))
        return uniques.filter(keep)
    return uniques.filter(pc.invert(pc.is_in(uniques, value_set=seen, skip_nulls=False)))


def _rows_holding(uniques: pa.Array, codes: pa.Array, values: pa.Array) -> list[int]:
    hit = pc.indices_nonzero(pc.is_in(uniques, value_set=values, skip_nulls=False))
    if not len(hit):
        return []
    mask = pc.is_in(codes, value_set=pc.cast(hit, codes.type))
    return pc.indices_nonzero(mask).to_pylist()  # type: ignore[no-any-return]


def judge(
    entity: str, checks: list[Check], tbl: pa.Table, run_suite: RunSuite
) -> list[tuple[Check, list[int], Callable[[int], Any]]]:
    """(check, failing rows, value of a row) per failing check, in suite order.

    Verdicts are read and written under a lock: a value marked seen must have its
    verdict stored with it, whatever the threads."""
    with _LOCK:
        return list(_judge(entity, checks, tbl, run_suite))


def _judge(
    entity: str, checks: list[Check], tbl: pa.Table, run_suite: RunSuite
) -> Iterator[tuple[Check, list[int], Callable[[int], Any]]]:
    by_col: dict[str, list[Check]] = {}
    for k in checks:
        by_col.setdefault(k.column, []).append(k)
    enc: dict[str, tuple[pa.Array, pa.Array, _Memo]] = {}
    new: dict[str, pa.Array] = {}
    for c, cks in by_col.items():
        null_only = all(k.kind == "not_null" for k in cks)
        uniques, codes = _encode(tbl.column(c).combine_chunks(), null_only)
        key = (entity, c, str(uniques.type), tuple(repr(k) for k in cks))
        memo = _MEMO.setdefault(key, _Memo())
        if memo.seen is not None and len(memo.seen) > MAX_SEEN:
            memo = _MEMO[key] = _Memo()
        fresh = _fresh(uniques, memo.seen, null_only)
        if len(fresh):
            new[c] = fresh
        enc[c] = (uniques, codes, memo)
    if new:
        asked = [k for k in checks if k.column in new]
        for check, positions in run_suite(entity, asked, _frame(new)):
            vals = new[check.column]
            bad = vals.take(pa.array(sorted({p for p in positions if p < len(vals)}), pa.int64()))
            memo = enc[check.column][2]
            old = memo.failing.get(repr(check))
            memo.failing[repr(check)] = bad if old is None else pa.concat_arrays([old, bad])
        for c, vals in new.items():
            memo = enc[c][2]
            memo.seen = vals if memo.seen is None else pa.concat_arrays([memo.seen, vals])
    for check in checks:
        uniques, codes, memo = enc[check.column]
        failing = memo.failing.get(repr(check))
        if failing is None or not len(failing):
            continue
        rows = _rows_holding(uniques, codes, failing)
        if rows:
            yield check, rows, _value_of(uniques, codes)


def _value_of(uniques: pa.Array, codes: pa.Array) -> Callable[[int], Any]:
    def value(row: int) -> Any:
        v = uniques[codes[row].as_py()].as_py()
        return normalize_decimal(v) if isinstance(v, Decimal) else v

    return value
