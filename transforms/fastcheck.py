"""The entity suites judged without great-expectations, for `omshub mapping test`.

great-expectations stays the validator of record in the pipeline, but importing it costs
seconds, which a data engineer pays on every `mapping test`. Every check of a suite is a
per-value test of one column (not null, in a set, a range, a pattern), so this module gives
each distinct value of a column the verdict GX gives it, with GX's own rules: the value as
GX is shown it (`judged._numpy_view`: decimals as floats, integers with nulls as floats),
nulls passing every check but `not_null`, `str(value)` searched with the pattern, a bound
compared inclusively, a text value in a range check an error. A test runs both on the same
tables (tests/transforms/test_fastcheck.py) and on every shipped sample.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from transforms.judged import _numpy_view, _value_of

if TYPE_CHECKING:
    from transforms.validation import Check

Failing = tuple["Check", list[int], Callable[[int], Any]]


def _is_null(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def passes(check: Check, value: Any) -> bool:
    """GX's verdict on one value (as GX is shown it) for one check."""
    if _is_null(value):
        return check.kind != "not_null"
    if check.kind == "not_null":
        return True
    if check.kind == "in_set":
        return value in check.arg
    if check.kind == "regex":
        return re.search(check.arg, str(value)) is not None
    lo, hi = check.arg
    if isinstance(value, str):  # GX raises on text compared with a number: so do we
        raise RuntimeError(f"cannot compare text {value!r} with {lo}..{hi}")
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def judge_fast(entity: str, checks: list[Check], tbl: pa.Table) -> list[Failing]:
    """(check, failing rows, value of a row) per failing check, in suite order, like
    `judged.judge` returns them from a GX run."""
    out: list[Failing] = []
    encoded: dict[str, tuple[pa.Array, pa.Array, list[Any]]] = {}
    for check in checks:
        if check.column not in encoded:
            enc = pc.dictionary_encode(
                tbl.column(check.column).combine_chunks(), null_encoding="encode"
            )
            view = [v.item() if hasattr(v, "item") else v for v in _numpy_view(enc.dictionary)]
            encoded[check.column] = (enc.dictionary, enc.indices, view)
        uniques, codes, view = encoded[check.column]
        try:
            bad = [i for i, v in enumerate(view) if not passes(check, v)]
        except RuntimeError as e:
            raise RuntimeError(f"validation of {entity}.{check.column} failed to run: {e}") from e
        if not bad:
            continue
        hit = pc.is_in(codes, value_set=pa.array(bad, codes.type))
        rows: list[int] = pc.indices_nonzero(hit).to_pylist()
        if rows:
            out.append((check, rows, _value_of(uniques, codes)))
    return out
