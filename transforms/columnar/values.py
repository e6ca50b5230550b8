"""Columns in flight: Arrow arrays when typed, Python lists otherwise, plus row errors.

`Col` is what a path, expression or step yields for every row of a level. A vectorised
operation returns its result and the rows it is unsure of (`suspects`); those rows are
run again through the per-record function, which gives the value or the exact error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Col: TypeAlias = pa.Array | list[Any]
Errs: TypeAlias = dict[int, str]  # row -> message of the first error of that row
VResult: TypeAlias = tuple[pa.Array, pa.Array | None]  # (values, suspect mask or None)
CAUGHT = (ValueError, TypeError, ArithmeticError)
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


_CACHE: ContextVar[dict[tuple[int, Any], tuple[Any, Any]] | None] = ContextVar(
    "omshub_columnar_cache", default=None
)


def cached(key_obj: Any, tag: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once per (object, tag) while a mapping runs (`caching`): the same source
    column read by two entities, or parsed by a field and an expression, is parsed once."""
    cache = _CACHE.get()
    if cache is None:
        return compute()
    key = (id(key_obj), tag)
    hit = cache.get(key)
    if hit is not None and hit[0] is key_obj:
        return hit[1]
    value = compute()
    cache[key] = (key_obj, value)  # keeps key_obj alive, so its id is not reused
    return value


class caching:  # a context manager, used as `with caching():`
    """The scope of `cached`: one application of a mapping (per thread or task)."""

    def __enter__(self) -> None:
        self.token = _CACHE.set({})

    def __exit__(self, *exc: object) -> None:
        _CACHE.reset(self.token)


class NotVectorised(Exception):
    """This operation has no Arrow form for these input types: run it per value."""


@dataclass(frozen=True)
class Lit:
    """A constant of an expression or a transform argument (broadcast when needed)."""

    value: Any


def arrow(col: Col | Lit, n: int) -> pa.Array | None:
    """The column as one Arrow array, or None when its Python values have no one type."""
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks()
    if isinstance(col, pa.Array):
        return col
    values = [col.value] * n if isinstance(col, Lit) else col
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return None


def py(col: Col | Lit, n: int) -> list[Any]:
    if isinstance(col, Lit):
        return [col.value] * n
    if isinstance(col, pa.Array | pa.ChunkedArray):
        return col.to_pylist()
    return col


def nulls(n: int) -> pa.Array:
    return pa.nulls(n)


def is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def suspects_of(ok: pa.Array, arr: pa.Array) -> pa.Array | None:
    """Rows with a value that the fast form did not take."""
    sus = pc.and_(pc.invert(pc.fill_null(ok, False)), pc.is_valid(arr))
    return sus if pc.any(sus).as_py() else None


def ascii_guard(arr: pa.Array) -> pa.Array | None:
    """Non-ASCII text: Python and Arrow case/whitespace rules may differ; run per value."""
    ok = pc.string_is_ascii(arr)
    return suspects_of(ok, arr)


def or_masks(a: pa.Array | None, b: pa.Array | None) -> pa.Array | None:
    if a is None:
        return b
    if b is None:
        return a
    return pc.or_(a, b)


def scalar_rows(
    fn: Callable[..., Any],
    args: Sequence[list[Any]],
    rows: Sequence[int],
    passthrough: bool,
) -> tuple[list[Any], Errs]:
    """The per-record function on `rows` (positions in `args`); errors by position."""
    out: list[Any] = []
    errs: Errs = {}
    for i in rows:
        vals = [a[i] for a in args]
        if passthrough and vals and vals[0] is None:
            out.append(None)
            continue
        try:
            out.append(fn(*vals))
        except CAUGHT as e:
            out.append(None)
            errs[i] = str(e)
    return out, errs


def patch(result: pa.Array, mask: pa.Array, values: list[Any]) -> Col:
    """`result` with the masked rows replaced by `values` (Python) in row order."""
    try:
        repl = pa.array(values, type=result.type)
        return pc.replace_with_mask(result, mask, repl)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        out = result.to_pylist()
        for i, v in zip(np.flatnonzero(mask.to_numpy(zero_copy_only=False)), values, strict=True):
            out[int(i)] = v
        return out


def run_op(
    vector: Callable[..., VResult] | None,
    scalar: Callable[..., Any],
    args: Sequence[Col | Lit],
    n: int,
    passthrough: bool,
) -> tuple[Col, Errs]:
    """One operation over columns: Arrow first, then per value where it must."""
    if vector is not None and args and not isinstance(args[0], Lit):
        first = arrow(args[0], n)
        if first is not None:
            vargs = [first, *(a.value if isinstance(a, Lit) else arrow(a, n) for a in args[1:])]
            if all(v is not None for v in vargs[1:]):
                try:
                    out, sus = vector(*vargs)
                except (NotVectorised, *ARROW_ERRORS):
                    pass  # no Arrow form for these values: each goes through Python
                else:
                    if sus is None:
                        return out, {}
                    rows = np.flatnonzero(sus.to_numpy(zero_copy_only=False)).tolist()
                    pyargs = [vargs[0].take(pa.array(rows, pa.int64())).to_pylist()]
                    for a in vargs[1:]:
                        pyargs.append(
                            a.take(pa.array(rows, pa.int64())).to_pylist()
                            if isinstance(a, pa.Array)
                            else [a] * len(rows)
                        )
                    vals, errs = scalar_rows(scalar, pyargs, range(len(rows)), passthrough)
                    return patch(out, sus, vals), {rows[i]: m for i, m in errs.items()}
    pyargs = [py(a, n) for a in args]
    return scalar_rows(scalar, pyargs, range(n), passthrough)


def null_where(col: Col, rows: Sequence[int], n: int) -> Col:
    """`col` with the given rows set to null (rows whose expression failed)."""
    if not rows:
        return col
    if isinstance(col, pa.Array):
        mask = np.zeros(n, dtype=bool)
        mask[list(rows)] = True
        return pc.if_else(pa.array(mask), pa.nulls(n, col.type), col)
    out = list(col)
    for r in rows:
        out[r] = None
    return out


def broadcast(col: Col | Lit, n: int) -> Col:
    if not isinstance(col, Lit):
        return col
    if col.value is None:
        return pa.nulls(n)
    try:
        return pa.repeat(pa.scalar(col.value), n)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        pass
    arr = arrow(col, n)
    return arr if arr is not None else [col.value] * n
