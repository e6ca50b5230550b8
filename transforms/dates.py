"""Named date formats: the built-ins real payloads use, and `formats:` declared per file.

A field's `format:` is a name declared in the file's `formats:`, a built-in name, or a
strptime pattern (it has a `%`). Each built-in parses one value into a `datetime`
(aware when the text says its offset, naive otherwise: the field's `tz:` then applies,
as for patterns), or `None` for a value the format defines as empty (SAP's 00000000).
The columnar forms are in `transforms/columnar/dates.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from transforms.spec_values import NamedFormat

Parser = Callable[[Any], dt.datetime | None]
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (1900 leap-year bug included)
#: the days Excel serials may hold: 1900-01-01 .. 9999-12-31
EXCEL_DAYS = (Decimal(1), Decimal(2958465))


def _text(value: Any) -> str:
    if isinstance(value, list | dict):
        raise ValueError("got a list or object; select one value in the path")
    return str(value).strip()


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        out = value if isinstance(value, Decimal) else Decimal(_text(value))
    except InvalidOperation as e:
        raise ValueError(f"{value!r} is not a number") from e
    if not out.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return out


def parse_rfc2822(value: Any) -> dt.datetime:
    """`Tue, 03 Dec 2024 10:15:00 +0100` (e-mail, RSS, many REST APIs); `-0000` is UTC."""
    text = _text(value)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as e:
        raise ValueError(f"{value!r} is not an RFC 2822 date") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_iso8601(value: Any) -> dt.datetime:
    from transforms.casts import _iso_fix

    try:
        return dt.datetime.fromisoformat(_iso_fix(_text(value)))
    except ValueError as e:
        raise ValueError(f"{value!r} is not an ISO 8601 time") from e


def _epoch(value: Any, per_second: int) -> dt.datetime:
    seconds = _number(value) / per_second
    try:
        whole = int(seconds.to_integral_value(rounding="ROUND_FLOOR"))
        micros = int(((seconds - whole) * 1_000_000).to_integral_value())
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=whole, microseconds=micros
        )
    except OverflowError as e:
        raise ValueError(f"{value!r} is out of range") from e


def parse_epoch_s(value: Any) -> dt.datetime:
    """Unix time in seconds (fractions kept to the microsecond), always UTC."""
    return _epoch(value, 1)


def parse_epoch_ms(value: Any) -> dt.datetime:
    """Unix time in milliseconds (JavaScript, Java, many event APIs), always UTC."""
    return _epoch(value, 1000)


def parse_sap_dats(value: Any) -> dt.datetime | None:
    """SAP DATS `YYYYMMDD`, optionally followed by TIMS `HHMMSS` (`concat(DATUM, UZEIT)`,
    with or without a space); the initial date 00000000 (or blank) is no date."""
    text = _text(value).replace(" ", "")
    if not text.strip("0"):
        return None
    if len(text) not in (8, 14) or not text.isdigit():
        raise ValueError(f"{value!r} is not an SAP date (YYYYMMDD or YYYYMMDDHHMMSS)")
    return dt.datetime.strptime(text, "%Y%m%d%H%M%S" if len(text) == 14 else "%Y%m%d")


def parse_excel_serial(value: Any) -> dt.datetime:
    """Excel's serial day number (days since 1899-12-30, the fraction is the time)."""
    days = _number(value)
    if not EXCEL_DAYS[0] <= days <= EXCEL_DAYS[1]:
        raise ValueError(f"{value!r} is not an Excel serial date (1 to 2958465)")
    micros = int((days * 86_400_000_000).to_integral_value())
    return EXCEL_EPOCH + dt.timedelta(microseconds=micros)


BUILTINS: dict[str, Parser] = {
    "rfc2822": parse_rfc2822,
    "iso8601": parse_iso8601,
    "epoch_s": parse_epoch_s,
    "epoch_ms": parse_epoch_ms,
    "sap_dats": parse_sap_dats,
    "excel_serial": parse_excel_serial,
}


def builtin(fmt: str | None) -> Parser | None:
    return BUILTINS.get(fmt) if fmt else None


def resolve(
    fmt: str | None, tz: str | None, declared: Mapping[str, NamedFormat | str]
) -> tuple[str | None, str | None]:
    """A field's (format, tz) with `formats:` names replaced by what they declare.

    Raises `ValueError` for a name that is neither declared, built in nor a pattern."""
    if fmt is None:
        return None, tz
    named = declared.get(fmt)
    if named is not None:
        spec = named if isinstance(named, NamedFormat) else NamedFormat(format=named)
        if spec.format in declared:
            raise ValueError(f"format {fmt!r} names another declared format")
        inner, _ = resolve(spec.format, None, {})
        return inner, tz or spec.tz
    if fmt in BUILTINS or "%" in fmt:
        return fmt, tz
    known = ", ".join([*declared, *BUILTINS])
    raise ValueError(f"unknown date format {fmt!r} (declared and built-in: {known})")
