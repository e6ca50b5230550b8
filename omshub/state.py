"""Watermarks you can see and steer: show, set, reset, and the checks a backfill makes.

A stream's watermark is where its next run starts reading. It moves forward by itself in
each batch's load transaction (`omshub.watermark`); an operator moves it by hand here
(`set`, recorded as run `manual`), deletes it so the next run re-reads from the beginning
(`reset`; dedup by external id makes that safe), or re-reads a window without touching it
(`backfill`, which `omshub.pipeline.run_source` runs). Everything here validates against
the source configs first, so a typo never writes a watermark nobody reads.

No printing here: the CLI (`omshub.cli.state_cmds`) turns these results into lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from oms.errors import ConfigError
from oms.models import Watermark, table
from omshub.config import SourceConfig
from omshub.timefmt import iso

_wm = table(Watermark)
#: `cursor` of a stream whose transport orders its own cursors (`cursor_key`)
TRANSPORT = "transport"
#: `cursor` of a stream whose watermark is the newest mapped `updated_at`
UPDATED_AT = "updated_at"
#: `set_by` of a watermark written by `omshub state set`
MANUAL = "manual"
TIME_EXAMPLE = "e.g. 2026-11-20, 2026-11-20T10:00:00Z or 2026-11-20T12:00:00+02:00"


@dataclass(frozen=True)
class StreamState:
    """One stream's watermark as `state show` lists it (`configured` false: a watermark
    left by a stream or source no longer in the config; the next run ignores it)."""

    source: str
    stream: str
    watermark: str | None
    set_by: str | None  # the run that moved it last, or "manual"
    set_at: dt.datetime | None
    cursor: str  # TRANSPORT or UPDATED_AT ("-" when not configured)
    configured: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "stream": self.stream,
            "watermark": self.watermark,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat() if self.set_at else None,
            "cursor": self.cursor,
            "configured": self.configured,
        }


@dataclass(frozen=True)
class Change:
    """A watermark about to move (`new` None: deleted). `direction` is `forwards`,
    `backwards`, `unchanged`, `new` (none before) or `` when the two cannot be ordered."""

    source: str
    stream: str
    old: str | None
    new: str | None
    direction: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Backfill:
    """A validated backfill: which streams (None: all), the window [start, end)."""

    source: str
    streams: list[str] | None
    window: tuple[dt.datetime, dt.datetime]
    notes: tuple[str, ...] = field(default=())


# -- the store ---------------------------------------------------------------------------


def _stored(engine: Engine, source: str | None = None) -> dict[tuple[str, str], Any]:
    q = select(_wm).order_by(_wm.c.source, _wm.c.stream)
    if source is not None:
        q = q.where(_wm.c.source == source)
    with engine.connect() as conn:
        return {(r.source, r.stream): r for r in conn.execute(q)}


# -- the config --------------------------------------------------------------------------


def streams_of(source: str, streams: list[str] | None = None) -> tuple[SourceConfig, list[str]]:
    """The source's config and the named streams (all when None), each checked to exist.

    An unknown source or stream, or a source file that does not validate, is a
    `ConfigError` (exit 2) naming what is known."""
    from omshub.config import get_source

    src = get_source(source)
    known = [s.name for s in src.streams]
    for name in streams or ():
        if name not in known:
            raise ConfigError(
                f"source {source!r} has no stream {name!r} (its streams: {', '.join(known)})"
            )
    return src, list(dict.fromkeys(streams)) if streams else known


def transport_of(source: SourceConfig) -> type[Any]:
    from connectors.registry import transport_class

    return transport_class(source.connector.type)


def cursor_kind(source: SourceConfig) -> str:
    """TRANSPORT when the source's transport keeps its own cursor, else UPDATED_AT."""
    return TRANSPORT if hasattr(transport_of(source), "cursor_key") else UPDATED_AT


# -- show --------------------------------------------------------------------------------


def show(
    engine: Engine, source: str | None = None, stream: str | None = None
) -> tuple[list[StreamState], dict[str, str]]:
    """Every configured stream (of one source, or of all) with its watermark or None,
    then the watermarks stored for streams no longer configured; and the source files
    that do not validate (stem -> error), whose stored watermarks are listed as such."""
    from omshub.config import broken_sources, sources

    if stream is not None and source is None:
        raise ConfigError("--stream needs a SOURCE (`omshub state show SOURCE --stream S`)")
    broken = {} if source else {k: str(e) for k, e in sorted(broken_sources().items())}
    if source is not None:
        src, names = streams_of(source, [stream] if stream else None)
        configured = {source: (src, names)}
    else:
        configured = {n: (s, [st.name for st in s.streams]) for n, s in sorted(sources().items())}
    stored = _stored(engine, source)
    out: list[StreamState] = []
    for name, (src, names) in configured.items():
        kind = cursor_kind(src)
        for st in names:
            row = stored.pop((name, st), None)
            out.append(_state(name, st, row, kind))
    if stream is None:
        out += [_state(s, st, row, "-", configured=False) for (s, st), row in stored.items()]
    return out, broken


def _state(source: str, stream: str, row: Any, kind: str, configured: bool = True) -> StreamState:
    if row is None:
        return StreamState(source, stream, None, None, None, kind, configured)
    at = row.updated_at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return StreamState(source, stream, row.cursor_value, row.run_id, at, kind, configured)


