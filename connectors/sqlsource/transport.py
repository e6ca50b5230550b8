"""The SQL source transport (`type: sql`): a table or a query read in keyset chunks.

Each chunk of `chunk_rows` rows is one NDJSON batch whose `cursor_to` is the position
after its last row (see `connectors.sqlsource.cursor`); the stream's watermark moves to
it when the batch loads, so the next run starts after the last row loaded, neither
skipping nor repeating the rows that share its cursor value. A backfill window reads
`start <= cursor < end` and carries no `cursor_to` (the watermark never moves for it).
The engine is built when a fetch starts and disposed when it ends.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.errors import ConnectorConfigError
from connectors.sqlsource import cursor, encode, query
from connectors.sqlsource.config import SqlConfig, SqlStream
from connectors.sqlsource.cursor import Position

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)


class SqlTransport:
    """Reads a table or a query of a SQL database (PostgreSQL, MySQL, SQLite)."""

    kind: ClassVar[str] = "sql"
    Config: ClassVar[type[SqlConfig]] = SqlConfig
    Stream: ClassVar[type[SqlStream]] = SqlStream

    def __init__(self, config: SqlConfig, context: TransportContext) -> None:
        self.config = config
        self.context = context

    @classmethod
    def cursor_key(cls, value: str) -> tuple[Any, ...]:
        """The order of this transport's cursors: times as times, numbers as numbers; a
        value set by hand before the rows at that value."""
        return cursor.order_key(value)

    @classmethod
    def parse_cursor(cls, value: str) -> str:
        """A cursor typed by a person (a time, a number or the JSON form), as stored."""
        return cursor.normalise(value)

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        from connectors.sqlsource.engine import create, source_url

        opts = SqlStream.coerce(request.options, request.stream)
        label = f"table:{opts.table}" if opts.table else f"query:{request.stream}"
        where = f"source {self.context.source!r} stream {request.stream!r} ({label})"
        if request.format != "ndjson":
            raise ConnectorConfigError(
                f"{where}: a sql stream's format must be ndjson (each chunk is NDJSON rows),"
                f" not {request.format!r}"
            )
        url = source_url(self.config, self.context.credentials, self.context.base)
        engine = create(url, self.config.connect_timeout_seconds)
        try:
            plan, start = _plan(request, opts, url.get_backend_name(), where)
            with self._errors(where), engine.connect() as conn:
                reader = _Reader(conn, plan, label, where)
                yield from reader.batches(start, request.window is None)
        finally:
            engine.dispose()

    @contextmanager
    def _errors(self, where: str) -> Iterator[None]:
        """Database errors as one typed line, secrets masked; the rest passes."""
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        from connectors.sqlsource.engine import describe

        creds = self.context.credentials
        try:
            yield
        except DBAPIError as e:
            raise describe(e, where, creds.secrets() if creds else []) from None
        except SQLAlchemyError as e:  # a query's unbound :name, a bad construct
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ConnectorConfigError(f"{where}: {first}") from None


def _plan(
    request: StreamRequest, opts: SqlStream, dialect: str, where: str
) -> tuple[query.Plan, Position | None]:
    """The fetch's plan and where it starts: the stored cursor, or a window's start."""
    if request.window is None:
        start = None
        if opts.cursor_column and request.cursor:
            start = _stored(request.cursor, opts, where)
        return query.Plan(opts, dialect), start
    if not opts.cursor_column:
        raise ConnectorConfigError(f"{where}: a backfill window needs a `cursor_column`")
    lo, hi = (_utc(t) for t in request.window)
    return query.Plan(opts, dialect, lo, hi), None


def _stored(text: str, opts: SqlStream, where: str) -> Position:
    """The stored cursor as a position; one whose key does not fit the tiebreak (the
    config changed) restarts at its value, inclusive: a re-read, never a gap."""
    try:
        pos = cursor.loads(text)
    except ValueError as e:
        raise ConnectorConfigError(
            f"{where}: the stored cursor {text!r} cannot be read ({e}); set it with"
            " `omshub state set` or reset it"
        ) from None
    if pos.key is not None and len(pos.key) != len(opts.tiebreak):
        log.warning(
            "%s: the stored cursor has %d key values, the tiebreak %d columns: re-reading"
            " from its value %s",
            where,
            len(pos.key),
            len(opts.tiebreak),
            pos.value,
        )
        return Position(pos.value)
    return pos


def _text(pos: Position | None) -> str | None:
    """A position as the store keeps it (a bare value stays bare)."""
    if pos is None:
        return None
    return str(pos.value) if pos.key is None else cursor.dumps(pos.value, pos.key)


def _utc(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    at = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).isoformat()


class _Reader:
    """One fetch's pages over one connection, each page in its own short transaction."""

    def __init__(self, conn: Connection, plan: query.Plan, label: str, where: str) -> None:
        self.conn = conn
        self.plan = plan
        self.opts = plan.opts
        self.label = label
        self.where = where
        self.columns: list[str] = []
        self.order_at: list[int] = []  # positions of the cursor and tiebreak in a row

    def _rows(self, stmt: Any) -> list[Sequence[Any]]:
        try:
            result = self.conn.execute(stmt)
            if not self.columns:
                self._set_columns(list(result.keys()))
            return list(result.all())
        finally:
            self.conn.rollback()  # no snapshot held while the batch is landed

    def _set_columns(self, names: list[str]) -> None:
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConnectorConfigError(f"{self.where}: columns named twice: {', '.join(dup)}")
        missing = [c for c in self.opts.order if c not in names]
        if missing:
            raise ConnectorConfigError(
                f"{self.where}: the rows have no column {', '.join(missing)} (names are"
                f" matched exactly; the rows have: {', '.join(names)})"
            )
        self.columns = names
        self.order_at = [names.index(c) for c in self.opts.order]

    def _warn_nulls(self) -> None:
        nulls = self.conn.execute(query.null_count(self.plan)).scalar() or 0
        self.conn.rollback()
        if nulls:
            log.warning(
                "%s: %d rows have a NULL in %s and are not read",
                self.where,
                nulls,
                " or ".join(self.opts.order),
            )

    def batches(self, pos: Position | None, incremental: bool) -> Iterator[RawBatch]:
        """Batches of at most `chunk_rows` rows (more only when a run of equal cursors
        without a tiebreak must be read whole), in (cursor, key...) order."""
        self._warn_nulls()
        limit, read = self.opts.chunk_rows, 0
        tracked = incremental and self.opts.cursor_column is not None
        before = _text(pos) if tracked else None
        while True:
            rows = self._rows(query.page(self.plan, pos, limit))
            if not rows:
                return
            full = len(rows) == limit
            if full and self.opts.cursor_column and not self.opts.tiebreak:
                rows = self._whole_last_group(rows)
            pos = self._position(rows[-1])
            after = _text(pos) if tracked else None
            yield RawBatch(
                encode.ndjson(self.columns, rows),
                self._name(rows, read),
                "ndjson",
                cursor_from=before,
                cursor_to=after,
                metadata=self._metadata(len(rows)),
            )
            read += len(rows)
            if not full:
                return
            before = after

    def _whole_last_group(self, rows: list[Sequence[Any]]) -> list[Sequence[Any]]:
        at = self.order_at[0]
        last, cut = rows[-1][at], len(rows)
        while cut and rows[cut - 1][at] == last:
            cut -= 1
        return rows[:cut] + self._rows(query.group(self.plan, last))

    def _position(self, row: Sequence[Any]) -> Position:
        values = [cursor.native(row[i]) for i in self.order_at]
        if not self.opts.cursor_column:
            return Position(None, tuple(values))
        value = values[0]
        if isinstance(value, str):
            try:
                cursor.parse_time(value)
            except ValueError:
                raise ConnectorConfigError(
                    f"{self.where}: cursor_column {self.opts.cursor_column!r} holds {value!r},"
                    " neither a timestamp nor a number"
                ) from None
        return Position(value, tuple(values[1:]))

    def _name(self, rows: list[Sequence[Any]], read: int) -> str:
        if self.opts.cursor_column:
            at = self.order_at[0]
            first, last = cursor.native(rows[0][at]), cursor.native(rows[-1][at])
            return f"{self.label} {self.opts.cursor_column} {first}..{last}"
        return f"{self.label} rows {read + 1}-{read + len(rows)}"

    def _metadata(self, rows: int) -> dict[str, Any]:
        what = {"table": self.opts.table} if self.opts.table else {"query": self.label}
        return {**what, "cursor_column": self.opts.cursor_column, "rows": rows}
