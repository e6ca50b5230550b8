"""Update times of records and watermarks: parsed leniently, stored as ISO 8601 UTC."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime

_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_time(value: object) -> dt.datetime:
    """An aware UTC time from an ISO 8601 string (`Z`, `+0000`, fractions, date alone),
    or an RFC 2822 one (`Tue, 20 Nov 2012 00:00:00 +0000`: BigCommerce v2, e-mail APIs).

    A naive time is taken as UTC. Raises ValueError for anything else.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text[:3].isalpha() and "," in text[:5]:  # RFC 2822 starts with the weekday
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                raise ValueError(f"{value!r} is not an RFC 2822 time") from None
        else:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            text = _OFFSET.sub(r"\1:\2", text) if "T" in text or " " in text else text
            parsed = dt.datetime.fromisoformat(text)
    else:
        raise ValueError(f"{value!r} is not an ISO 8601 time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def iso(value: dt.datetime) -> str:
    """The stored form of a cursor: ISO 8601 in UTC (`...+00:00`)."""
    return value.astimezone(dt.UTC).isoformat()


def normalise(value: str) -> str:
    """`value` in the stored form; ValueError when it is not a time."""
    return iso(parse_time(value))


def bound(value: dt.datetime, fmt: str | None) -> str:
    """A time as a request parameter: `fmt` (strftime, in UTC) or `2026-11-21T09:08:00Z`."""
    return value.astimezone(dt.UTC).strftime(fmt or "%Y-%m-%dT%H:%M:%SZ")
