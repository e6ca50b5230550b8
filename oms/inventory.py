"""Stock as a ledger (OFBiz): snapshots become the movements that explain them.

A WMS or POS snapshot says "on hand is N at time T". The store keeps positions as the sum
of movements, so a snapshot is turned into one `snapshot_adjustment` movement per
sku x location whose quantity differs, and the position moves with it. A snapshot older
than the position it would change is stale and changes nothing; the same snapshot twice
finds no difference and writes nothing. Inserts write no change-log row
(`created_run_id` / `created_batch_id` name their batch), as in `oms.load`.

This per-row version is the reference the set-based `oms.load.stock` is tested against.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, tuple_

from oms.ids import canonical_id
from oms.loader import EXTERNAL_ID, UPDATED_AT, LoadContext, LoadResult, frame_records
from oms.models import InventoryMovement, InventoryPosition, table
from oms.writer import SqlWriter

ZERO = Decimal(0)


def _positions(
    conn: Connection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    t = table(InventoryPosition)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for i in range(0, len(keys), 400):
        chunk = keys[i : i + 400]
        rows = conn.execute(select(t).where(tuple_(t.c.sku, t.c.location_code).in_(chunk)))
        for row in rows.mappings():
            out[(row["sku"], row["location_code"])] = dict(row)
    return out


def _movement(
    ctx: LoadContext,
    sku: str,
    loc: str,
    d_on: Decimal,
    d_al: Decimal,
    reason: str,
    key: str,
    ref: str | None,
    at: dt.datetime | None,
) -> dict[str, Any]:
    return {
        "id": canonical_id("inventory_movement", [key]),
        "movement_key": key,
        "sku": sku,
        "location_code": loc,
        "delta_on_hand": d_on,
        "delta_allocated": d_al,
        "reason": reason,
        "reference": ref,
        "occurred_at": at,
        **ctx.provenance(at),
        "field_sources": None,
        "created_at": ctx.now,
        "created_run_id": ctx.run_id,
        "created_batch_id": ctx.batch_id,
    }


def apply_snapshot(
    conn: Connection, frame: pd.DataFrame, ctx: LoadContext, writer: SqlWriter | None = None
) -> LoadResult:
    writer = writer or SqlWriter()
    result = LoadResult("inventory_snapshot", received=len(frame))
    if frame.empty:
        return result
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in frame_records(frame):
        at = r.get("as_of") or r.get(UPDATED_AT)
        r["as_of"] = at
        key = (r["sku"], r["location_code"])
        if key not in latest or (at and latest[key]["as_of"] and at >= latest[key]["as_of"]):
            latest[key] = r
    result.duplicates = len(frame) - len(latest)
    current = _positions(conn, sorted(latest))
    movements, inserts, updates = [], [], []
    for key, r in latest.items():
        sku, loc = key
        at = r["as_of"]
        pos = current.get(key)
        on_hand = r["on_hand"] if r.get("on_hand") is not None else (pos or {}).get("on_hand", ZERO)
        allocated = r.get("allocated")
        if allocated is None:
            allocated = (pos or {}).get("allocated") or ZERO
        if pos is not None and pos["as_of"] and at and at <= pos["as_of"]:
            result.stale += 1 if at < pos["as_of"] else 0
            result.unchanged += 1 if at == pos["as_of"] else 0
            continue
        d_on = on_hand - (pos["on_hand"] if pos else ZERO)
        d_al = allocated - ((pos["allocated"] or ZERO) if pos else ZERO)
        if pos is not None and d_on == 0 and d_al == 0:
            # same quantities: no movement, but the position is now known as of `at`, so a
            # snapshot taken between the two cannot be applied on top later
            result.unchanged += 1
            if at and (pos["as_of"] is None or at > pos["as_of"]):
                updates.append(
                    {
                        **pos,
                        "as_of": at,
                        "source_updated_at": at,
                        "last_run_id": ctx.run_id,
                        "last_batch_id": ctx.batch_id,
                    }
                )
            continue
        stamp = at.isoformat() if at else ctx.batch_id
        mkey = f"snapshot:{ctx.system}:{loc}:{sku}:{stamp}"
        movements.append(
            _movement(
                ctx, sku, loc, d_on, d_al, "snapshot_adjustment", mkey, str(r.get(EXTERNAL_ID)), at
            )
        )
        row = {
            "id": canonical_id("inventory_position", [sku, loc]),
            "sku": sku,
            "location_code": loc,
            "on_hand": on_hand,
            "allocated": allocated,
            "as_of": at,
            **ctx.provenance(at),
            "field_sources": None,
        }
        if pos is None:
            created = {"created_run_id": ctx.run_id, "created_batch_id": ctx.batch_id}
            inserts.append({**row, "created_at": ctx.now, **created})
        else:
            updates.append({**pos, **row})
        result.changed_keys.append(key)
    writer.insert(conn, table(InventoryMovement), movements)
    writer.insert(conn, table(InventoryPosition), inserts)
    writer.update(conn, table(InventoryPosition), sorted(updates, key=lambda x: x["id"]))
    result.inserted, result.updated = len(inserts), len(movements) - len(inserts)
    result.inserted_rows = movements
    return result


def apply_movements(
    conn: Connection,
    movements: list[dict[str, Any]],
    ctx: LoadContext,
    writer: SqlWriter | None = None,
) -> None:
    """Move positions by newly inserted movements (POS sales, receipts, transfers)."""
    writer = writer or SqlWriter()
    if not movements:
        return
    keys = sorted({(m["sku"], m["location_code"]) for m in movements})
    current = _positions(conn, keys)
    touched: dict[tuple[str, str], dict[str, Any]] = {}
    new: set[tuple[str, str]] = set()
    for m in movements:
        key = (m["sku"], m["location_code"])
        pos = touched.get(key) or current.get(key)
        if pos is None:
            pos = {
                "id": canonical_id("inventory_position", list(key)),
                "sku": key[0],
                "location_code": key[1],
                "on_hand": ZERO,
                "allocated": ZERO,
                "as_of": None,
                "created_at": ctx.now,
                "field_sources": None,
                "created_run_id": ctx.run_id,
                "created_batch_id": ctx.batch_id,
            }
            new.add(key)
        pos = dict(pos)
        pos["on_hand"] = (pos["on_hand"] or ZERO) + (m["delta_on_hand"] or ZERO)
        pos["allocated"] = (pos["allocated"] or ZERO) + (m["delta_allocated"] or ZERO)
        pos.update(ctx.provenance(m.get("occurred_at")))
        touched[key] = pos
    writer.insert(conn, table(InventoryPosition), [touched[k] for k in sorted(new)])
    writer.update(conn, table(InventoryPosition), [touched[k] for k in sorted(set(touched) - new)])
