"""Set-based upsert of one entity's mapped Arrow table (DESIGN.md §4, §4a).

`upsert(conn, entity, tbl, ctx, ownership)` has the per-row loader's semantics
(`oms.loader.Loader.load`, `tests/oms/test_loader.py`) in a handful of statements inside
the caller's transaction:

1. `prepare` (Arrow/numpy): identity, canonical and reference ids, newest row per key,
   binding owners, payload hashes;
2. one read of the batch's bindings: same hash and id -> unchanged, older update time ->
   stale; neither is staged or written;
3. the rest is staged in a TEMP table (PostgreSQL COPY, SQLite executemany);
4. a diff of staged against stored rows with the field rules as SQL predicates
   (`oms.load.sql`), kept in a second TEMP table;
5. from the diff: the change log (changed fields only), the update; then the insert of
   new rows (no change-log row: `created_run_id`/`created_batch_id` say who created a
   row, its later update rows hold its earlier values) and the bindings.
Re-running a batch writes nothing: every row is unchanged at step 2.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, text

from oms.entities import ENTITIES, EntitySpec, Ref
from oms.ids import canonical_id
from oms.load import prepare as prep
from oms.load import sql
from oms.load.ahead import ChunkBindings
from oms.load.context import LoadContext, LoadResult
from oms.load.fresh import fresh_mask, insert_fresh
from oms.load.lookup import bindings_at, old_values
from oms.load.staging import copy_csv, create, drop, stage
from oms.locks import lock_rows
from oms.ownership import Ownership
from oms.types import _sqlite_text

#: entities whose `status` the store derives on every write (`oms.loader.DERIVED_HOOKS`)
STATUS_DERIVED = ("order_line",)


def _num_eq(a: Any, b: Any) -> int:
    """SQLite: two decimal texts are the same number ("1.50" = "1.5")."""
    try:
        return int(Decimal(str(a)) == Decimal(str(b)))
    except InvalidOperation:
        return int(a == b)


def _params(conn: Connection, entity: str, ctx: LoadContext) -> dict[str, Any]:
    pg = conn.dialect.name == "postgresql"
    return {
        "system": ctx.system,
        "entity": entity,
        "run_id": ctx.run_id,
        "batch_id": ctx.batch_id,
        "mapping_name": ctx.mapping_name,
        "mapping_version": ctx.mapping_version,
        "now": ctx.now if pg else _sqlite_text(ctx.now),
    }


def _decide(
    conn: Connection,
    entity: str,
    rows: pa.Table,
    system: str,
    ahead: ChunkBindings | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per prepared row: unchanged and stale against its binding; is its external id bound.

    `ahead`: the chunk's bindings read ahead on a side connection (`oms.load.ahead`).
    """
    ext = rows.column("_ext")
    bound = ahead.bound(conn, system, entity) if ahead is not None else None
    if bound is None:
        bound = bindings_at(conn, system, entity, ext)
    b_cid, b_hash, b_upd = (bound.column(c) for c in ("b_cid", "b_hash", "b_upd"))
    has = pc.is_valid(b_cid).to_numpy(zero_copy_only=False)
    own = rows.column("_own").to_numpy() == 1
    same = pc.and_(pc.equal(b_hash, rows.column("_hash")), pc.equal(b_cid, rows.column("id")))
    same_np = pc.fill_null(same, False).to_numpy(zero_copy_only=False)
    older = pc.fill_null(pc.less(rows.column("_upd"), b_upd), False)
    unchanged = own & has & same_np
    stale = own & has & ~same_np & older.to_numpy(zero_copy_only=False)
    return unchanged, stale, has.astype(np.int8)


def _partial_refs(conn: Connection, spec: EntitySpec, rows: pa.Table, refs: list[Ref]) -> pa.Table:
    """References whose key is partly in the batch, partly in the stored row (rare)."""
    missing = sorted({k for r in refs for k in r.key_columns if k not in rows.column_names})
    ids = rows.column("id").to_pylist()
    old = old_values(conn, spec.table, ids, missing)
    for ref in refs:
        cols = {k: rows.column(k).to_pylist() for k in ref.key_columns if k in rows.column_names}
        values: list[str | None] = []
        for j, cid in enumerate(ids):
            stored = dict(zip(missing, old.get(cid) or (None,) * len(missing), strict=True))
            key = [cols[k][j] if k in cols else stored[k] for k in ref.key_columns]
            values.append(None if any(v is None for v in key) else canonical_id(ref.entity, key))
        rows = rows.append_column(ref.id_column, pa.array(values, pa.string()))
    return rows


