"""Arrow forms of the named transforms (`transforms/functions.py`, `vectorised=`).

Each takes the value column (an Arrow array) and the call's other arguments (Arrow
arrays for columns, Python values for constants) and returns the result plus the rows it
left to the per-record function. It raises `NotVectorised` for input types it does not
handle, and the whole column then runs per value.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from transforms.columnar.values import NotVectorised, VResult, ascii_guard, is_text, or_masks
from transforms.columnar.vcasts import as_decimal


def _text(arr: Any) -> pa.Array:
    """Text as `str(value)` gives it, for the types where Arrow formats the same."""
    if not isinstance(arr, pa.Array):
        raise NotVectorised
    t = arr.type
    if is_text(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_integer(t) or pa.types.is_null(t):
        return pc.cast(arr, pa.string())
    raise NotVectorised


def _const_text(*values: Any) -> None:
    if not all(isinstance(v, str) for v in values):
        raise NotVectorised


def _empty_to_null(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.nulls(len(arr), arr.type), arr)


def strip(value: Any, chars: Any = None) -> VResult:
    s = _text(value)
    if chars is None:
        out = pc.utf8_trim_whitespace(s)
    else:
        _const_text(chars)
        out = pc.utf8_trim(s, characters=chars)
    return _empty_to_null(out), ascii_guard(s)


def lstrip(value: Any, chars: Any = None) -> VResult:
    s = _text(value)
    if chars is None:
        out = pc.utf8_ltrim_whitespace(s)
    else:
        _const_text(chars)
        out = pc.utf8_ltrim(s, characters=chars)
    return _empty_to_null(out), ascii_guard(s)


def upper(value: Any) -> VResult:
    s = _text(value)
    return pc.ascii_upper(s), ascii_guard(s)


def lower(value: Any) -> VResult:
    s = _text(value)
    return pc.ascii_lower(s), ascii_guard(s)


def title(value: Any) -> VResult:
    s = _text(value)
    return pc.ascii_title(s), ascii_guard(s)


def replace(value: Any, old: Any, new: Any = "") -> VResult:
    _const_text(old, new)
    if old == "":
        raise NotVectorised  # Python inserts between every character
    return pc.replace_substring(_text(value), old, new), None


def split(value: Any, sep: Any, index: Any = 0) -> VResult:
    _const_text(sep)
    if sep == "" or not isinstance(index, int):
        raise NotVectorised
    parts = pc.split_pattern(_text(value), sep)
    n = pc.list_value_length(parts)
    pos = pc.add(n, index) if index < 0 else pa.scalar(index, pa.int64())
    inside = pc.and_(pc.greater_equal(pos, 0), pc.less(pos, n))
    flat = pc.list_flatten(parts)
    starts = pc.subtract(pc.cumulative_sum(n), n)
    at = pc.if_else(inside, pc.add(starts, pos), pa.nulls(len(n), pa.int64()))
    return pc.take(flat, at), None


def substring(value: Any, start: Any, end: Any = None) -> VResult:
    if not isinstance(start, int) or not (end is None or isinstance(end, int)):
        raise NotVectorised
    s = _text(value)
    return pc.utf8_slice_codeunits(s, start, end), ascii_guard(s)


def regex(value: Any, pattern: Any, group: Any = 1) -> VResult:
    _const_text(pattern)
    if not isinstance(group, int) or re.compile(pattern).groups < group:
        raise NotVectorised
    s = _text(value)
    try:
        hit = pc.match_substring_regex(s, pattern)
        whole = f"(?s)^.*?(?:{pattern}).*$"
        out = pc.replace_substring_regex(s, whole, f"\\{group}" if group else "\\0")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise NotVectorised from e  # a construct RE2 lacks (back-references, look-around)
    out = pc.if_else(hit, out, pa.nulls(len(s), pa.string()))
    # RE2 and Python differ on `$` before a final newline, and give "" for a group that
    # took no part: those rows go to Python
    unsure = pc.fill_null(pc.or_(pc.match_substring(s, "\n"), pc.equal(out, "")), False)
    return out, or_masks(ascii_guard(s), unsure if pc.any(unsure).as_py() else None)


def prefix(value: Any, text: Any) -> VResult:
    _const_text(text)
    return pc.binary_join_element_wise(text, _text(value), ""), None


def suffix(value: Any, text: Any) -> VResult:
    _const_text(text)
    return pc.binary_join_element_wise(_text(value), text, ""), None


def zfill(value: Any, width: Any) -> VResult:
    if not isinstance(width, int):
        raise NotVectorised
    s = _text(value)
    signed = pc.match_substring_regex(s, r"^[+-]")
    sus = or_masks(ascii_guard(s), signed if pc.any(signed).as_py() else None)
    return pc.utf8_lpad(s, width=max(width, 0), padding="0"), sus


def to_str(value: Any) -> VResult:
    return _text(value), None


def default(value: Any, fallback: Any) -> VResult:
    s = value if isinstance(value, pa.Array) else None
    if s is None or not is_text(s.type) or not isinstance(fallback, str):
        raise NotVectorised
    return pc.if_else(pc.fill_null(pc.equal(s, ""), True), fallback, s), None


def null_if(value: Any, *sentinels: Any) -> VResult:
    s = _text(value) if isinstance(value, pa.Array) and is_text(value.type) else None
    if s is None or any(isinstance(x, pa.Array) for x in sentinels):
        raise NotVectorised
    texts = [x for x in sentinels if isinstance(x, str)]
    hit = pc.is_in(s, value_set=pa.array(texts, pa.string()))
    return pc.if_else(hit, pa.nulls(len(s), pa.string()), s), None


def _columns(values: tuple[Any, ...]) -> list[pa.Array]:
    n = next((len(v) for v in values if isinstance(v, pa.Array)), None)
    if n is None:
        raise NotVectorised
    out = []
    for v in values:
        if isinstance(v, pa.Array):
            out.append(_text(v))
        elif v is None or (isinstance(v, str | int) and not isinstance(v, bool)):
            out.append(pa.array([None if v is None else str(v)] * n, pa.string()))
        else:
            raise NotVectorised
    return out


def _fold(parts: list[pa.Array], sep: str) -> pa.Array:
    """Join the non-null parts with `sep`; null where every part is null."""
    acc = parts[0]
    for p in parts[1:]:
        both = pc.binary_join_element_wise(acc, p, sep)
        acc = pc.if_else(pc.is_null(acc), p, pc.if_else(pc.is_null(p), acc, both))
    return acc


def concat(*values: Any) -> VResult:
    arrays = [v for v in values if isinstance(v, pa.Array)]
    no_nulls = arrays and all(v.null_count == 0 for v in arrays)
    if no_nulls and all(isinstance(v, pa.Array | str) for v in values):
        return pc.binary_join_element_wise(
            *[_text(v) if isinstance(v, pa.Array) else v for v in values], ""
        ), None
    return _fold(_columns(values), ""), None


def join(sep: Any, *values: Any) -> VResult:
    _const_text(sep)
    parts = [_empty_to_null(c) for c in _columns(values)]
    return _fold(parts, sep), None


def coalesce(*values: Any) -> VResult:
    cols = _columns(values)
    if any(isinstance(v, pa.Array) and not is_text(v.type) for v in values):
        raise NotVectorised  # coalesce keeps the type; only text is vectorised
    return pc.coalesce(*[_empty_to_null(c) for c in cols]), None


def _dec(value: Any) -> tuple[pa.Array, pa.Array | None]:
    if not isinstance(value, pa.Array):
        raise NotVectorised
    return as_decimal(value, commas=False)


def _const_dec(x: Any) -> Decimal:
    if isinstance(x, bool) or not isinstance(x, int | str | Decimal | float):
        raise NotVectorised
    try:
        d = Decimal(str(x).strip())
    except ArithmeticError as e:
        raise NotVectorised from e
    if not d.is_finite():
        raise NotVectorised
    return d


def multiply(value: Any, factor: Any) -> VResult:
    arr, sus = _dec(value)
    return pc.multiply_checked(arr, pa.scalar(_const_dec(factor))), sus


def divide(value: Any, divisor: Any) -> VResult:
    d = _const_dec(divisor)
    if d == 0:
        raise NotVectorised
    arr, sus = _dec(value)
    return decimal_divide(arr, pa.scalar(d)), sus


def decimal_divide(a: Any, b: Any) -> pa.Array:
    """Quotient with 8 extra digits of scale before the final half-even rounding."""
    t = a.type
    if pa.types.is_decimal(t) and t.precision + 8 <= 38:
        a = pc.cast(a, pa.decimal128(t.precision + 8, t.scale + 8))
    try:
        return pc.divide_checked(a, b)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise NotVectorised from e


def cents(value: Any) -> VResult:
    arr, sus = _dec(value)
    return pc.multiply_checked(arr, pa.scalar(Decimal("0.01"))), sus


def negate(value: Any) -> VResult:
    arr, sus = _dec(value)
    return pc.negate_checked(arr), sus


def absolute(value: Any) -> VResult:
    arr, sus = _dec(value)
    return pc.abs_checked(arr), sus


def first(value: Any) -> VResult:
    if not isinstance(value, pa.Array):
        raise NotVectorised
    if pa.types.is_list(value.type) or pa.types.is_large_list(value.type):
        n = pc.list_value_length(value)
        has = pc.fill_null(pc.greater(n, 0), False)
        flat = pc.list_flatten(value)
        starts = pc.subtract(pc.cumulative_sum(pc.fill_null(n, 0)), pc.fill_null(n, 0))
        return pc.take(flat, pc.if_else(has, starts, pa.nulls(len(n), pa.int64()))), None
    return value, None


def count(value: Any) -> VResult:
    if not isinstance(value, pa.Array):
        raise NotVectorised
    if pa.types.is_list(value.type) or pa.types.is_large_list(value.type):
        return pc.cast(pc.fill_null(pc.list_value_length(value), 0), pa.int64()), None
    return pc.cast(pc.is_valid(value), pa.int64()), None


def equals(value: Any, other: Any) -> VResult:
    if not isinstance(value, pa.Array) or not is_text(value.type) or not isinstance(other, str):
        raise NotVectorised
    return pc.fill_null(pc.equal(value, other), False), None


def if_else(condition: Any, then: Any, otherwise: Any = None) -> VResult:
    if not isinstance(condition, pa.Array):
        raise NotVectorised
    t = condition.type
    if pa.types.is_boolean(t):
        mask = pc.fill_null(condition, False)
    elif is_text(t):
        mask = pc.fill_null(pc.greater(pc.utf8_length(condition), 0), False)
    else:
        raise NotVectorised  # Python truthiness of other types: per value
    n = len(condition)
    sides = [s if isinstance(s, pa.Array) else None for s in (then, otherwise)]
    typed = next((s.type for s in sides if s is not None), None)
    try:
        a, b = (
            s if isinstance(s, pa.Array) else pa.repeat(pa.scalar(s, typed), n)
            for s in (then, otherwise)
        )
        return pc.if_else(mask, a, b), None
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise NotVectorised from e


def x12_date(value: Any) -> VResult:
    """`functions.x12_date` on a column: YYMMDD gets the century of the sliding window."""
    import datetime as dt

    from transforms.functions import X12_WINDOW_PAST

    s = pc.utf8_trim_whitespace(_text(value))
    six = pc.fill_null(pc.match_substring_regex(s, "^[0-9]{6}$"), False)
    low = dt.date.today().year - X12_WINDOW_PAST
    yy = pc.cast(pc.utf8_slice_codeunits(pc.if_else(six, s, "00"), 0, 2), pa.int64())
    year = pc.add(yy, low - low % 100)
    year = pc.if_else(pc.less(year, low), pc.add(year, 100), year)
    joined = pc.binary_join_element_wise(
        pc.cast(year, pa.string()), pc.utf8_slice_codeunits(s, 2), ""
    )
    return pc.if_else(six, joined, s), None
