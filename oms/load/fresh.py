"""SQLite: rows new to the store, inserted straight from Arrow (no staging, no diff).

A row without a binding whose canonical id is not in the store (every row of a first
load) has nothing to compare: the general path (`oms.load.upsert._write`) would still
stage it in a TEMP table, diff it against no stored row, then `INSERT ... SELECT ...
RETURNING` it and its binding out of the TEMP table. SQLite runs in this process, so
each of those passes is this process's CPU: at 1M order lines they were most of the
first load. Here such rows are bound once, by `executemany`, into the target and
`binding`, with the same values (the store's text forms, `staging.sqlite_values`), the
same derived order-line status (`sql.line_status`) and the same provenance
(`sql.NEW_ROW_PROVENANCE`), so the store ends up as the general path leaves it
(tests/oms/load/test_fresh.py). The caller holds the rows' locks; the batch's
transaction makes the existence check and the insert one step.
"""

from __future__ import annotations

import json
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from oms.load import sql
from oms.load.staging import sqlite_values

#: False sends every row through the general path (tests compare the two)
ENABLED = True

#: the load's parameters (`upsert._params`) the inserts bind after a row's own values
_CONSTS = ("system", "entity", "run_id", "batch_id", "mapping_name", "mapping_version", "now")


def fresh_mask(conn: Connection, table: str, rows: pa.Table) -> np.ndarray:
    """Rows with no binding (`_bound` 0) whose id no stored row has."""
    unbound = rows.column("_bound").to_numpy() == 0
    if not ENABLED or not unbound.any():
        return np.zeros(rows.num_rows, dtype=bool)
    ids = rows.column("id").filter(pa.array(unbound))
    dbapi: Any = conn.connection.driver_connection
    found = dbapi.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids.to_pylist()),),
    ).fetchall()
    if not found:
        return unbound
    stored = pc.is_in(rows.column("id"), value_set=pa.array([r[0] for r in found], pa.string()))
    return unbound & ~stored.to_numpy(zero_copy_only=False)


def _slots(names: list[str]) -> dict[str, str]:
    """Parameter name -> `?N` (SQLite's numbered parameters may repeat in a statement)."""
    return {n: f"?{i}" for i, n in enumerate(names, start=1)}


def _insert_sql(d: sql.Dialect, plan: sql.Plan, row_cols: list[str]) -> str:
    """`sql.insert_new`'s columns and values with parameters in place of the staged row."""
    at = _slots([*row_cols, *_CONSTS])
    cols = ["id", *plan.cols]
    values = [at[c] for c in cols]
    if plan.derive_status:
        q = {k: (at[k] if k in plan.cols else "NULL") for k in sql.LINE_QTYS}
        cols.append("status")
        values.append(sql.line_status(d, q))
    for col, expr in sql.NEW_ROW_PROVENANCE.items():
        cols.append(col)
        values.append(at[expr[2:]] if expr.startswith("s.") else at[expr[1:]])
    names = ", ".join(d.name(c) for c in cols)
    return f"INSERT INTO {d.name(plan.target.name)} ({names}) VALUES ({', '.join(values)})"


BINDING_SQL = (
    "INSERT INTO binding (external_id, canonical_id, source_updated_at, payload_hash,"
    " system, entity, last_run_id, bound_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
    f" ?{5 + _CONSTS.index('now')}, ?{5 + _CONSTS.index('now')})"
)


def _bind(rows: pa.Table, names: list[str], params: dict[str, Any]) -> Any:
    """Parameter tuples: the columns `names` in store form, then the load's parameters."""
    values = [sqlite_values(rows.column(c)).to_pylist() for c in names]
    n = rows.num_rows
    return zip(*values, *(repeat(params[k], n) for k in _CONSTS), strict=True)


def insert_fresh(
    conn: Connection, plan: sql.Plan, rows: pa.Table, params: dict[str, Any]
) -> pa.Array:
    """Insert `rows` (all fresh, see `fresh_mask`) and their owned bindings; their ids."""
    d = sql.Dialect.of(conn)
    row_cols = ["id", *plan.cols, "_upd", "_fs"]
    dbapi: Any = conn.connection.driver_connection
    dbapi.executemany(_insert_sql(d, plan, row_cols), _bind(rows, row_cols, params))
    owners = rows.filter(pc.equal(rows.column("_own"), 1))
    if owners.num_rows:
        dbapi.executemany(BINDING_SQL, _bind(owners, ["_ext", "id", "_upd", "_hash"], params))
    return rows.column("id").combine_chunks()