# -- values ------------------------------------------------------------------------------


def parse_time(value: str, what: str = "time") -> tuple[dt.datetime, tuple[str, ...]]:
    """An ISO 8601 time as an aware UTC datetime, and notes on what was assumed: a date
    alone is midnight UTC, a time without an offset is UTC."""
    text = value.strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        at = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        return at, (f"{what} {value!r} is a date alone: taken as {iso(at)} (midnight UTC)",)
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not an ISO 8601 time ({TIME_EXAMPLE})") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
        return at, (f"{what} {value!r} has no UTC offset: taken as UTC ({iso(at)})",)
    return at.astimezone(dt.UTC), ()


def parse_value(source: SourceConfig, stream: str, value: str) -> tuple[str, tuple[str, ...]]:
    """`value` as it is stored: the transport's `parse_cursor` when it has one, else an
    ISO 8601 time normalised to UTC (`datetime.isoformat()`)."""
    cls = transport_of(source)
    parse = getattr(cls, "parse_cursor", None)
    if parse is not None:
        try:
            return str(parse(value)), ()
        except ValueError as e:
            said = "" if repr(value) in str(e) else f"{value!r} is "  # (said once)
            raise ConfigError(
                f"{source.name}/{stream}: {said}not a {source.connector.type} cursor: {e}"
            ) from None
    at, notes = parse_time(value, "watermark")
    if at > dt.datetime.now(dt.UTC):
        notes += (f"{iso(at)} is in the future: records updated before it are skipped",)
    return at.isoformat(), notes


def _order_key(source: SourceConfig) -> Callable[[str], Any]:
    key = getattr(transport_of(source), "cursor_key", None)
    if key is not None:
        return key  # type: ignore[no-any-return]
    return lambda v: parse_time(v)[0]


def direction(source: SourceConfig, old: str | None, new: str) -> str:
    """How `new` sits against `old` under the stream's ordering ("" when unreadable)."""
    if old is None:
        return "new"
    key = _order_key(source)
    try:
        a, b = key(old), key(new)
    except (ValueError, TypeError, ConfigError):
        return ""
    return "unchanged" if a == b else "forwards" if a < b else "backwards"


# -- set / reset -------------------------------------------------------------------------


def plan_set(engine: Engine, source: str, stream: str, value: str) -> Change:
    """Validate source, stream and value; what `apply_set` would change (nothing written)."""
    src, _ = streams_of(source, [stream])
    new, notes = parse_value(src, stream, value)
    row = _stored(engine, source).get((source, stream))
    old = row.cursor_value if row is not None else None
    return Change(source, stream, old, new, direction(src, old, new), notes)


def plan_reset(engine: Engine, source: str, stream: str | None = None) -> list[Change]:
    """The watermarks `apply_reset` would delete: the stream's, or every one of the source
    (those of streams no longer configured too)."""
    streams_of(source, [stream] if stream else None)
    stored = _stored(engine, source)
    return [
        Change(source, st, row.cursor_value, None, "reset")
        for (_, st), row in stored.items()
        if stream is None or st == stream
    ]


def apply_set(engine: Engine, change: Change) -> None:
    """Write a planned watermark as run `manual`, under the source's run lock (a running
    run would otherwise move it again; `SourceBusy`, exit 3, when one holds it), and only
    when it is still what the plan read (else `ConfigError`: run the command again)."""
    from oms.locks import source_run_lock

    with source_run_lock(engine, change.source, wait=False), engine.begin() as conn:
        where = (_wm.c.source == change.source, _wm.c.stream == change.stream)
        now = conn.execute(select(_wm.c.cursor_value).where(*where)).scalar()
        if now != change.old:
            raise ConfigError(
                f"the watermark of {change.source}/{change.stream} moved meanwhile"
                f" ({change.old} -> {now}): nothing written, run the command again"
            )
        conn.execute(delete(_wm).where(*where))
        if change.new is not None:
            conn.execute(
                insert(_wm).values(
                    source=change.source,
                    stream=change.stream,
                    cursor_value=change.new,
                    run_id=MANUAL,
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )


def apply_reset(engine: Engine, changes: list[Change]) -> None:
    """Delete the planned watermarks (the next run of each stream reads from the start)."""
    from oms.locks import source_run_lock

    for source in dict.fromkeys(c.source for c in changes):
        mine = [c.stream for c in changes if c.source == source]
        with source_run_lock(engine, source, wait=False), engine.begin() as conn:
            conn.execute(delete(_wm).where(_wm.c.source == source, _wm.c.stream.in_(mine)))


# -- backfill ----------------------------------------------------------------------------


def plan_backfill(source: str, streams: list[str] | None, start: str, end: str) -> Backfill:
    """Validate a backfill: the source and streams exist, both ends are ISO 8601 times and
    `start` < `end`. The transport decides whether it can re-read a window (one that
    cannot raises `ConnectorConfigError` from `fetch`)."""
    streams_of(source, streams)
    begin, notes_a = parse_time(start, "--from")
    until, notes_b = parse_time(end, "--to")
    if begin >= until:
        raise ConfigError(
            f"--from {iso(begin)} is not before --to {iso(until)}: the window is [from, to)"
        )
    return Backfill(source, streams or None, (begin, until), notes_a + notes_b)
