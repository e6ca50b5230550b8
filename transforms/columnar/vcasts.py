"""Arrow forms of the casts of `transforms/casts.py` (and code-list look-ups).

Each takes the common shapes (ISO text with an offset, plain decimal text, ints) and
marks every other value a suspect, which the per-record caster then converts or rejects
with its own message. So a value parses the same on both paths, or fails the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from transforms.casts import _FALSE, _TRUE
from transforms.codes import CodeList
from transforms.columnar.values import (
    NotVectorised,
    VResult,
    cached,
    is_text,
    or_masks,
    suspects_of,
)
from transforms.dates import BUILTINS

DECIMAL_TEXT = r"^[+-]?\d{1,18}(\.\d{1,12})?$"
INT_TEXT = r"^[+-]?\d{1,18}$"
ISO_AWARE = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?(Z|[+-]\d{2}:\d{2})$"
    r"|^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?[+-]\d{4}$"
)
ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?$"
UTC = pa.timestamp("us", tz="UTC")


def _strip(arr: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(arr)


FAST_DECIMALS = (pa.decimal128(18, 4), pa.decimal128(28, 10))
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError)


def _fast_decimal(arr: pa.Array) -> pa.Array | None:
    """Arrow's own parse when it takes every value (it takes no form Python refuses,
    and refuses spaces and commas: those batches go the careful way); narrowed so that
    products stay within 38 digits."""
    try:
        return pc.cast(arr, FAST_DECIMALS[0])  # the common case: money with <= 4 decimals
    except ARROW_ERRORS:
        pass
    try:
        wide = pc.cast(arr, pa.decimal128(38, 10))
    except ARROW_ERRORS:
        return None
    for t in FAST_DECIMALS:
        try:
            return pc.cast(wide, t)  # a safe cast: fails rather than lose a digit
        except ARROW_ERRORS:
            continue
    return wide


def parse_decimal(arr: pa.Array, commas: bool) -> VResult:
    """Decimal text -> decimal128 holding every value exactly; other forms are suspects."""
    fast = _fast_decimal(arr)
    if fast is not None:
        return fast, None
    s = _strip(arr)
    if commas:
        s = pc.replace_substring(s, ",", "")
    ok = pc.fill_null(pc.match_substring_regex(s, DECIMAL_TEXT), False)
    good = pc.if_else(ok, s, pa.nulls(len(s), pa.string()))
    digits = pc.utf8_length(pc.replace_substring_regex(good, r"^[+-]", ""))
    dot = pc.find_substring(good, ".")
    frac = pc.if_else(pc.greater_equal(dot, 0), pc.subtract(pc.subtract(digits, dot), 1), 0)
    scale = int(pc.max(frac).as_py() or 0)
    whole = pc.subtract(digits, pc.if_else(pc.greater_equal(dot, 0), pc.add(frac, 1), 0))
    precision = min(38, max(1, int(pc.max(whole).as_py() or 0) + scale))
    out = pc.cast(good, pa.decimal128(precision, scale))
    return out, suspects_of(ok, arr)


def as_decimal(arr: pa.Array, commas: bool) -> VResult:
    """Decimal of text, ints, decimals; floats through their shortest text (as str())."""
    return cached(arr, ("decimal", commas), lambda: _as_decimal(arr, commas))  # type: ignore[no-any-return]


def _as_decimal(arr: pa.Array, commas: bool) -> VResult:
    t = arr.type
    if pa.types.is_decimal(t):
        return arr, None
    if pa.types.is_integer(t):
        return pc.cast(arr, pa.decimal128(19, 0)), None
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.decimal128(1, 0)), None
    if pa.types.is_floating(t):
        out, sus = parse_decimal(pc.cast(arr, pa.string()), commas)
        return out, or_masks(sus, suspects_of(pc.is_finite(arr), arr))
    if is_text(t):
        return parse_decimal(arr, commas)
    raise NotVectorised


def v_decimal(arr: pa.Array) -> VResult:
    return as_decimal(arr, commas=True)


def v_string(arr: pa.Array) -> VResult:
    t = arr.type
    if is_text(t):
        return pc.cast(arr, pa.string()), None
    if pa.types.is_integer(t) or pa.types.is_null(t):
        return pc.cast(arr, pa.string()), None
    raise NotVectorised


def v_int(arr: pa.Array) -> VResult:
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_null(t):
        return pc.cast(arr, pa.int64()), None
    if not is_text(t):
        raise NotVectorised
    try:
        return pc.cast(arr, pa.int64()), None  # Arrow's parse, when it takes every value
    except ARROW_ERRORS:
        pass
    s = _strip(arr)
    ok = pc.fill_null(pc.match_substring_regex(s, INT_TEXT), False)
    good = pc.if_else(ok, pc.replace_substring_regex(s, r"^\+", ""), pa.nulls(len(s), pa.string()))
    return pc.cast(good, pa.int64()), suspects_of(ok, arr)


def v_bool(arr: pa.Array) -> VResult:
    t = arr.type
    if pa.types.is_boolean(t) or pa.types.is_null(t):
        return pc.cast(arr, pa.bool_()), None
    if not is_text(t):
        raise NotVectorised
    low = pc.ascii_lower(_strip(arr))
    yes = pc.is_in(low, value_set=pa.array(sorted(_TRUE)))
    no = pc.is_in(low, value_set=pa.array(sorted(_FALSE)))
    ok = pc.and_(pc.or_(yes, no), pc.string_is_ascii(arr))
    out = pc.if_else(ok, yes, pa.nulls(len(arr), pa.bool_()))
    return out, suspects_of(ok, arr)


def _localize(naive: pa.Array, tz: str) -> VResult:
    """Naive local times -> UTC as `datetime.replace(tzinfo=zone)` does: an ambiguous time
    takes its first occurrence; a time in a DST gap (Python keeps the earlier offset,
    Arrow cannot) is a suspect, found by a round trip."""
    if tz.upper() == "UTC":
        return pc.assume_timezone(naive, "UTC"), None
    out = pc.assume_timezone(naive, tz, ambiguous="earliest", nonexistent="earliest")
    same = pc.equal(pc.local_timestamp(out), naive)
    return out, suspects_of(same, naive)


def _careful_iso(s: pa.Array, tz: str | None) -> VResult:
    """The ISO forms this module knows, by pattern; everything else goes to Python."""
    aware = pc.fill_null(pc.match_substring_regex(s, ISO_AWARE), False)
    out = pc.cast(pc.if_else(aware, s, pa.nulls(len(s), pa.string())), UTC)
    if tz is None:
        return out, suspects_of(aware, s)
    naive = pc.fill_null(pc.match_substring_regex(s, ISO_NAIVE), False)
    text = pc.if_else(naive, s, pa.nulls(len(s), pa.string()))
    local, gap = _localize(pc.cast(text, pa.timestamp("us")), tz)
    ok = pc.or_(aware, naive) if gap is None else pc.and_(pc.or_(aware, naive), pc.invert(gap))
    return pc.if_else(naive, local, out), suspects_of(ok, s)


def strptime(arr: pa.Array, fmt: str) -> tuple[pa.Array, pa.Array]:
    """Arrow's strptime, trusted only where formatting the result gives the text back:
    it rolls 31.02 over to 02.03 and takes a 2-digit %Y, which Python refuses."""
    text = _strip(arr)
    if "%f" in fmt:
        raise NotVectorised  # Arrow formats seconds with their fraction: no round trip
    parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
    same = pc.fill_null(pc.equal(pc.strftime(parsed, format=fmt), text), False)
    return pc.cast(parsed, pa.timestamp("us")), same


def datetime_vector(fmt: str | None, tz: str | None) -> Callable[[pa.Array], VResult]:
    if fmt in BUILTINS:  # rfc2822, epoch_ms, sap_dats...
        from transforms.columnar.dates import named_datetime_vector

        return named_datetime_vector(fmt, tz)

    def cast(arr: pa.Array) -> VResult:
        t = arr.type
        if pa.types.is_timestamp(t) and t.tz:
            return pc.cast(arr, UTC), None
        if pa.types.is_null(t):
            return pa.nulls(len(arr), UTC), None
        if not is_text(t):
            raise NotVectorised
        if fmt:
            if "%z" in fmt or tz is None:
                raise NotVectorised  # offsets by format, or every value an error: per value
            parsed, ok = strptime(arr, fmt)
            out, gap = _localize(parsed, tz)
            return out, or_masks(suspects_of(ok, arr), gap)
        if tz is None:
            try:  # Arrow takes ISO times with an offset only, and parses them as Python
                return pc.cast(arr, UTC), None
            except ARROW_ERRORS:
                pass
        try:
            return _careful_iso(_strip(arr), tz)
        except ARROW_ERRORS as e:
            raise NotVectorised from e  # e.g. 2024-02-30: let each value say why

    return cast


def date_vector(fmt: str | None) -> Callable[[pa.Array], VResult]:
    if fmt in BUILTINS:
        from transforms.columnar.dates import named_date_vector

        return named_date_vector(fmt)

    def cast(arr: pa.Array) -> VResult:
        t = arr.type
        if pa.types.is_null(t):
            return pa.nulls(len(arr), pa.date32()), None
        if pa.types.is_timestamp(t) and t.tz:
            return pc.cast(pc.cast(arr, UTC), pa.date32()), None
        if not is_text(t):
            raise NotVectorised
        if fmt:
            parsed, ok = strptime(arr, fmt)
            return pc.cast(parsed, pa.date32()), suspects_of(ok, arr)
        head = pc.utf8_slice_codeunits(_strip(arr), 0, 10)
        ok = pc.fill_null(pc.match_substring_regex(head, r"^\d{4}-\d{2}-\d{2}$"), False)
        try:
            out = pc.cast(pc.if_else(ok, head, pa.nulls(len(arr), pa.string())), pa.date32())
        except pa.ArrowInvalid as e:
            raise NotVectorised from e
        return out, suspects_of(ok, arr)

    return cast


def cast_vector(type_name: str, fmt: str | None, tz: str | None) -> Callable[[pa.Array], VResult]:
    if type_name == "datetime":
        return datetime_vector(fmt, tz)
    if type_name == "date":
        return date_vector(fmt)
    return {"string": v_string, "int": v_int, "decimal": v_decimal, "bool": v_bool}[type_name]


def code_vector(cl: CodeList) -> Callable[[pa.Array], VResult]:
    """A code list as a join: distinct keys looked up once, rows gathered by index."""
    keys = list(cl.codes)
    try:
        targets = pa.array(list(cl.codes.values()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        targets = None

    key_set = pa.array(keys, pa.string())
    exact = all(k == k.strip() for k in keys)

    def lookup(arr: pa.Array) -> VResult:
        if targets is None:
            raise NotVectorised
        t = arr.type
        if pa.types.is_integer(t):
            arr = pc.cast(arr, pa.string())
        elif not is_text(t):
            raise NotVectorised
        if exact:  # a value that is a key as it stands needs no strip or lower
            idx = pc.index_in(arr, value_set=key_set)
            if not pc.any(pc.and_(pc.is_valid(arr), pc.is_null(idx))).as_py():
                return pc.take(targets, idx), None
        key = _strip(arr)
        if cl.case_insensitive:
            key = pc.ascii_lower(key)
        idx = pc.index_in(key, value_set=key_set)
        out = pc.take(targets, idx)
        ok = pc.and_(pc.is_valid(idx), pc.string_is_ascii(arr))
        return out, suspects_of(ok, arr)

    return lookup


def default_vector(fallback: Any) -> Callable[[pa.Array], VResult]:
    def fill(arr: pa.Array) -> VResult:
        if not is_text(arr.type) or not isinstance(fallback, str):
            raise NotVectorised
        empty = pc.fill_null(pc.equal(arr, ""), True)
        return pc.if_else(empty, fallback, arr), None

    return fill
