"""The statements a SQL stream runs: keyset pages over a table or a wrapped query.

Every page is `WHERE (cursor, key...) > (:c, :k...) ORDER BY cursor, key... LIMIT :n`
(a row-value comparison on PostgreSQL, SQLite >= 3.15 and MySQL; the expanded OR form
elsewhere), so the page boundary may fall inside a run of rows sharing one cursor value
without losing or repeating any. Identifiers are quoted by SQLAlchemy and every value is
a bound parameter. Values are bound untyped, so PostgreSQL casts a stored ISO time or a
UUID to the column's type; on SQLite a stored cursor is bound exactly as it was read
(text compares as text), and a time set by hand or a window bound, whose spelling need
not match the column's, is compared through `julianday()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.sqlsource.config import RESERVED_PREFIX, SqlStream
from connectors.sqlsource.cursor import Position

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, FromClause, Select

#: dialects whose row-value comparison `(a, b) > (x, y)` is used
ROW_VALUES = ("postgresql", "sqlite", "mysql", "mariadb")


@dataclass(frozen=True)
class Plan:
    """What one fetch reads: the stream, the dialect, and a backfill window if any."""

    opts: SqlStream
    dialect: str
    start: str | None = None  # window [start, end) as ISO times in UTC
    end: str | None = None

    @property
    def sqlite(self) -> bool:
        return self.dialect == "sqlite"


def _bind(name: str, value: Any, sqlite: bool) -> Any:
    from sqlalchemy import bindparam
    from sqlalchemy.types import NullType

    if sqlite and isinstance(value, Decimal):  # sqlite3 binds no Decimal
        value = int(value) if value == value.to_integral_value() else float(value)
    return bindparam(f"{RESERVED_PREFIX}{name}", value, type_=NullType())


def _col(name: str) -> ColumnElement[Any]:
    from sqlalchemy import column

    return column(name)


def source(opts: SqlStream) -> FromClause:
    """The table, or the query as a subquery (its `params` bound)."""
    from sqlalchemy import table, text

    if opts.table is not None:
        schema, _, name = opts.table.rpartition(".")
        return table(name, schema=schema or None)
    assert opts.query is not None
    return text(opts.query).bindparams(**opts.params).columns().subquery("omshub_src")


def _select(opts: SqlStream) -> Select[Any]:
    from sqlalchemy import literal_column, select

    if opts.columns is None:
        return select(literal_column("*")).select_from(source(opts))
    wanted = [*opts.columns, *(c for c in opts.order if c not in opts.columns)]
    return select(*(_col(c) for c in wanted)).select_from(source(opts))


def _time_ge(plan: Plan, name: str, value: Any, strict_less: bool = False) -> Any:
    """`cursor >= value` (or `<` with strict_less) for a time given by a person."""
    from sqlalchemy import func

    col, bound = _col(plan.opts.cursor_column or ""), _bind(name, value, plan.sqlite)
    if plan.sqlite and isinstance(value, str):
        col, bound = func.julianday(col), func.julianday(bound)
    return col < bound if strict_less else col >= bound


def _filters(plan: Plan) -> list[Any]:
    """Rows with a NULL cursor or key are never read; a window bounds the cursor."""
    out: list[Any] = [_col(c).is_not(None) for c in plan.opts.order]
    if plan.start is not None:
        out.append(_time_ge(plan, "start", plan.start))
    if plan.end is not None:
        out.append(_time_ge(plan, "end", plan.end, strict_less=True))
    return out


def _after(plan: Plan, pos: Position) -> Any:
    """Rows after `pos` in (cursor, key...) order; a bare value: cursor >= it."""
    from sqlalchemy import and_, or_, tuple_

    if pos.key is None:
        return _time_ge(plan, "after", pos.value)
    names = plan.opts.order
    values = [pos.value, *pos.key] if plan.opts.cursor_column else list(pos.key)
    binds = [_bind(f"k{i}", v, plan.sqlite) for i, v in enumerate(values)]
    cols = [_col(c) for c in names]
    if len(cols) == 1:
        return cols[0] > binds[0]
    if plan.dialect in ROW_VALUES:
        return tuple_(*cols) > tuple_(*binds)
    clause = cols[-1] > binds[-1]
    for col, bound in zip(reversed(cols[:-1]), reversed(binds[:-1]), strict=True):
        clause = or_(col > bound, and_(col == bound, clause))
    return clause


def page(plan: Plan, pos: Position | None, limit: int) -> Select[Any]:
    """The next `limit` rows after `pos` (from the start when None), in order."""
    stmt = _select(plan.opts).where(*_filters(plan))
    if pos is not None:
        stmt = stmt.where(_after(plan, pos))
    return stmt.order_by(*(_col(c) for c in plan.opts.order)).limit(limit)


def group(plan: Plan, value: Any) -> Select[Any]:
    """Every row whose cursor is `value` (a page cut inside a run of equal cursors, when
    there is no tiebreak to cut it by)."""
    cursor = _col(plan.opts.cursor_column or "")
    return _select(plan.opts).where(*_filters(plan), cursor == _bind("group", value, plan.sqlite))


def null_count(plan: Plan) -> Select[Any]:
    """How many rows have a NULL cursor or key (they are not read: reported)."""
    from sqlalchemy import func, or_, select

    nulls = or_(*(_col(c).is_(None) for c in plan.opts.order))
    return select(func.count()).select_from(source(plan.opts)).where(nulls)
