"""Arrow forms of the built-in date formats (`transforms/dates.py`).

As in `vcasts`: the common shapes are parsed column-wise, everything else is a suspect
that the per-record parser converts or rejects with its own message, so a value parses
the same on both paths. Excel serials (decimal day fractions) always run per value.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from transforms.columnar.values import NotVectorised, VResult, is_text, or_masks, suspects_of
from transforms.columnar.vcasts import ARROW_ERRORS, UTC, _localize, _strip, strptime

#: the seconds Python's datetime holds (years 1 to 9999): Arrow would take more
EPOCH_RANGE = (-62_135_596_800, 253_402_300_799)
MONTHS = pa.array(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
)
RFC2822 = (
    r"^(?:[A-Za-z]{3},\s*)?(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3})\s+(?P<y>\d{4})\s+"
    r"(?P<H>[01]\d|2[0-3]):(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d))?\s+"
    r"(?P<off>[+-](?:[01]\d|2[0-3])[0-5]\d|GMT|UT|UTC|Z)$"
)


def _epoch(per_second: int) -> Callable[[pa.Array], VResult]:
    unit = "s" if per_second == 1 else "ms"

    def cast(arr: pa.Array) -> VResult:
        t = arr.type
        if pa.types.is_null(t):
            return pa.nulls(len(arr), UTC), None
        if is_text(t):
            try:
                arr = pc.cast(_strip(arr), pa.int64())
            except ARROW_ERRORS as e:
                raise NotVectorised from e  # fractions, exponents: per value
        elif not pa.types.is_integer(t):
            raise NotVectorised
        ints = pc.cast(arr, pa.int64())
        low, high = (b * per_second for b in EPOCH_RANGE)
        ok = pc.and_(pc.greater_equal(ints, low), pc.less_equal(ints, high))
        inside = pc.if_else(ok, ints, pa.nulls(len(ints), pa.int64()))
        out = pc.cast(pc.cast(inside, pa.timestamp(unit, tz="UTC")), UTC)
        return out, suspects_of(ok, arr)

    return cast


def _sap(arr: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """SAP DATS(+TIMS) text -> (naive times, parsed mask, blank mask: 00000000 or '')."""
    if not is_text(arr.type):
        raise NotVectorised
    s = pc.replace_substring(_strip(arr), " ", "")
    blank = pc.fill_null(pc.match_substring_regex(s, r"^0*$"), False)
    d8 = pc.fill_null(pc.match_substring_regex(s, r"^\d{8}$"), False)
    d14 = pc.fill_null(pc.match_substring_regex(s, r"^\d{14}$"), False)
    full = pc.if_else(d8, pc.binary_join_element_wise(s, "000000", ""), s)
    shaped = pc.and_(pc.or_(d8, d14), pc.invert(blank))
    text = pc.if_else(shaped, full, pa.nulls(len(s), pa.string()))
    parsed, same = strptime(text, "%Y%m%d%H%M%S")
    return parsed, pc.and_(shaped, same), blank


def _sap_datetime(tz: str | None) -> Callable[[pa.Array], VResult]:
    def cast(arr: pa.Array) -> VResult:
        if pa.types.is_null(arr.type):
            return pa.nulls(len(arr), UTC), None
        if tz is None:
            raise NotVectorised  # every time is naive: each value says so
        parsed, ok, blank = _sap(arr)
        out, gap = _localize(parsed, tz)
        return out, or_masks(suspects_of(pc.or_(ok, blank), arr), gap)

    return cast


def _sap_date(arr: pa.Array) -> VResult:
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.date32()), None
    parsed, ok, blank = _sap(arr)
    return pc.cast(parsed, pa.date32()), suspects_of(pc.or_(ok, blank), arr)


def _rfc2822(arr: pa.Array) -> VResult:
    """`Tue, 03 Dec 2024 10:15:00 +0100` rebuilt as ISO 8601 text, then Arrow's parse."""
    t = arr.type
    if pa.types.is_null(t):
        return pa.nulls(len(arr), UTC), None
    if not is_text(t):
        raise NotVectorised
    s = _strip(arr)
    ok = pc.fill_null(pc.match_substring_regex(s, RFC2822), False)
    good = pc.if_else(ok, s, pa.nulls(len(s), pa.string()))
    parts = pc.extract_regex(good, RFC2822)
    get = lambda name: pc.struct_field(parts, [parts.type.get_field_index(name)])  # noqa: E731
    month = pc.add(pc.index_in(pc.ascii_lower(get("mon")), value_set=MONTHS), 1)
    off = get("off")
    numeric = pc.fill_null(pc.match_substring_regex(off, r"^[+-]\d{4}$"), False)
    offset = pc.if_else(
        numeric,
        pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(off, 0, 3), pc.utf8_slice_codeunits(off, 3, 5), ":"
        ),
        "+00:00",
    )
    sec = get("S")  # an optional group that did not take part is empty text
    seconds = pc.if_else(pc.fill_null(pc.equal(sec, ""), False), "00", sec)
    iso = pc.binary_join_element_wise(
        get("y"), "-", pc.utf8_lpad(pc.cast(month, pa.string()), 2, "0"), "-",
        pc.utf8_lpad(get("d"), 2, "0"), "T", get("H"), ":", get("M"), ":", seconds, offset, "",
    )  # fmt: skip
    month_ok = pc.fill_null(pc.is_valid(month), False)
    out = pc.cast(iso, UTC)  # an impossible day (31 Feb) raises: per value for the column
    return out, suspects_of(pc.and_(ok, month_ok), arr)


def named_datetime_vector(name: str, tz: str | None) -> Callable[[pa.Array], VResult]:
    """The column form of a built-in format for a datetime field."""
    if name in ("epoch_s", "epoch_ms"):
        return _epoch(1 if name == "epoch_s" else 1000)
    if name == "sap_dats":
        return _sap_datetime(tz)
    if name == "rfc2822":
        return _rfc2822
    if name == "iso8601":
        from transforms.columnar.vcasts import datetime_vector

        return datetime_vector(None, tz)
    return _per_value


def named_date_vector(name: str) -> Callable[[pa.Array], VResult]:
    """The column form of a built-in format for a date field (SAP DATS; others per value)."""
    return _sap_date if name == "sap_dats" else _per_value


def _per_value(arr: pa.Array) -> VResult:
    raise NotVectorised
