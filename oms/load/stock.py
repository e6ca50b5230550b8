"""Stock, set-based: snapshots into ledger movements, and movements into positions.

The store keeps stock as a ledger (OFBiz): a position is the sum of its movements. A WMS
or POS snapshot says "on hand is N at T" per sku x location; `load_snapshot` turns it into
one `snapshot_adjustment` movement per position whose quantities differ and moves the
position with it. A snapshot older than the position is stale; an equal one, or one with
the same quantities, changes no quantity (a newer one still records that the position was
confirmed as of T, so an older snapshot cannot be applied on top later). `apply_ledger`
moves positions by newly inserted movements (POS sales, receipts, transfers).

Both decide in SQL over TEMP tables (`oms.load._stepsql`), so the work per row is done by
the database; Python only computes the deterministic ids (`oms.ids`) of what is new. Same
results as the per-row `oms.inventory` they replace (tests/oms/load/test_stock.py), with
two deliberate differences: the newest snapshot row per key is the one with the latest
`as_of` (nulls lowest, ties: the later record), and a position moved by several movements
records the latest `occurred_at` as its `source_updated_at`.

Concurrency: the caller takes the row locks of the positions up front
(`oms.locks.lock_rows` with the ids of `oms.rowids.lock_tables`), as for every other entity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from oms.arrow import EXTERNAL_ID, RECORD, UPDATED_AT
from oms.entities import SNAPSHOT_ENTITY
from oms.errors import LoadError
from oms.ids import canonical_id
from oms.load._stepsql import ColKind, StepSql
from oms.load.context import LoadContext, LoadResult

REASON = "snapshot_adjustment"
_STAGE, _JOIN, _PLAN = "_omshub_snap", "_omshub_snap_join", "_omshub_snap_plan"
_IDS = "_omshub_snap_ids"
_MV, _AGG, _NEWPOS, _MOVE = "_omshub_mv", "_omshub_mv_agg", "_omshub_mv_new", "_omshub_mv_move"
_STAGE_COLS: list[tuple[str, ColKind]] = [
    ("n", "int"),
    ("sku", "text"),
    ("location_code", "text"),
    ("on_hand", "num"),
    ("allocated", "num"),
    ("as_of", "time"),
    ("ref", "text"),
]


def newest_per_position(tbl: pa.Table) -> pa.Table:
    """One row per sku x location: the latest `as_of` (else `_updated_at`) wins.

    Returns the staging columns (`n` = row number of the result, `ref` = the external
    id, `as_of` filled from `_updated_at`). Quantities a mapping did not write are null,
    which keeps the position's current value.
    """
    missing = [c for c in ("sku", "location_code") if c not in tbl.column_names]
    if missing:
        raise LoadError(
            f"{SNAPSHOT_ENTITY}: the mapping writes no {' and no '.join(missing)}"
            " (a snapshot names each position by sku and location_code)"
        )
    n = tbl.num_rows
    at = (
        tbl.column("as_of")
        if "as_of" in tbl.column_names
        else pa.nulls(n, pa.timestamp("us", "UTC"))
    )
    if UPDATED_AT in tbl.column_names:
        at = pc.coalesce(at, tbl.column(UPDATED_AT).cast(at.type))
    rank = pc.fill_null(at.cast(pa.timestamp("us", "UTC")).cast(pa.int64()), -(2**63))
    order = tbl.column(RECORD) if RECORD in tbl.column_names else pa.array(range(n), pa.int64())
    work = pa.table(
        {
            "sku": tbl.column("sku"),
            "location_code": tbl.column("location_code"),
            "rank": rank,
            "order": order,
            "i": pa.array(range(n), pa.int64()),
        }
    )
    idx = pc.sort_indices(
        work,
        sort_keys=[
            ("sku", "ascending"),
            ("location_code", "ascending"),
            ("rank", "ascending"),
            ("order", "ascending"),
        ],
    )
    s = work.take(idx)
    last = _last_of_runs(s.column("sku"), s.column("location_code"))
    keep = pc.filter(s.column("i"), last)
    qty = pa.nulls(n, pa.decimal128(18, 4))
    ext = (
        tbl.column(EXTERNAL_ID).cast(pa.string())
        if EXTERNAL_ID in tbl.column_names
        else pa.nulls(n, pa.string())
    )
    out = pa.table(
        {
            "sku": tbl.column("sku"),
            "location_code": tbl.column("location_code"),
            "on_hand": tbl.column("on_hand") if "on_hand" in tbl.column_names else qty,
            "allocated": tbl.column("allocated") if "allocated" in tbl.column_names else qty,
            "as_of": at,
            "ref": ext,
        }
    ).take(keep)
    return out.append_column("n", pa.array(range(out.num_rows), pa.int64()))


def _last_of_runs(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.Array:
    """True where row i is the last of a run of equal (a, b) in sorted columns."""
    a, b = a.combine_chunks(), b.combine_chunks()
    n = len(a)
    if n == 0:
        return pa.array([], pa.bool_())
    differs = pc.or_(
        pc.not_equal(a.slice(0, n - 1), a.slice(1)), pc.not_equal(b.slice(0, n - 1), b.slice(1))
    )
    return pa.concat_arrays([pc.fill_null(differs, True), pa.array([True])])


def _join_sql(q: StepSql) -> str:
    """Per staged row: its position, old and new quantities as exact numbers."""
    new_on = f"coalesce({q.num('s.on_hand')}, {q.num('p.on_hand')}, 0)"
    new_al = f"coalesce({q.num('s.allocated')}, {q.num('p.allocated')}, 0)"
    old_on, old_al = f"coalesce({q.num('p.on_hand')}, 0)", f"coalesce({q.num('p.allocated')}, 0)"
    return (
        f"SELECT s.n, s.sku, s.location_code, s.as_of, s.ref, p.id AS p_id, p.as_of AS p_as_of,"
        f" {new_on} AS new_on, {new_al} AS new_al, {old_on} AS old_on, {old_al} AS old_al"
        f" FROM {_STAGE} s LEFT JOIN inventory_position p"
        " ON p.sku = s.sku AND p.location_code = s.location_code"
    )


def _plan_sql() -> str:
    """Per staged row: the deltas and what to do (from the materialised join: SQLite
    would otherwise evaluate each number's conversion once per use)."""
    seen = "x.p_id IS NOT NULL AND x.p_as_of IS NOT NULL AND x.as_of IS NOT NULL"
    return (
        "SELECT x.n, x.sku, x.location_code, x.as_of, x.ref, x.p_id, x.new_on, x.new_al,"
        " x.new_on - x.old_on AS d_on, x.new_al - x.old_al AS d_al,"
        f" CASE WHEN {seen} AND x.as_of < x.p_as_of THEN 'stale'"
        f" WHEN {seen} AND x.as_of = x.p_as_of THEN 'same'"
        " WHEN x.p_id IS NULL THEN 'new'"
        " WHEN x.new_on = x.old_on AND x.new_al = x.old_al"
        " THEN (CASE WHEN x.as_of IS NULL THEN 'same' ELSE 'touch' END)"
        " ELSE 'move' END AS action"
        f" FROM {_JOIN} x"
    )


def load_snapshot(conn: Connection, tbl: pa.Table, ctx: LoadContext) -> LoadResult:
    """Load a stock snapshot (`oms.arrow.entity_schema("inventory_snapshot")`).

    Counts: `inserted` = new positions, `updated` = moved existing positions (each with
    its movement), `unchanged`, `stale`, `duplicates` (older rows of a key in the batch);
    `changed_keys` (sku, location_code) and `changed_ids` / `inserted_ids` name positions.
    """
    result = LoadResult(SNAPSHOT_ENTITY, received=tbl.num_rows)
    if tbl.num_rows == 0:
        return result
    q = StepSql(conn)
    with q.tuned():
        _snapshot(q, newest_per_position(tbl), ctx, result)
    return result


def _snapshot(q: StepSql, staged: pa.Table, ctx: LoadContext, result: LoadResult) -> None:
    result.duplicates = result.received - staged.num_rows
    q.stage_table(_STAGE, _STAGE_COLS, staged)
    q.temp_as(_JOIN, _join_sql(q))
    q.temp_as(_PLAN, _plan_sql())
    counts = dict(q.run(f"SELECT action, count(*) FROM {_PLAN} GROUP BY action").all())
    result.stale = counts.get("stale", 0)
    result.unchanged = counts.get("same", 0) + counts.get("touch", 0)
    result.inserted, result.updated = counts.get("new", 0), counts.get("move", 0)
    if result.changed:
        _write_movements(q, ctx, result)
    if counts.get("touch"):
        q.run(
            f"UPDATE inventory_position SET as_of = x.as_of, source_updated_at = x.as_of,"
            f" last_run_id = :run_id, last_batch_id = :batch_id FROM {_PLAN} x"
            " WHERE inventory_position.id = x.p_id AND x.action = 'touch'",
            {"run_id": ctx.run_id, "batch_id": ctx.batch_id},
        )
    q.drop(_IDS, _PLAN, _JOIN, _STAGE)


def _write_movements(q: StepSql, ctx: LoadContext, result: LoadResult) -> None:
    """Movements, new and moved positions, for the plan's changes.

    Like every insert of the set-based loader (`oms.load.upsert`), a new movement or
    position writes no change-log row: its `created_run_id` / `created_batch_id` say
    which batch created it (and a movement is itself the record of a change).
    """
    rows = q.run(
        f"SELECT n, sku, location_code, as_of, action, p_id FROM {_PLAN}"
        " WHERE action IN ('new', 'move') ORDER BY n"
    ).all()
    ids = []
    stamps: dict[Any, str] = {}  # a snapshot has few distinct times: parse each once
    for n, sku, loc, as_of, action, p_id in rows:
        stamp = stamps.get(as_of)
        if stamp is None:
            at = q.read_time(as_of)
            stamp = stamps[as_of] = at.isoformat() if at else ctx.batch_id
        key = f"snapshot:{ctx.system}:{loc}:{sku}:{stamp}"
        pos_id = p_id or canonical_id("inventory_position", [sku, loc])
        ids.append((n, key, canonical_id("inventory_movement", [key]), pos_id))
        result.changed_keys.append((sku, loc))
        result.changed_ids.append(pos_id)
        if action == "new":
            result.inserted_ids.append(pos_id)
    q.stage_rows(
        _IDS, [("n", "int"), ("mkey", "text"), ("mov_id", "text"), ("pos_id", "text")], ids
    )
    p = _provenance(q, ctx)
    src = f"FROM {_PLAN} x JOIN {_IDS} i ON i.n = x.n"
    q.run(
        "INSERT INTO inventory_movement (id, movement_key, sku, location_code, delta_on_hand,"
        " delta_allocated, reason, reference, occurred_at, source_system, source_updated_at,"
        " mapping_name, mapping_version, last_run_id, last_batch_id, field_sources,"
        " created_at, updated_at, created_run_id, created_batch_id)"
        f" SELECT i.mov_id, i.mkey, x.sku, x.location_code, {q.out('x.d_on')}, {q.out('x.d_al')},"
        f" '{REASON}', x.ref, x.as_of, :system, x.as_of, :mapping_name, :mapping_version,"
        f" :run_id, :batch_id, NULL, :now, :now, :run_id, :batch_id {src} ORDER BY x.n",
        p,
    )
    q.run(
        "INSERT INTO inventory_position (id, sku, location_code, on_hand, allocated, as_of,"
        " source_system, source_updated_at, mapping_name, mapping_version, last_run_id,"
        " last_batch_id, field_sources, created_at, updated_at, created_run_id,"
        " created_batch_id)"
        f" SELECT i.pos_id, x.sku, x.location_code, {q.out('x.new_on')}, {q.out('x.new_al')},"
        " x.as_of, :system, x.as_of, :mapping_name, :mapping_version, :run_id, :batch_id,"
        f" NULL, :now, :now, :run_id, :batch_id {src} WHERE x.action = 'new' ORDER BY x.n",
        p,
    )
    q.run(
        f"UPDATE inventory_position SET on_hand = {q.out('x.new_on')},"
        f" allocated = {q.out('x.new_al')}, as_of = x.as_of, source_system = :system,"
        " source_updated_at = x.as_of, mapping_name = :mapping_name,"
        " mapping_version = :mapping_version, last_run_id = :run_id,"
        " last_batch_id = :batch_id, field_sources = NULL, updated_at = :now"
        f" FROM {_PLAN} x WHERE inventory_position.id = x.p_id AND x.action = 'move'",
        p,
    )


def _provenance(q: StepSql, ctx: LoadContext) -> dict[str, Any]:
    """Bind parameters of the provenance a step writes (`LoadContext.provenance`)."""
    return {
        "system": ctx.system,
        "mapping_name": ctx.mapping_name,
        "mapping_version": ctx.mapping_version,
        "run_id": ctx.run_id,
        "batch_id": ctx.batch_id,
        "now": q.time(ctx.now),
    }


def apply_ledger(conn: Connection, movement_ids: Sequence[str], ctx: LoadContext) -> int:
    """Move positions by the movements `movement_ids` (inserted by this batch, in the
    table already): each position gains the sum of its movements' deltas; a position not
    yet known starts at zero. Returns the number of positions moved."""
    if not movement_ids:
        return 0
    q = StepSql(conn)
    with q.tuned():
        return _ledger(q, movement_ids, ctx)


def _ledger(q: StepSql, movement_ids: Sequence[str], ctx: LoadContext) -> int:
    q.stage_rows(_MV, [("id", "text")], ((i,) for i in dict.fromkeys(movement_ids)))
    on, al = q.num("m.delta_on_hand"), q.num("m.delta_allocated")
    q.temp_as(
        _AGG,
        f"SELECT m.sku, m.location_code, sum(coalesce({on}, 0)) AS d_on,"
        f" sum(coalesce({al}, 0)) AS d_al, max(m.occurred_at) AS at"
        f" FROM inventory_movement m JOIN {_MV} v ON v.id = m.id GROUP BY m.sku, m.location_code",
    )
    missing = q.run(
        f"SELECT a.sku, a.location_code FROM {_AGG} a LEFT JOIN inventory_position p"
        " ON p.sku = a.sku AND p.location_code = a.location_code WHERE p.id IS NULL"
    ).all()
    p = _provenance(q, ctx)
    if missing:
        q.stage_rows(
            _NEWPOS,
            [("id", "text"), ("sku", "text"), ("location_code", "text")],
            [(canonical_id("inventory_position", [s, loc]), s, loc) for s, loc in missing],
        )
        zero = "0" if q.pg else "'0'"
        q.run(
            "INSERT INTO inventory_position (id, sku, location_code, on_hand, allocated, as_of,"
            " field_sources, created_at, created_run_id, created_batch_id)"
            f" SELECT id, sku, location_code, {zero}, {zero}, NULL, NULL, :now, :run_id,"
            f" :batch_id FROM {_NEWPOS} ORDER BY id",
            p,
        )
    q.temp_as(
        _MOVE,
        f"SELECT p.id, coalesce({q.num('p.on_hand')}, 0) + a.d_on AS new_on,"
        f" coalesce({q.num('p.allocated')}, 0) + a.d_al AS new_al, a.at FROM {_AGG} a"
        " JOIN inventory_position p ON p.sku = a.sku AND p.location_code = a.location_code",
    )
    moved = q.run(
        f"UPDATE inventory_position SET on_hand = {q.out('x.new_on')},"
        f" allocated = {q.out('x.new_al')}, source_system = :system,"
        " source_updated_at = x.at, mapping_name = :mapping_name,"
        " mapping_version = :mapping_version, last_run_id = :run_id,"
        f" last_batch_id = :batch_id, updated_at = :now FROM {_MOVE} x"
        " WHERE inventory_position.id = x.id",
        p,
    ).rowcount
    q.drop(_MOVE, _NEWPOS, _AGG, _MV)
    return int(moved)
