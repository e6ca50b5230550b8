"""Rows as NDJSON, losslessly: what the database gave, in JSON that reads back the same.

- numbers: integers and finite floats as JSON numbers (a float's shortest repr, which
  reads back to the same double); NaN and infinities, which JSON lacks, as the strings
  `"NaN"`, `"Infinity"`, `"-Infinity"`;
- `Decimal` (NUMERIC, DECIMAL, MONEY cast to numeric) as a string, digit for digit;
- times as ISO 8601: an aware one with its offset (`2026-11-20T10:00:00+00:00`), a naive
  one (TIMESTAMP WITHOUT TIME ZONE, SQLite text) as it is, without inventing an offset;
  dates and times of day likewise; an interval as its seconds (a decimal string);
- bytes (BYTEA, BLOB) as base64; UUIDs, network addresses and other objects as text;
- arrays as JSON arrays and JSON/JSONB columns as JSON, nested values encoded alike;
- text as UTF-8 (not `\\u` escaped), NULL as null.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _default(value: Any) -> Any:
    """What `json` cannot encode by itself, as a JSON-encodable value."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.timedelta):
        micro = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return str(Decimal(micro).scaleb(-6).normalize())
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return str(value)


def _finite(value: Any) -> Any:
    """`value` with every non-finite float as its string (the slow path, rare)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else _NON_FINITE[value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default
)


def record(columns: Sequence[str], row: Sequence[Any]) -> str:
    """One row as one JSON object (no newline)."""
    doc = dict(zip(columns, row, strict=True))
    try:
        return _ENCODER.encode(doc)
    except ValueError:  # NaN or an infinity somewhere
        return _ENCODER.encode(_finite(doc))


def ndjson(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as NDJSON bytes: one object per line, each line ended by `\\n`."""
    lines = [record(columns, row) for row in rows]
    if not lines:
        return b""
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
