"""Statement layer of the loader: fetch current rows, insert and update in bulk.

`SqlWriter` sends portable executemany statements (SQLite and PostgreSQL) straight to the
DBAPI cursor, with each column's bind processor applied once per value: SQLAlchemy's
per-row parameter building cost more than the database itself (bench/e2e.py). The loader
talks only to this interface, so the PostgreSQL fast path (COPY into a temp table, then
`INSERT ... SELECT ... ON CONFLICT`) replaces this class without touching load semantics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

CHUNK = 900


def _processors(
    conn: Connection, table: Table, cols: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    return [table.c[c].type.bind_processor(conn.dialect) for c in cols]


def _execute_many(
    conn: Connection,
    stmt: ClauseElement,
    keys: Sequence[str],
    table: Table,
    cols: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Compile once; hand DBAPI-ready parameter rows to `executemany`."""
    compiled = cast(SQLCompiler, stmt.compile(dialect=conn.dialect, column_keys=list(keys)))
    procs = _processors(conn, table, cols)
    converted = []
    for row in rows:
        converted.append(
            [
                p(v) if p is not None and v is not None else v
                for p, v in zip(procs, row, strict=True)
            ]
        )
    if compiled.positional:
        order = [keys.index(k) for k in compiled.positiontup or ()]
        params: list[Any] = [tuple(r[i] for i in order) for r in converted]
    else:
        params = [dict(zip(keys, r, strict=True)) for r in converted]
    conn.exec_driver_sql(compiled.string, params)


class SqlWriter:
    def fetch(
        self, conn: Connection, table: Table, ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), CHUNK):
            rows = conn.execute(select(table).where(table.c.id.in_(ids[i : i + CHUNK])))
            for row in rows.mappings():
                out[row["id"]] = dict(row)
        return out

    def insert(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        _execute_many(conn, insert(table), cols, table, cols, [[r[c] for c in cols] for r in rows])

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
