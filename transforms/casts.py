"""Type conversions of mapped values: exact money, UTC times, strict ints and bools.

Each caster raises `ValueError` with a message for the quarantine reason; the compiler
catches it per value, so one bad value rejects its record, not the batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms.dates import builtin

Caster = Callable[[Any], Any]
TYPES = ("string", "int", "decimal", "bool", "datetime", "date")

_TRUE = {"true", "t", "yes", "y", "1", "x"}
_FALSE = {"false", "f", "no", "n", "0", ""}


def _reject_list(value: Any) -> None:
    if isinstance(value, list | dict):
        kind = f"a list of {len(value)} values" if isinstance(value, list) else "an object"
        raise ValueError(f"got {kind}; select one with [0] or [KEY=VALUE] in the path")


def to_string(value: Any) -> str:
    _reject_list(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_decimal(value: Any) -> Decimal:
    _reject_list(value)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        out = value
    else:
        try:
            out = Decimal(
                str(value).strip().replace(",", "") if isinstance(value, str) else str(value)
            )
        except InvalidOperation as e:
            raise ValueError(f"{value!r} is not a decimal number") from e
    if not out.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return out


def to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    dec = to_decimal(value)
    if dec != dec.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    return int(dec)


def to_bool(value: Any) -> bool:
    _reject_list(value)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean (true/false/yes/no/1/0)")


def datetime_caster(fmt: str | None, tz: str | None) -> Caster:
    """Parse ISO 8601 (or `fmt`); aware times go to UTC; naive ones need `tz`."""
    zone: dt.tzinfo | None = None
    if tz:
        try:
            zone = dt.UTC if tz.upper() == "UTC" else ZoneInfo(tz)
        except ZoneInfoNotFoundError as e:
            raise ValueError(f"unknown time zone {tz!r}") from e

    named = builtin(fmt)

    def cast(value: Any) -> dt.datetime | None:
        _reject_list(value)
        if isinstance(value, dt.datetime):
            parsed = value
        elif named is not None:  # rfc2822, epoch_ms, sap_dats...: transforms/dates.py
            got = named(value)
            if got is None:
                return None
            parsed = got
        else:
            text = str(value).strip()
            try:
                if fmt:
                    parsed = dt.datetime.strptime(text, fmt)
                else:
                    parsed = dt.datetime.fromisoformat(_iso_fix(text))
            except ValueError as e:
                want = fmt or "ISO 8601"
                raise ValueError(f"{value!r} is not a datetime ({want})") from e
        if parsed.tzinfo is None:
            if zone is None:
                raise ValueError(f"{value!r} has no time zone; set `tz:` on the field")
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(dt.UTC)

    return cast


def _iso_fix(text: str) -> str:
    """Accept the offsets real systems send: `Z`, `+0000` (Salesforce), `+00`."""
    if text.endswith(("Z", "z")):
        return text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
        return f"{text[:-2]}:{text[-2:]}"
    return text


def date_caster(fmt: str | None) -> Caster:
    named = builtin(fmt)

    def cast(value: Any) -> dt.date | None:
        _reject_list(value)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if named is not None:  # the date of the time in its own offset (or naive)
            got = named(value)
            return None if got is None else got.date()
        text = str(value).strip()
        try:
            if fmt:
                return dt.datetime.strptime(text, fmt).date()
            return dt.date.fromisoformat(text[:10])
        except ValueError as e:
            raise ValueError(f"{value!r} is not a date ({fmt or 'YYYY-MM-DD'})") from e

    return cast


def caster(type_name: str, fmt: str | None = None, tz: str | None = None) -> Caster:
    if type_name == "datetime":
        return datetime_caster(fmt, tz)
    if type_name == "date":
        return date_caster(fmt)
    return {"string": to_string, "int": to_int, "decimal": to_decimal, "bool": to_bool}[type_name]
