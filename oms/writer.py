"""Statement layer of the loader: fetch current rows, insert and update in bulk.

`SqlWriter` sends portable executemany statements (SQLite and PostgreSQL) straight to the
DBAPI cursor, with each column's bind processor applied once per value: SQLAlchemy's
per-row parameter building cost more than the database itself (bench/e2e.py). The loader
talks only to this interface, so the PostgreSQL fast path (COPY into a temp table, then
`INSERT ... SELECT ... ON CONFLICT`) replaces this class without touching load semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from oms.locks import lock_rows
from oms.sqlutil import in_values
from oms.types import Money, UTCDateTime

CHUNK = 900


def _processor(conn: Connection, column: Any) -> Callable[[Any], Any] | None:
    """The cheapest correct conversion of one column's values for the DBAPI driver.

    omshub's own types are called directly (`process_bind_param`), skipping SQLAlchemy's
    wrapper layers: on a million rows that overhead was larger than the database's work.
    """
    t = column.type
    if isinstance(t, Money | UTCDateTime):
        return partial(t.process_bind_param, dialect=conn.dialect)
    return cast(Callable[[Any], Any] | None, t.bind_processor(conn.dialect))


def _execute_many(
    conn: Connection,
    stmt: ClauseElement,
    keys: Sequence[str],
    table: Table,
    cols: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Compile once; convert column by column; hand the rows to `executemany`."""
    compiled = cast(SQLCompiler, stmt.compile(dialect=conn.dialect, column_keys=list(keys)))
    columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
    for i, name in enumerate(cols):
        proc = _processor(conn, table.c[name])
        if proc is not None:
            columns[i] = [None if v is None else proc(v) for v in columns[i]]
    if compiled.positional:
        order = [keys.index(k) for k in compiled.positiontup or ()]
        params: list[Any] = list(zip(*(columns[i] for i in order), strict=True))
    else:
        params = [dict(zip(keys, r, strict=True)) for r in zip(*columns, strict=True)]
    conn.exec_driver_sql(compiled.string, params)


def _copy_rows(
    conn: Connection, table: Table, cols: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """PostgreSQL: `COPY ... FROM STDIN` in the caller's transaction.

    executemany sends one INSERT per row (3.7k order lines/s end to end in bench/e2e.py);
    COPY streams them. No concurrent batch inserts the same key: the loader fetched the
    rows under their row locks (`oms.locks`), held until commit.
    """
    procs = [_processor(conn, table.c[c]) for c in cols]
    columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
    for i, proc in enumerate(procs):
        if proc is not None:
            columns[i] = [None if v is None else proc(v) for v in columns[i]]
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in cols)
    name = conn.dialect.identifier_preparer.format_table(table)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)


class SqlWriter:
    def fetch(
        self, conn: Connection, table: Table, ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Current rows by id, read under their row locks (`oms.locks.lock_rows`).

        The loader decides on these rows and writes them back whole: without the lock a
        concurrent batch of another source could write in between and lose its update.
        Buckets the caller locked up front are taken again at no cost.
        """
        lock_rows(conn, {table.name: ids})
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), CHUNK):
            rows = conn.execute(
                select(table).where(in_values(conn, table.c.id, ids[i : i + CHUNK]))
            )
            for row in rows.mappings():
                out[row["id"]] = dict(row)
        return out

    def insert(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows the loader knows to be new (it fetched the existing ones first)."""
        if not rows:
            return
        cols = list(rows[0])
        data = [[r[c] for c in cols] for r in rows]
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            _copy_rows(conn, table, cols, data)
        else:
            _execute_many(conn, insert(table), cols, table, cols, data)

    def update(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Rows carry every column; `id` selects the row."""
        if not rows:
            return
        cols = [c for c in rows[0] if c != "id"]
        keys = [f"v_{c}" for c in cols] + ["k_id"]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("k_id"))
            .values({c: bindparam(f"v_{c}") for c in cols})
        )
        data = [[r[c] for c in cols] + [r["id"]] for r in rows]
        _execute_many(conn, stmt, keys, table, [*cols, "id"], data)
