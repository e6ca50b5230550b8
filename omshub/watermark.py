"""The watermark per (source, stream): advanced only inside the batch's load transaction.

It is the newest `_updated_at` among the rows a batch loaded, as the mapping computed it
(the mapping's `updated_at:`), so the raw records are never read twice and the watermark
means exactly what the recency guard compares. `updated_at:` is any field form: a nested
path, an expression, a `coalesce:` chain, or `pick: max` over a list (the newest of an
order's lines), and every entity's rows count (children included).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, insert, select, update

from oms.models import Watermark, table
from transforms.casts import datetime_caster
from transforms.paths import compile_path

log = logging.getLogger("omshub.pipeline")
_wm = table(Watermark)
_cast = datetime_caster(None, "UTC")


def newest_mapped(tables: Mapping[str, pa.Table]) -> dt.datetime | None:
    """The newest mapped `_updated_at` of the rows about to load (None when none has one)."""
    best: dt.datetime | None = None
    for tbl in tables.values():
        if tbl.num_rows and "_updated_at" in tbl.column_names:
            value = pc.max(tbl["_updated_at"]).as_py()
            best = later(best, value)
    return best


def newest(records: Iterable[Any], cursor_field: str | None) -> dt.datetime | None:
    """The newest raw cursor value among `records` (ignoring records without a usable one).

    `cursor_field` is a mapping path (`updated_at`, `meta.changed_at`, `lines.updated_at`:
    a list gives its newest item). Kept for callers outside the load path; the load path
    uses `newest_mapped`."""
    if not cursor_field:
        return None
    get = compile_path(cursor_field)
    best: dt.datetime | None = None
    for rec in records:
        raw = get(rec, ())
        for item in raw if isinstance(raw, list) else [raw]:
            if item in (None, ""):
                continue
            try:
                value: dt.datetime = _cast(item)
            except ValueError:
                continue
            best = later(best, value)
    return best


def later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def advance(
    conn: Connection, source: str, stream: str, best: dt.datetime | None, run_id: str
) -> None:
    """Move the watermark forward to the time `best` (never backwards)."""
    if best is not None:
        advance_to(conn, source, stream, best.isoformat(), run_id, time_key)


def time_key(value: str) -> tuple[Any, ...]:
    """Order of watermarks that are times (the mapped `updated_at`)."""
    return (_cursor_time(value),)


def advance_to(
    conn: Connection,
    source: str,
    stream: str,
    value: str,
    run_id: str,
    key: Callable[[str], tuple[Any, ...]] = time_key,
) -> None:
    """Move the watermark to `value` when it is past the stored one under `key`.

    A stored value that `key` cannot read (set by hand, or by another transport before
    the source changed) counts as the oldest, so it is replaced.
    """
    now = dt.datetime.now(dt.UTC)
    current = conn.execute(
        select(_wm.c.cursor_value).where(_wm.c.source == source, _wm.c.stream == stream)
    ).scalar()
    if current is None:
        conn.execute(
            insert(_wm).values(
                source=source, stream=stream, cursor_value=value, run_id=run_id, updated_at=now
            )
        )
    elif _older(current, value, key):
        conn.execute(
            update(_wm)
            .where(_wm.c.source == source, _wm.c.stream == stream)
            .values(cursor_value=value, run_id=run_id, updated_at=now)
        )


def _older(current: str, value: str, key: Callable[[str], tuple[Any, ...]]) -> bool:
    try:
        old = key(current)
    except (ValueError, TypeError):
        log.warning("watermark %r cannot be read; replacing it with %r", current, value)
        return True
    return bool(old < key(value))


def _cursor_time(value: str) -> dt.datetime:
    """A stored cursor as a time; one set by hand that is not a time counts as the oldest."""
    try:
        parsed: dt.datetime = _cast(value)
        return parsed
    except ValueError:
        log.warning("watermark %r is not an ISO time; replacing it", value)
        return dt.datetime.min.replace(tzinfo=dt.UTC)
