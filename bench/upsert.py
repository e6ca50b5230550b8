"""Bare staged-upsert baseline: the plain keyed write omshub's loader is judged against.

Same CSV as bench/baseline.py, into a table keyed by (order_number, line_no), with no
bindings, ownership, recency, provenance nor change log, so the gap to omshub is the
price of those guarantees plus the mapping:

* PostgreSQL: in one transaction, ``COPY`` the parsed rows into a temporary table, then
  ``INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE (t.*) IS DISTINCT FROM (excluded.*)``
  (an unchanged row writes nothing);
* SQLite: ``executemany`` of the same upsert (``WHERE (…) IS NOT (excluded.…)``), WAL.

Each pass is timed from the first write to the commit; parsing the CSV is not included
(``read_seconds``), as in bench/baseline.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
from baseline import COLUMNS, PG_DDL, SQLITE_DDL, TABLE, _read_rows
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

KEY = ("order_number", "line_no")
VALUES = tuple(c for c in COLUMNS if c not in KEY)
KEYED = f"{TABLE}_keyed"
STAGE = f"{TABLE}_stage"


def _keyed_ddl(ddl: str) -> str:
    """The baseline table's DDL, renamed and with the primary key on (order_number, line_no)."""
    body = ddl.rstrip().removesuffix(")")
    return body.replace(f"create table {TABLE}", f"create table {KEYED}") + (
        f",\n    primary key ({', '.join(KEY)})\n)"
    )


def _pg_pass(conn: psycopg.Connection, rows: list[list[str]]) -> tuple[float, int]:
    """One staged upsert; (seconds, rows inserted or updated)."""
    cols = ", ".join(COLUMNS)
    sets = ", ".join(f"{c} = excluded.{c}" for c in VALUES)
    changed = f"({', '.join(f'{KEYED}.{c}' for c in COLUMNS)})"
    new = f"({', '.join(f'excluded.{c}' for c in COLUMNS)})"
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(f"create temp table {STAGE} (like {KEYED}) on commit drop")
        with cur.copy(f"copy {STAGE} ({cols}) from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            f"insert into {KEYED} ({cols}) select {cols} from {STAGE} "
            f"on conflict ({', '.join(KEY)}) do update set {sets} "
            f"where {changed} is distinct from {new}"
        )
        written = cur.rowcount
    conn.commit()
    return time.perf_counter() - started, written


def _sqlite_pass(conn: Any, rows: list[list[str]]) -> tuple[float, int]:
    """One executemany upsert; (seconds, rows inserted or updated)."""
    sets = ", ".join(f"{c} = excluded.{c}" for c in VALUES)
    mine = ", ".join(f"{KEYED}.{c}" for c in VALUES)
    theirs = ", ".join(f"excluded.{c}" for c in VALUES)
    sql = (
        f"insert into {KEYED} ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))}) "
        f"on conflict ({', '.join(KEY)}) do update set {sets} where ({mine}) is not ({theirs})"
    )
    before = conn.total_changes
    started = time.perf_counter()
    conn.executemany(sql, rows)
    conn.commit()
    return time.perf_counter() - started, conn.total_changes - before


def staged_upsert(url: str, passes: dict[str, Path]) -> dict[str, Any]:
    """Upsert each CSV of ``passes`` (label -> file, in order) into one fresh keyed table.

    Returns ``{label: {rows, seconds, rows_per_s, read_seconds, rows_written}}`` plus ``path``; with
    ``{"new": a, "unchanged": a, "changed10": b}`` the three passes mirror the load bench's
    first load, no-change re-run and 10%-changed re-run.
    """
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        url = make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)
    engine = create_engine(url, poolclass=NullPool)
    raw = engine.raw_connection()
    out: dict[str, Any] = {
        "path": "COPY -> temp table -> INSERT ON CONFLICT"
        if backend == "postgresql"
        else "executemany upsert"
    }
    try:
        conn = raw.driver_connection
        assert conn is not None
        ddl = _keyed_ddl(PG_DDL if backend == "postgresql" else SQLITE_DDL)
        if backend == "sqlite":
            conn.execute("pragma journal_mode=wal")
        conn.execute(f"drop table if exists {KEYED}")
        conn.execute(ddl)
        conn.commit()
        for label, csv_path in passes.items():
            started = time.perf_counter()
            rows = _read_rows(csv_path)
            read_s = time.perf_counter() - started
            seconds, written = (_pg_pass if backend == "postgresql" else _sqlite_pass)(conn, rows)
            out[label] = {
                "rows": len(rows),
                "seconds": round(seconds, 3),
                "rows_per_s": round(len(rows) / seconds) if seconds > 0 else None,
                "read_seconds": round(read_s, 3),
                "rows_written": written,
            }
            del rows
        counted = conn.execute(f"select count(*) from {KEYED}").fetchone()
        conn.commit()
    finally:
        raw.close()
        engine.dispose()
    out["table_rows"] = counted[0] if counted else 0
    return out
