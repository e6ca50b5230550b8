"""The store's write floor: what merely writing a first load's rows costs the database.

After the bench's first load, the store holds exactly the rows that load had to write
(order lines, orders, bindings, ...). This copies them, server-side, into empty clones of
their tables that carry the same columns, keys and indexes, in one transaction:

    INSERT INTO floor_<t> SELECT * FROM <t> [WHERE 1]   -- every table the load wrote

No parsing, mapping, validation, look-up, diff, ownership rule, recency guard nor client
round trip is left: it is a lower bound on the time of *any* loader that writes the
canonical model's rows into this schema on this server. Dividing the lines by it gives a
ceiling in lines/s, measured in the same run as the other baselines, and the ratio of the
first load to it says how much of the load is the engine's own overhead.

The clones are regular (WAL-logged) tables, like the store's, and are dropped afterwards.
On SQLite the statement carries `WHERE 1`, which turns off SQLite's transfer optimisation
(a record-by-record copy between tables of one shape, indexes filled in key order): with
it the "floor" was 2.7x faster than inserting the rows, below anything a loader can do
(figures before 2026-12-03 evening are that optimistic floor).
"""

from __future__ import annotations

import re
import time
from typing import Any


def _pg_clone(conn: Any, table: str, clone: str) -> None:
    conn.exec_driver_sql(f"create table {clone} (like {table} including all)")


def _sqlite_clone(conn: Any, table: str, clone: str) -> None:
    """The table's and its indexes' own DDL from sqlite_master, renamed."""
    rows = conn.exec_driver_sql(
        "select type, name, sql from sqlite_master where tbl_name = ? and sql is not null "
        "order by type desc",  # the table before its indexes
        (table,),
    ).all()
    for kind, name, sql in rows:
        if kind == "table":
            ddl = re.sub(rf"^CREATE TABLE \"?{table}\"?", f"CREATE TABLE {clone}", sql, flags=re.I)
        else:
            ddl = re.sub(rf"^CREATE (UNIQUE )?INDEX \"?{name}\"?", "", sql, flags=re.I)
            ddl = re.sub(rf" ON \"?{table}\"? ", f" ON {clone} ", ddl, count=1, flags=re.I)
            unique = "UNIQUE " if sql.upper().startswith("CREATE UNIQUE") else ""
            ddl = f"CREATE {unique}INDEX floor_{name} {ddl.strip()}"
        conn.exec_driver_sql(ddl)
    # UNIQUE constraints written inline in CREATE TABLE come along with the table's DDL.


def store_floor(engine: Any, tables: dict[str, int], lines: int) -> dict[str, Any]:
    """Seconds to re-write ``tables``' rows into empty clones, and lines/s at that pace."""
    clones = {t: f"floor_{t}" for t in tables}
    clone = _pg_clone if engine.dialect.name == "postgresql" else _sqlite_clone
    try:
        with engine.begin() as conn:
            for table, name in clones.items():
                clone(conn, table, name)
                if engine.dialect.name == "postgresql":
                    _pg_fillfactor(conn, table, name)
        with engine.connect() as conn:
            started = time.perf_counter()
            # SQLite copies `INSERT INTO a SELECT * FROM b` between tables of one shape
            # record by record, indexes in key order (its transfer optimisation): 2.7x
            # faster than inserting rows (measured), so no loader could reach it. A WHERE
            # clause turns it off: every row is inserted and every index entry placed.
            where = " where 1" if engine.dialect.name == "sqlite" else ""
            for table, name in clones.items():
                conn.exec_driver_sql(f"insert into {name} select * from {table}{where}")
            conn.commit()
            seconds = time.perf_counter() - started
        return {
            "seconds": round(seconds, 3),
            "rows_per_s": round(lines / seconds),
            "rows_written": sum(tables.values()),
            "tables": dict(tables),
        }
    finally:
        with engine.begin() as conn:
            for name in clones.values():
                conn.exec_driver_sql(f"drop table if exists {name}")


def _pg_fillfactor(conn: Any, table: str, clone: str) -> None:
    """`LIKE ... INCLUDING ALL` leaves storage parameters: give the clone the table's."""
    opts = conn.exec_driver_sql(
        "select reloptions from pg_class where oid = %(t)s::regclass", {"t": table}
    ).scalar()
    for opt in opts or ():
        if opt.startswith("fillfactor="):
            conn.exec_driver_sql(f"alter table {clone} set ({opt})")


def _checkpoint(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("checkpoint")
    except DBAPIError:  # not a superuser (nor pg_checkpoint): the timing is a bit noisier
        pass


def _copy_and_time(conn: Any, table: str, clone: str, run_id: str) -> tuple[str, str]:
    """(untimed fill, timed statement) re-applying run ``run_id``'s writes to ``clone``."""
    from sqlalchemy import inspect

    if table == "change_log":  # append-only: the clone gets the earlier rows, then the run's
        fill = f"insert into {clone} select * from {table} where run_id <> :run"
        return fill, f"insert into {clone} select * from {table} where run_id = :run"
    cols = [c["name"] for c in inspect(conn).get_columns(table)]
    key = inspect(conn).get_pk_constraint(table)["constrained_columns"]
    sets = ", ".join(f"{c} = s.{c}" for c in cols if c not in key)
    on = " and ".join(f"c.{k} = s.{k}" for k in key)
    timed = f"update {clone} as c set {sets} from {table} as s where {on} and s.last_run_id = :run"
    return f"insert into {clone} select * from {table}", timed


def change_floor(engine: Any, run_id: str, tables: dict[str, int]) -> dict[str, Any]:
    """Seconds to re-apply what re-run ``run_id`` wrote, server-side, into clones of the store.

    The clones hold every row of the store (copied untimed, indexes and fill factor as the
    store's), then, timed in one transaction: an UPDATE of each row the run wrote from the
    store's own (new) values, and an INSERT of the run's change-log rows. No staging, diff,
    look-up, ownership rule nor client round trip: a lower bound on writing those changes
    into this schema, whatever engine decides them. Rows written without `last_run_id`
    are not re-applied (the counts say how many were).
    """
    from sqlalchemy import text

    clones = {t: f"floor_{t}" for t in tables}
    clone = _pg_clone if engine.dialect.name == "postgresql" else _sqlite_clone
    done: dict[str, int] = {}
    try:
        statements = {}
        with engine.begin() as conn:
            for table, name in clones.items():
                clone(conn, table, name)
                if engine.dialect.name == "postgresql":
                    _pg_fillfactor(conn, table, name)
                fill, statements[table] = _copy_and_time(conn, table, name, run_id)
                conn.execute(text(fill), {"run": run_id})
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("analyze " + ", ".join(clones.values()))
        _checkpoint(engine)  # the untimed fill's WAL is not flushed inside the timed part
        with engine.connect() as conn:
            started = time.perf_counter()
            for table, stmt in statements.items():
                done[table] = conn.execute(text(stmt), {"run": run_id}).rowcount
            conn.commit()
            seconds = time.perf_counter() - started
        return {
            "seconds": round(seconds, 3),
            "rows_written": sum(done.values()),
            "tables": done,
            "run_wrote": dict(tables),
        }
    finally:
        with engine.begin() as conn:
            for name in clones.values():
                conn.exec_driver_sql(f"drop table if exists {name}")
