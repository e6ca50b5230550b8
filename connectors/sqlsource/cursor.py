"""The SQL transport's cursor: where a stream's next read starts, as the store keeps it.

Two forms, both plain text:

- the transport's own, `{"value": <cursor of the last row read>, "key": [<its tiebreak
  values>]}` (JSON-native values: numbers as numbers, times as ISO 8601 text as the
  database gave them): the next read takes the rows *after* that row in (cursor, key...)
  order, so a row is never read twice, even when many share one cursor value;
- a bare value set by hand (`omshub state set`): an ISO time or a number, meaning rows
  whose cursor is `>=` it. Inclusive on purpose: re-reading the rows at the boundary is
  harmless (loads are idempotent by external id), skipping them would not be.

`cursor_key` orders both forms alike (times as times, numbers as numbers; a bare value
sorts before every row at that value), so the watermark only moves forwards.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Position:
    """A parsed cursor. `key` None: a bare value (rows with cursor >= value)."""

    value: Any
    key: tuple[Any, ...] | None = None

    @property
    def inclusive(self) -> bool:
        return self.key is None


def native(value: Any) -> Any:
    """A cursor or key value from the database as a JSON-native value (Decimal kept)."""
    if value is None or isinstance(value, bool | int | float | str | Decimal):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)  # UUID and the like: bound back as text, the database casts it


def _json(value: Any) -> str:
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)  # a JSON number, digit for digit
    return json.dumps(value if not isinstance(value, Decimal) else str(value), ensure_ascii=False)


def dumps(value: Any, key: tuple[Any, ...] | list[Any]) -> str:
    """The cursor after a row whose cursor is `value` and tiebreak values are `key`."""
    keys = ", ".join(_json(native(k)) for k in key)
    return f'{{"value": {_json(native(value))}, "key": [{keys}]}}'


def loads(text: str) -> Position:
    """A stored cursor (either form); ValueError saying what is wrong."""
    text = text.strip()
    if not text:
        raise ValueError("the cursor is empty")
    if not text.startswith("{"):
        return Position(_bare(text))
    try:
        doc = json.loads(text, parse_float=Decimal)
    except ValueError:
        raise ValueError('not JSON: expected {"value": ..., "key": [...]}') from None
    if (
        not isinstance(doc, dict)
        or set(doc) != {"value", "key"}
        or not isinstance(doc["key"], list)
    ):
        raise ValueError('expected {"value": <cursor>, "key": [<tiebreak values>]}')
    value = doc["value"]
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(f"cursor value {value!r} is neither a number nor a time")
    if isinstance(value, str):
        parse_time(value)
    return Position(value, tuple(doc["key"]))


def _bare(text: str) -> Any:
    """A hand-set value: a number (int or Decimal) or an ISO time (normalised to UTC)."""
    if _NUMBER.fullmatch(text):
        number = Decimal(text)
        return int(number) if number == number.to_integral_value() and "." not in text else number
    return parse_time(text).isoformat()


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time (or date) as an aware UTC datetime; a naive one is taken as UTC."""
    try:
        at = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a number nor an ISO 8601 time"
            " (e.g. 2026-11-20T10:00:00Z, 2026-11-20 or 1500)"
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC)


def _order(value: Any, times: bool = True) -> tuple[Any, ...]:
    """A totally ordered key for one value: numbers, then times, then text."""
    if value is None:
        return (-1,)
    if isinstance(value, bool | int | float | Decimal):
        try:
            return (0, Decimal(str(value)))
        except InvalidOperation:
            return (3, str(value))
    if times and isinstance(value, str):
        try:
            return (1, parse_time(value))
        except ValueError:
            pass
    return (2, str(value))


def order_key(text: str) -> tuple[Any, ...]:
    """How cursors sort: by value, a bare value first among equals, then by key."""
    pos = loads(text)
    if pos.key is None:
        return (_order(pos.value), 0, ())
    return (_order(pos.value), 1, tuple(_order(k, times=False) for k in pos.key))


def normalise(text: str) -> str:
    """A cursor typed by a person, in the stored form (ValueError with the reason)."""
    pos = loads(text)
    if pos.key is None:
        return pos.value if isinstance(pos.value, str) else str(pos.value)
    return dumps(pos.value, pos.key)
