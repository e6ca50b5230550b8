"""Set-based reads the upsert decides on: a batch's bindings, and old reference keys.

Bindings are read for every external id of a batch in one statement (PostgreSQL:
`external_id = ANY(array)`; SQLite: a temp table of the ids joined to `binding`), so an
unchanged row is recognised by its payload hash before anything is staged or written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Table, select

from oms.sqlutil import in_values

EXT_TABLE = "_omshub_ext"


def fetch_bindings(
    conn: Connection, system: str, entity: str, external_ids: Sequence[str]
) -> pa.Table:
    """(ext, b_cid, b_upd as UTC timestamp, b_hash) of the bound external ids."""
    ids = list(external_ids)
    dbapi: Any = conn.connection.driver_connection
    if not ids:
        rows: list[Any] = []
    elif conn.dialect.name == "postgresql":
        cur = dbapi.cursor()
        try:
            cur.execute(
                "SELECT external_id, canonical_id, source_updated_at, payload_hash FROM binding"
                " WHERE system = %s AND entity = %s AND external_id = ANY(%s)",
                (system, entity, ids),
            )
            rows = cur.fetchall()
        finally:
            cur.close()
    else:
        dbapi.execute(f"DROP TABLE IF EXISTS {EXT_TABLE}")
        dbapi.execute(f"CREATE TEMP TABLE {EXT_TABLE} (e TEXT PRIMARY KEY)")
        dbapi.executemany(f"INSERT INTO {EXT_TABLE} VALUES (?)", [(e,) for e in ids])
        rows = dbapi.execute(
            "SELECT b.external_id, b.canonical_id, b.source_updated_at, b.payload_hash"
            f" FROM {EXT_TABLE} x JOIN binding b ON b.external_id = x.e"
            " AND b.entity = ? AND b.system = ?",
            (entity, system),
        ).fetchall()
        dbapi.execute(f"DROP TABLE {EXT_TABLE}")
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
    upd = pa.array(cols[2]) if conn.dialect.name == "postgresql" else _times(cols[2])
    return pa.table(
        {
            "ext": pa.array(cols[0], pa.string()),
            "b_cid": pa.array(cols[1], pa.string()),
            "b_upd": upd.cast(pa.timestamp("us", tz="UTC")) if len(upd) else _TS_EMPTY,
            "b_hash": pa.array(cols[3], pa.string()),
        }
    )


_TS_EMPTY = pa.array([], pa.timestamp("us", tz="UTC"))


def _times(texts: Sequence[str | None]) -> pa.Array:
    """SQLite's stored UTC text (`oms.types.UTCDateTime`) as Arrow timestamps."""
    values = pd.to_datetime(pd.Series(texts, dtype=object), utc=True, format="ISO8601")
    return pa.array(values.astype("datetime64[us, UTC]"))


def old_values(
    conn: Connection, target: Table, ids: Sequence[str], columns: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """`columns` of the store rows with these ids (references keyed partly by the store)."""
    out: dict[str, tuple[Any, ...]] = {}
    cols = [target.c[c] for c in columns]
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        for row in conn.execute(
            select(target.c.id, *cols).where(in_values(conn, target.c.id, chunk))
        ):
            out[row[0]] = tuple(row[1:])
    return out
