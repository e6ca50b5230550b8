"""Statement layer of the loader: fetch current rows, insert and update in bulk.

`SqlWriter` uses portable executemany statements (SQLite and PostgreSQL). The loader talks
only to this interface, so the PostgreSQL fast path (COPY into a temp table, then
`INSERT ... SELECT ... ON CONFLICT`) replaces this class without touching load semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

CHUNK = 900


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
        if rows:
            conn.execute(insert(table), list(rows))

    def update(self, conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Rows carry every column; `id` selects the row."""
        if not rows:
            return
        cols = [c for c in rows[0] if c != "id"]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(f"_v_{c}") for c in cols})
        )
        params = [{"_id": r["id"], **{f"_v_{c}": r[c] for c in cols}} for r in rows]
        conn.execute(stmt, params)
