"""Values the store derives instead of accepting from competing systems.

An order line's shipped and returned quantities are the sums of its shipment and return
lines, and its status follows from its quantities; they are refreshed whenever one of
those rows (or the line itself) is written, in the same transaction.

This per-row version is the reference the set-based `oms.load.lines` (what the batch
loader runs, `oms.load.steps.post_load`) is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, insert, select

from oms.ids import canonical_id
from oms.loader import LoadContext, as_text, derive_line_status, norm
from oms.models import ChangeLog, OrderLine, ReturnLine, ShipmentLine, table
from oms.sqlutil import in_values
from oms.writer import CHUNK, SqlWriter

DERIVED_SYSTEM = "omshub"
#: entities whose rows change an order line's derived quantities
LINE_SOURCES = ("order_line", "shipment_line", "return_line")


def touched_lines(
    entity: str, good: pd.DataFrame, changed_keys: list[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    """Keys `(order_origin, order_number, line_no)` of the order lines whose derived values a
    load of `entity` may have changed; an origin of None is the loading system's own (the
    mapping left the scope to its default, `oms.entities.Scope`)."""
    if entity == "order_line":
        return set(changed_keys)
    if entity not in LINE_SOURCES[1:] or good.empty or "order_number" not in good:
        return set()
    origins = good["order_origin"] if "order_origin" in good else [None] * len(good)
    return {
        (origin, number, line)
        for origin, number, line in zip(origins, good["order_number"], good["line_no"], strict=True)
        if number is not None and line is not None and not pd.isna(number) and not pd.isna(line)
    }


def _sums(conn: Connection, table: Any, ids: list[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for i in range(0, len(ids), CHUNK):
        rows = conn.execute(
            select(table.c.order_line_id, table.c.qty).where(
                in_values(conn, table.c.order_line_id, ids[i : i + CHUNK])
            )
        )
        for lid, qty in rows:
            out[lid] = out.get(lid, Decimal(0)) + (qty or Decimal(0))
    return out


def refresh_order_lines(
    conn: Connection,
    keys: Iterable[tuple[Any, ...]],
    ctx: LoadContext,
    writer: SqlWriter | None = None,
) -> int:
    """Recompute qty_shipped / qty_returned / status of the lines
    `(order_origin, order_number, line_no)` (origin None: the loading system)."""
    writer = writer or SqlWriter()
    ids = sorted({canonical_id("order_line", (o or ctx.system, n, ln)) for o, n, ln in keys})
    if not ids:
        return 0
    tbl = table(OrderLine)
    lines = writer.fetch(conn, tbl, ids)
    shipped = _sums(conn, table(ShipmentLine), ids)
    returned = _sums(conn, table(ReturnLine), ids)
    updates, log = [], []
    for lid, old in lines.items():
        new = dict(old)
        new["qty_returned"] = returned.get(lid)
        new["qty_shipped"] = shipped.get(lid)
        new["status"] = derive_line_status(new)
        changed = {
            c: new[c]
            for c in ("qty_shipped", "qty_returned", "status")
            if norm(new[c]) != norm(old[c])
        }
        if not changed:
            continue
        new.update(last_run_id=ctx.run_id, last_batch_id=ctx.batch_id, updated_at=ctx.now)
        updates.append(new)
        for c, v in changed.items():
            log.append(
                {
                    "run_id": ctx.run_id,
                    "batch_id": ctx.batch_id,
                    "entity": "order_line",
                    "canonical_id": lid,
                    "system": DERIVED_SYSTEM,
                    "operation": "derive",
                    "field": c,
                    "old_value": as_text(old[c]),
                    "new_value": as_text(v),
                    "changed_at": ctx.now,
                }
            )
    writer.update(conn, tbl, updates)
    if log:
        conn.execute(insert(table(ChangeLog)), log)
    return len(updates)
