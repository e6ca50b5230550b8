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
from collections.abc import Callable, Sequence
from decimal import Decimal
from json.encoder import encode_basestring
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


def _any(value: Any) -> str:
    """Any value as JSON text (nested values, bytes, UUIDs...): the general path."""
    try:
        return _ENCODER.encode(value)
    except ValueError:  # NaN or an infinity somewhere
        return _ENCODER.encode(_finite(value))


def _float(value: float) -> str:
    return repr(value) if math.isfinite(value) else _any(value)


#: the JSON text of a value, by the exact types a column holds
_BY_TYPES: list[tuple[frozenset[type], Callable[[Any], str]]] = [
    (frozenset({str}), encode_basestring),
    (frozenset({int}), int.__repr__),
    (frozenset({float}), _float),
    (frozenset({int, float}), lambda v: _float(v) if type(v) is float else repr(v)),
]
_TIMES = frozenset({dt.datetime, dt.date, dt.time})


def _column(values: Sequence[Any]) -> list[str]:
    """One column's values as JSON texts, by one function chosen for the whole column
    (a column's values are almost always of one type: this is what makes it fast).
    Times and Decimals are quoted inline: their text never needs escaping."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds and kinds <= _TIMES:
        return ["null" if v is None else f'"{v.isoformat()}"' for v in values]
    if kinds == {Decimal}:
        return ["null" if v is None else f'"{v}"' for v in values]
    encode = next((f for types, f in _BY_TYPES if kinds <= types), _any)
    return ["null" if v is None else encode(v) for v in values]


def ndjson(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """Rows as NDJSON bytes: one object per line, each line ended by `\\n`.

    Encoded a column at a time into texts, then each line by one `%` format of its
    row's texts: three times the speed of `json.dumps` per row, the same output.
    """
    if not rows:
        return b""
    texts = [_column(col) for col in zip(*rows, strict=True)]
    keys = (encode_basestring(str(c)).replace("%", "%%") for c in columns)
    line = "{" + ",".join(f"{k}:%s" for k in keys) + "}\n"
    return "".join([line % row for row in zip(*texts, strict=True)]).encode(
        "utf-8", "surrogatepass"
    )
