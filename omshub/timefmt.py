"""The one way omshub writes a time for people and scripts: ISO 8601, UTC, `Z`.

`datetime.isoformat()` writes `+00:00`, database drivers write `2026-12-02 01:04:05+00`;
what users read (CLI text, `--json`, messages) always says `2026-12-02T01:04:05Z`.
Stored values keep their own form: this is presentation only.
"""

from __future__ import annotations

import datetime as dt
import re

#: an ISO 8601 time already in UTC, as `isoformat()` or a database driver writes it
UTC_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d(?:\.\d+)?)(?:\+00:00|\+00|Z)$")


def iso(value: dt.datetime | str | None) -> str | None:
    """A time as ISO 8601 UTC with `Z` (a naive datetime is taken as UTC); None stays None.

    A string that is not a UTC time is returned as it is (a cursor need not be a time).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    match = UTC_TIME.match(value)
    return f"{match[1]}T{match[2]}Z" if match else value
