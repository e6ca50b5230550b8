"""Set-based reads the upsert decides on: a batch's bindings, and old reference keys.

Bindings are read for every external id of a batch in one statement (PostgreSQL: a temp
table of the ids and their positions, filled by COPY, joined to `binding`; SQLite:
`json_each` of one JSON array), so an unchanged row is recognised by its payload hash
before anything is staged or written. The rows come back as ONE text value, CSV built by
the database (`string_agg`/`group_concat`) and parsed by Arrow: no Python object per
binding, and each names its id by position, not by the id's text.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table, select

from oms.sqlutil import in_values

EXT_TABLE = "_omshub_ext"


def bindings_at(conn: Connection, system: str, entity: str, ext: pa.Array) -> pa.Table:
    """(b_cid, b_upd as UTC timestamp, b_hash) of each external id in `ext`, position by
    position; nulls where the id is not bound.

    The database answers with each bound id's POSITION in `ext` (an integer, where the id
    itself would need quoting), so the client neither parses the ids back nor looks them
    up: the answer is scattered into place.
    """
    if isinstance(ext, pa.ChunkedArray):
        ext = ext.combine_chunks()
    if len(ext) == 0:
        return at_positions(_parse(None), 0)
    if conn.dialect.name == "postgresql":
        return at_positions(_pg_bindings(conn, system, entity, ext), len(ext))
    # SQLite: the ids as one JSON array parameter, unnested by json_each (its `key` is the
    # position); the rows come back as one CSV text (`group_concat`), parsed by Arrow
    fields = ("b.canonical_id", "b.source_updated_at", "b.payload_hash")
    line = " || ',' || ".join(["x.key", *(_csv_field(f) for f in fields)])
    dbapi: Any = conn.connection.driver_connection
    (csv_text,) = dbapi.execute(
        f"SELECT group_concat({line}, char(10))"
        " FROM json_each(?) x JOIN binding b ON b.external_id = x.value"
        " AND b.entity = ? AND b.system = ?",
        (json.dumps(ext.to_pylist()), entity, system),
    ).fetchone()
    out = _parse(csv_text, pa.string())
    out = out.set_column(2, "b_upd", _times(out.column("b_upd").to_pylist()))
    return at_positions(out, len(ext))


def at_positions(found: pa.Table, n: int) -> pa.Table:
    """`found` (n, b_cid, b_upd, b_hash) scattered to positions 0..n-1, nulls elsewhere
    (also how `oms.load.ahead` puts a chunk's re-read rows in place)."""
    where = np.full(n, -1, dtype=np.int64)
    where[found.column("n").to_numpy()] = np.arange(found.num_rows)
    take = pa.array(where, mask=where < 0)
    return pa.table({c: found.column(c).take(take) for c in ("b_cid", "b_upd", "b_hash")})


_TS_EMPTY = pa.array([], pa.timestamp("us", tz="UTC"))


def _times(texts: Sequence[str | None]) -> pa.Array:
    """SQLite's stored UTC text (`oms.types.UTCDateTime`) as Arrow timestamps."""
    if not texts:
        return _TS_EMPTY
    values = pd.to_datetime(pd.Series(texts, dtype=object), utc=True, format="ISO8601")
    return pa.array(values.astype("datetime64[us, UTC]"))


def _csv_field(expr: str) -> str:
    """A text expression as one CSV field: quoted, or empty (bare) for NULL."""
    return f"""COALESCE('"' || replace({expr}, '"', '""') || '"', '')"""


def _pg_bindings(conn: Connection, system: str, entity: str, ext: pa.Array) -> pa.Table:
    """PostgreSQL: ids in by COPY, with their positions; bound rows out as ONE CSV text
    value, parsed by Arrow.

    `string_agg` builds the CSV server-side, so the client reads one value instead of a
    COPY message (and a Python call) per binding. Times travel as epoch microseconds,
    whatever the session's time zone and DateStyle; the payload hash (hex digits) bare.
    """
    from oms.load.staging import copy_csv, create

    create(conn, EXT_TABLE, "n BIGINT, e TEXT")
    ids = pa.table({"n": pa.array(np.arange(len(ext), dtype=np.int64)), "e": ext})
    copy_csv(conn, EXT_TABLE, ids)
    upd = "CAST(CAST(extract(epoch FROM b.source_updated_at) * 1000000 AS bigint) AS TEXT)"
    line = " || ',' || ".join(
        [
            "CAST(x.n AS TEXT)",
            _csv_field("b.canonical_id"),
            f"COALESCE({upd}, '')",
            "COALESCE(b.payload_hash, '')",
        ]
    )
    query = (
        f"SELECT string_agg({line}, E'\\n')"
        # one index probe per id (`OFFSET 0` keeps it correlated): inside a batch the
        # planner's statistics predate the batch, and hashing the whole binding table per
        # chunk made a first load grow with the square of its size
        f" FROM {EXT_TABLE} x CROSS JOIN LATERAL (SELECT * FROM binding WHERE external_id = x.e"
        f" AND entity = {_lit(entity)} AND system = {_lit(system)} OFFSET 0) b"
    )
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(query)
        csv_text = cur.fetchone()[0]
    finally:
        cur.close()
    conn.exec_driver_sql(f"DROP TABLE {EXT_TABLE}")
    out = _parse(csv_text, pa.int64())
    upd_col = out.column("b_upd").cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    return out.set_column(2, "b_upd", upd_col)


def _parse(csv_text: str | None, upd_type: pa.DataType = pa.int64()) -> pa.Table:
    """(n, b_cid, b_upd, b_hash) from the CSV text of the read (None: no rows)."""
    names = ["n", "b_cid", "b_upd", "b_hash"]
    types = [pa.int64(), pa.string(), upd_type, pa.string()]
    if not csv_text:
        empty = {n: pa.array([], t) for n, t in zip(names, types, strict=True)}
        empty["b_upd"] = _TS_EMPTY
        return pa.table(empty)
    read = pacsv.ReadOptions(column_names=names, block_size=1 << 26)
    convert = pacsv.ConvertOptions(
        column_types=dict(zip(names, types, strict=True)),
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,  # NULL is written bare and '' quoted
    )
    parse = pacsv.ParseOptions(newlines_in_values=True)
    data = io.BytesIO(csv_text.encode())
    return pacsv.read_csv(data, read_options=read, parse_options=parse, convert_options=convert)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
