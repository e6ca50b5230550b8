"""How the CLI shows data: tables' cells, pages, times and `--json`, the same in every command.

Conventions (docs/cli.md): a listing's `--json` is one object whose rows are under `items`
(with `total`, `limit` and `offset` when it pages, and `invalid` for configuration files
that do not validate); a command about one thing prints that thing's object. Keys are
snake_case. Every time, in text and in JSON, is ISO 8601 in UTC with a `Z`: text to the
second (`2026-12-02T01:04:05Z`), JSON whole (`2026-12-02T01:04:05.123456Z`). Values are
shown as users wrote them: a decimal is `-5`, never `Decimal('-5')`.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from typing import Any

from rich.text import Text

from omshub.timefmt import UTC_TIME as _UTC
from omshub.timefmt import iso

__all__ = ["iso"]


def at(value: dt.datetime | str | None) -> str:
    """A time for a table or a message: `2026-12-02T01:04:05Z` (to the second); `-` if none."""
    shown = iso(value)
    if not shown:
        return "-"
    match = _UTC.match(shown)
    return f"{match[1]}T{match[2][:8]}Z" if match else shown


def shown(value: Any) -> str:
    """A value as a user wrote it: `-5`, `12.50`, a time in UTC; never a Python repr."""
    if isinstance(value, dt.datetime):
        return at(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def plain(data: Any) -> Any:
    """`data` with every time in the one ISO form and every decimal as its digits."""
    if isinstance(data, dict):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(v) for v in data]
    if isinstance(data, dt.datetime | str):
        return iso(data)
    if isinstance(data, dt.date):
        return data.isoformat()
    if isinstance(data, Decimal):
        return format(data, "f")
    return data


def dump_json(data: Any) -> None:
    """One JSON document on stdout (keys sorted, times and decimals as `plain` makes them)."""
    text = json.dumps(plain(data), default=str, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write(text + "\n")


def listing(items: list[Any], **extra: Any) -> dict[str, Any]:
    """The `--json` shape of every listing: `{"items": [...], ...extra}`."""
    return {"items": items, **extra}


def invalid(broken: dict[str, Any]) -> list[dict[str, str]]:
    """Configuration files that do not validate, as `[{"name", "message"}]` (by name)."""
    return [{"name": name, "message": str(e)} for name, e in sorted(broken.items())]


def cell(value: Any) -> Text:
    """A table cell shown as is: data ("[x]" in a file name or message) is never markup."""
    return Text("-" if value is None or value == "" else shown(value))


def page(count: int, total: int, offset: int) -> str:
    """`3 of 120 (rows 51-53)`: a page is never presented as the total."""
    if not count:
        return f"0 of {total}"
    return f"{count} of {total} (rows {offset + 1}-{offset + count})"
