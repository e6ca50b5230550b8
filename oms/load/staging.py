"""Temporary tables the set-based upsert works on, filled in bulk.

PostgreSQL: `COPY ... FROM STDIN (FORMAT csv)` of the Arrow table written by
`pyarrow.csv` (no per-value Python), through psycopg 3's `cursor.copy` or psycopg2's
`copy_expert`. SQLite: `executemany` of values already in the store's text forms (exact
decimals as canonical text, UTC times as fixed-width text: `oms.types`), converted
column-wise in Arrow.

Tables are TEMP, so other transactions never see them; on PostgreSQL they also drop at
commit or rollback, on SQLite (where they outlive a transaction) `drop` removes them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table

from oms.errors import ConfigError

#: Arrow type -> column type of a staging column that is not a store column
_PG_TYPES = {"string": "TEXT", "int8": "SMALLINT", "int64": "BIGINT"}


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def column_ddl(conn: Connection, target: Table, tbl: pa.Table) -> str:
    """Column definitions: store columns typed as in `target`, the rest by Arrow type."""
    pg = conn.dialect.name == "postgresql"
    out = []
    for f in tbl.schema:
        if f.name in target.c:
            typ = target.c[f.name].type.compile(dialect=conn.dialect)
        elif pa.types.is_timestamp(f.type):
            typ = "TIMESTAMP WITH TIME ZONE" if pg else "TEXT"
        else:
            typ = _PG_TYPES.get(str(f.type), "TEXT") if pg else ""
        out.append(f"{quote(conn, f.name)} {typ}".rstrip())
    return ", ".join(out)


def drop(conn: Connection, name: str) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def create(conn: Connection, name: str, columns: str) -> None:
    drop(conn, name)
    tail = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ({columns}){tail}")


def stage(conn: Connection, name: str, target: Table, tbl: pa.Table) -> None:
    """Create temp table `name` shaped like `tbl` and fill it with `tbl`'s rows."""
    create(conn, name, column_ddl(conn, target, tbl))
    if tbl.num_rows == 0:
        return
    if conn.dialect.name == "postgresql":
        copy_csv(conn, name, tbl)
    else:
        insert_many(conn, name, tbl)


def _driver(conn: Connection) -> tuple[str, Any]:
    dbapi = conn.connection.driver_connection
    return conn.dialect.driver, dbapi


def copy_csv(conn: Connection, name: str, tbl: pa.Table) -> None:
    """COPY an Arrow table into `name`: quoted values, unquoted empty = NULL."""
    buf = io.BytesIO()
    opts = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pacsv.write_csv(tbl, buf, opts)
    cols = ", ".join(quote(conn, c) for c in tbl.column_names)
    sql = f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)"
    driver, dbapi = _driver(conn)
    cursor = dbapi.cursor()
    try:
        if driver == "psycopg":
            with cursor.copy(sql) as copy:
                copy.write(buf.getbuffer())
        elif driver == "psycopg2":
            buf.seek(0)
            cursor.copy_expert(sql, buf)
        else:
            raise ConfigError(
                f"PostgreSQL driver {driver!r} cannot COPY: use postgresql+psycopg:// "
                "(or postgresql+psycopg2://)"
            )
    finally:
        cursor.close()


def sqlite_values(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column in SQLite's storage form (`oms.types`): what the store compares against."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    if pa.types.is_decimal(t) and t.scale > 0:  # "1.5000" -> "1.5", "2.0000" -> "2"
        return pc.utf8_rtrim(pc.utf8_rtrim(pc.cast(col, pa.string()), "0"), ".")
    if pa.types.is_decimal(t):
        return pc.cast(col, pa.string())
    if pa.types.is_timestamp(t):
        if t.tz is None:
            col = pc.assume_timezone(col, "UTC")
        return _utc_text(col.cast(pa.timestamp("us", tz="UTC")))
    if pa.types.is_date(t):
        return pc.cast(col, pa.string())
    if pa.types.is_boolean(t):
        return pc.cast(col, pa.int64())
    return col


#: years whose ISO text is 4 digits: there Arrow's cast to text is `strftime`'s text
_FOUR_DIGIT_YEARS = (
    pa.scalar(dt.datetime(1000, 1, 1, tzinfo=dt.UTC), pa.timestamp("us", tz="UTC")),
    pa.scalar(
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), pa.timestamp("us", tz="UTC")
    ),
)


def _utc_text(col: pa.Array) -> pa.Array:
    """`2026-12-03T14:00:00.000000Z` (`oms.types.UTCDateTime`'s SQLite text) of UTC times.

    Arrow's cast to text gives the same digits with a space for the `T` at a quarter of
    `strftime`'s cost (a first load formats every staged time); years outside 1000-9999,
    where the two may differ, take `strftime`.
    """
    low, high = _FOUR_DIGIT_YEARS
    span = pc.min_max(col)
    if span["min"].is_valid and (
        pc.less(span["min"], low).as_py() or pc.greater(span["max"], high).as_py()
    ):
        return pc.strftime(col, "%Y-%m-%dT%H:%M:%SZ")
    text = pc.cast(col.cast(pa.timestamp("us")), pa.string())
    return pc.binary_join_element_wise(pc.utf8_replace_slice(text, 10, 11, "T"), "Z", "")


def insert_many(conn: Connection, name: str, tbl: pa.Table) -> None:
    cols = ", ".join(quote(conn, c) for c in tbl.column_names)
    marks = ", ".join("?" * tbl.num_columns)
    values: Sequence[list[Any]] = [sqlite_values(c).to_pylist() for c in tbl.columns]
    dbapi: Any = conn.connection.driver_connection
    dbapi.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", zip(*values, strict=True))