def _update_field_sources(conn: Connection, d: sql.Dialect, plan: sql.Plan, tag: str) -> None:
    """New `field_sources` JSON of diff rows where an owned field changed or was claimed.

    JSON in Python (the few rows whose owned fields moved): `json.dumps(sort_keys=True)`
    text exactly as before, which neither backend's JSON functions reproduce. A row whose
    moved fields this system (and kind) already set keeps its JSON as it is, so it is not
    read at all: a source updating the rows it created (the usual re-run) reads none.
    """
    owned = [(i, c) for i, c in enumerate(plan.cols) if c in plan.owners]
    if not owned:
        return
    flags = ", ".join(f"c{i}, k{i}" for i, _ in owned)
    ofs = "CAST(_ofs AS jsonb)" if d.pg else "_ofs"
    where = " OR ".join(
        f"(c{i} = 1 OR k{i} = 1) AND {d.distinct(d.fs_get(ofs, c), sql.lit(tag))}" for i, c in owned
    )
    rows = conn.exec_driver_sql(f"SELECT id, _ofs, {flags} FROM {sql.DIFF} WHERE {where}").all()
    if not rows:
        return
    ids, texts = [], []
    for row in rows:
        fs = json.loads(row[1] or "{}")
        for j, (_, c) in enumerate(owned):
            if row[2 + 2 * j] or row[3 + 2 * j]:
                fs[c] = tag
        ids.append(row[0])
        texts.append(json.dumps(fs, sort_keys=True) if fs else None)
    pairs = list(zip(ids, texts, strict=True))
    if d.pg:
        tbl = pa.table({"id": pa.array(ids, pa.string()), "fs": pa.array(texts, pa.string())})
        copy_csv(conn, sql.FIELD_SOURCES, tbl)
    else:
        dbapi: Any = conn.connection.driver_connection
        dbapi.executemany(f"INSERT INTO {sql.FIELD_SOURCES} (id, fs) VALUES (?, ?)", pairs)


def _ids(conn: Connection, d: sql.Dialect, query: str, params: dict[str, Any]) -> pa.Array:
    """The ids a query returns, as one Arrow array.

    PostgreSQL: aggregated server-side into one comma-joined text (canonical ids are
    uuids) and split by Arrow: one value over the wire instead of a row object per id.
    """
    if d.pg:
        agg = f"WITH q AS ({query}) SELECT string_agg(id, ',') FROM q"
        joined = conn.execute(text(agg), params).scalar()
        if not joined:
            return pa.array([], pa.string())
        return pc.split_pattern(pa.array([joined]), ",").flatten()
    # SQLite: sqlite3 binds the same `:name` parameters; its rows skip SQLAlchemy's result
    dbapi: Any = conn.connection.driver_connection
    rows = dbapi.execute(query, params).fetchall()
    return pa.array([r[0] for r in rows], pa.string())


def _write(
    conn: Connection, plan: sql.Plan, params: dict[str, Any], tag: str, rows: pa.Table
) -> tuple[pa.Array, pa.Array]:
    """Diff, change log, update, insert; returns (updated ids, inserted ids).

    The binding statements run only when a staged row needs them (`_own`, `_bound` of
    `rows`): a first load binds only new external ids, and its UPDATE of `binding`,
    joined to a staged table the planner has no statistics for, would find nothing.
    """
    d = sql.Dialect.of(conn)
    tail = " ON COMMIT DROP" if d.pg else ""
    drop(conn, sql.DIFF)
    conn.execute(text(f"CREATE TEMP TABLE {sql.DIFF}{tail} AS {sql.diff_select(d, plan)}"), params)
    create(conn, sql.FIELD_SOURCES, "id VARCHAR(36) PRIMARY KEY, fs TEXT")
    _update_field_sources(conn, d, plan, tag)
    updated = _ids(conn, d, f"SELECT id FROM {sql.DIFF}", {})
    if len(updated):
        conn.execute(text(sql.change_log(d, plan)), params)
        conn.execute(text(sql.update_target(d, plan)), params)
    # every staged id the diff found is stored: when it found them all, none is new
    none_new = len(updated) == rows.num_rows
    inserted = (
        pa.array([], pa.string()) if none_new else _ids(conn, d, sql.insert_new(d, plan), params)
    )
    own = rows.column("_own").to_numpy() == 1
    bound = rows.column("_bound").to_numpy() == 1
    if (own & ~bound).any():
        conn.execute(text(sql.BINDING_INSERT), params)
    if (own & bound).any():
        conn.execute(text(sql.BINDING_UPDATE), params)
    if not d.pg:
        for name in (sql.DIFF, sql.STAGE, sql.FIELD_SOURCES):
            drop(conn, name)
    return updated, inserted


