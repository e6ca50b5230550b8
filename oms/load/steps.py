"""Post-load steps: what the store derives from a batch once its rows are written.

`post_load` runs inside the batch's transaction, after every entity of the chunk is
loaded (`oms.load.load_batch`), from the loaders' results alone:

1. the stock ledger: the movements the batch inserted move their positions
   (`oms.load.stock.apply_ledger`; snapshots moved theirs when they were loaded);
2. order-line derivation: lines touched by changed order, shipment or return lines get
   their shipped and returned quantities and status recomputed
   (`oms.load.lines.refresh_lines`).

Both are set-based SQL on PostgreSQL and SQLite; neither reads the mapped data again.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from oms.load.context import LoadContext, LoadResult
from oms.load.lines import LINE_SOURCES, refresh_lines
from oms.load.stock import apply_ledger

MOVEMENT = "inventory_movement"


def post_load(
    conn: Connection,
    results: Mapping[str, LoadResult],
    ctx: LoadContext,
    *,
    ledger: bool = True,
) -> None:
    """Run the post-load steps for one loaded chunk.

    Reads `results["inventory_movement"].inserted_ids` and the `changed_ids` of
    `order_line`, `shipment_line` and `return_line`; entities absent from `results`
    contribute nothing. `ledger=False` skips the stock ledger for a caller that applied
    it itself right after loading the movements (`apply_ledger`): needed only when a
    snapshot follows movements in the same chunk and must see the positions they moved.
    """
    movements = results.get(MOVEMENT)
    if ledger and movements is not None and movements.inserted_ids:
        apply_ledger(conn, movements.inserted_ids, ctx)
    changed = {e: results[e].changed_ids for e in LINE_SOURCES if e in results}
    if any(changed.values()):
        refresh_lines(conn, changed, ctx)