def _plan(spec: EntitySpec, cols: list[str], ownership: Ownership, ctx: LoadContext) -> sql.Plan:
    owned = ownership.owned_fields(spec.name)
    owners = {c: o for c, o in owned.items() if c in cols}
    ranks = {c: Ownership.rank(o, ctx.system, ctx.kind) for c, o in owners.items()}
    return sql.Plan(spec.table, cols, owners, ranks, spec.name in STATUS_DERIVED)


def upsert(
    conn: Connection,
    entity: str,
    tbl: pa.Table,
    ctx: LoadContext,
    ownership: Ownership,
    prepared: prep.Prepared | None = None,
    bindings: ChunkBindings | None = None,
) -> LoadResult:
    """Load one entity's rows of a mapped chunk (shaped as `oms.arrow` says).

    `prepared` is `prep.prepare(spec, tbl, ctx.system)` when the caller already has it
    (`load_batch` prepares first and locks from the prepared ids); `bindings` are the
    chunk's bindings read ahead (`oms.load.ahead`).
    """
    spec = ENTITIES[entity]
    result = LoadResult(entity, received=tbl.num_rows)
    if tbl.num_rows == 0:
        return result
    p = prepared if prepared is not None else prep.prepare(spec, tbl, ctx.system)
    result.duplicates = p.duplicates
    unchanged, stale, bound = _decide(conn, entity, p.table, ctx.system, bindings)
    result.unchanged, result.stale = int(unchanged.sum()), int(stale.sum())
    keep = ~(unchanged | stale)
    rows = p.table.append_column("_bound", pa.array(bound))
    rows = rows.filter(pa.array(keep))
    if rows.num_rows == 0:
        return result
    if prepared is None:  # `load_batch` locked the prepared ids up front
        lock_rows(conn, {entity: rows.column("id")})
    ref_cols = list(p.ref_cols)
    if p.partial_refs:
        rows = _partial_refs(conn, spec, rows, p.partial_refs)
        ref_cols += [r.id_column for r in p.partial_refs]
    tag = f"{ctx.system}|{ctx.kind or ''}"
    owned = ownership.owned_fields(entity)
    extra = {"status": True} if entity in STATUS_DERIVED else {}
    rows = rows.append_column("_fs", prep.new_field_sources(rows, owned, tag, extra))
    plan = _plan(spec, [*p.data_cols, *ref_cols], ownership, ctx)
    params = _params(conn, entity, ctx)
    sqlite = conn.dialect.name == "sqlite"
    # SQLite: rows new to the store skip staging and the diff (`oms.load.fresh`)
    fresh = fresh_mask(conn, spec.table.name, rows) if sqlite else np.zeros(rows.num_rows, bool)
    new = [insert_fresh(conn, plan, rows.filter(pa.array(fresh)), params)] if fresh.any() else []
    rest = rows.filter(pa.array(~fresh)) if new else rows
    updated = pa.array([], pa.string())
    if rest.num_rows:
        if sqlite:
            conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
                "omshub_num_eq", 2, _num_eq, deterministic=True
            )
        stage(conn, sql.STAGE, spec.table, rest)
        updated, inserted = _write(conn, plan, params, tag, rest)
        new.append(inserted)
    _fill(result, spec, rows, updated, pa.concat_arrays(new))
    return result


def _fill(
    result: LoadResult, spec: EntitySpec, rows: pa.Table, updated: pa.Array, inserted: pa.Array
) -> None:
    """Counts and ids of what was written, in batch order."""
    result.inserted, result.updated = len(inserted), len(updated)
    result.unchanged += rows.num_rows - len(inserted) - len(updated)
    ids = rows.column("id")
    is_new = pc.is_in(ids, inserted)
    changed = pc.or_(is_new, pc.is_in(ids, updated))
    result.inserted_ids = ids.filter(is_new).to_pylist()
    result.changed_ids = ids.filter(changed).to_pylist()
    done = rows.filter(changed)
    keys = [
        done.column(k).to_pylist() if k in done.column_names else [None] * done.num_rows
        for k in spec.natural_key
    ]
    result.changed_keys = list(zip(*keys, strict=True))
    if spec.name == "inventory_movement":
        new = rows.filter(is_new).drop_columns([c for c in rows.column_names if c.startswith("_")])
        result.inserted_rows = new.to_pylist()
