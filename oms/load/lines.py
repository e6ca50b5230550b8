"""Order-line derivation, set-based: shipped and returned quantities and status.

An order line's `qty_shipped` and `qty_returned` are the sums of its shipment and return
lines, and its `status` follows from its quantities (`oms.loader.derive_line_status`,
written here as one SQL CASE). They are never taken from a source: competing systems
would overwrite each other. After a batch, the lines touched by changed order, shipment
or return lines are recomputed in a few statements; only lines whose values differ are
written, each changed field with a `change_log` row (operation `derive`, system
`omshub`), as the per-row `oms.derive.refresh_order_lines` did.

A shipment line may arrive before its order line (nothing to derive yet: the line does
not exist) or after it; either way the line's values end the same, since the order
line's own load touches it too. A changed order line that no shipment or return line
names is left as the loader wrote it (see `_touched_sql`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from oms.load._stepsql import StepSql
from oms.load.context import LoadContext

DERIVED_SYSTEM = "omshub"
#: entities whose changed rows change an order line's derived values
LINE_SOURCES = ("order_line", "shipment_line", "return_line")
_SRC, _LINES, _BASE = "_omshub_line_src", "_omshub_lines", "_omshub_line_base"
_DIFF = "_omshub_line_diff"
_FIELDS = ("qty_shipped", "qty_returned", "status")


def _status_sql(o: str, a: str, s: str, c: str, r: str) -> str:
    """`derive_line_status` over exact numbers (ordered, allocated, shipped, cancelled,
    returned; each already coalesced to 0)."""
    return (
        f"CASE WHEN {o} > 0 AND {c} >= {o} THEN 'cancelled'"
        f" WHEN {r} > 0 AND {s} > 0 AND {r} >= {s} THEN 'returned'"
        f" WHEN {s} > 0 THEN (CASE WHEN {s} >= {o} - {c} THEN 'shipped'"
        " ELSE 'partially_shipped' END)"
        f" WHEN {a} > 0 THEN 'allocated' ELSE 'open' END"
    )


def _touched_sql(q: StepSql) -> str:
    """Ids of the order lines the staged (entity, id) pairs touch and that may differ.

    A changed order line needs recomputing only when shipment or return lines point at
    it: without any, its sums are null and the loader already derived its status from
    its own quantities (`oms.load.upsert`, the same CASE). Skipping those keeps the
    first load of new orders (every line changed, none shipped) to one index probe per
    line. Shipment and return lines touch the order line they name: on SQLite found by a
    primary-key probe per staged row (it would scan the child table for a join), on
    PostgreSQL by a join the planner sizes (half the CPU of per-row probes on 200k).
    """
    has = " OR ".join(
        f"EXISTS (SELECT 1 FROM {t} c WHERE c.order_line_id = x.id)" for t in LINE_SOURCES[1:]
    )
    parts = [f"SELECT x.id FROM {_SRC} x WHERE x.entity = 'order_line' AND ({has})"]
    for child in LINE_SOURCES[1:]:
        if q.pg:
            parts.append(
                f"SELECT c.order_line_id FROM {child} c JOIN {_SRC} x"
                f" ON x.id = c.id AND x.entity = '{child}' WHERE c.order_line_id IS NOT NULL"
            )
            continue
        probe = f"(SELECT c.order_line_id FROM {child} c WHERE c.id = x.id)"
        parts.append(
            f"SELECT y.id FROM (SELECT {probe} AS id FROM {_SRC} x"
            f" WHERE x.entity = '{child}') y WHERE y.id IS NOT NULL"
        )
    return " UNION ".join(parts)


def _base_sql(q: StepSql) -> str:
    """Touched lines: old derived values and the new sums, as exact numbers.

    SQLite sums with correlated subqueries, an index probe per touched line: it planned
    the grouped join as a scan of every shipment line in the store. PostgreSQL gets the
    grouped join and plans it from statistics (hash join for large batches, index
    probes for small ones on a large store): correlated subqueries cost it twice the
    CPU on 200k touched lines. (Tables never analysed yet can fool its planner into a
    scan: autovacuum analyses them; after a first bulk load, `ANALYZE` helps at once.)
    """
    if q.pg:
        sums = [
            f" LEFT JOIN (SELECT c.order_line_id, sum(coalesce(c.qty, 0)) AS q FROM {t} c"
            f" JOIN {_LINES} w ON w.id = c.order_line_id GROUP BY c.order_line_id) {a}"
            f" ON {a}.order_line_id = l.id"
            for t, a in (("shipment_line", "sh"), ("return_line", "rt"))
        ]
        new, joins = "sh.q AS new_shipped, rt.q AS new_returned", "".join(sums)
    else:
        sub = [
            f"(SELECT sum(coalesce({q.num('c.qty')}, 0)) FROM {t} c WHERE c.order_line_id = l.id)"
            for t in ("shipment_line", "return_line")
        ]
        new, joins = f"{sub[0]} AS new_shipped, {sub[1]} AS new_returned", ""
    return (
        f"SELECT l.id, {q.num('l.qty_shipped')} AS old_shipped,"
        f" {q.num('l.qty_returned')} AS old_returned, l.status AS old_status, {new},"
        f" coalesce({q.num('l.qty_ordered')}, 0) AS o,"
        f" coalesce({q.num('l.qty_allocated')}, 0) AS a,"
        f" coalesce({q.num('l.qty_cancelled')}, 0) AS c"
        f" FROM {_LINES} t JOIN order_line l ON l.id = t.id{joins}"
    )


def _diff_sql(q: StepSql) -> str:
    """Touched lines whose derived values differ (from the materialised `_base_sql`)."""
    status = _status_sql(
        "b.o", "b.a", "coalesce(b.new_shipped, 0)", "b.c", "coalesce(b.new_returned, 0)"
    )
    with_status = f"SELECT b.*, {status} AS new_status FROM {_BASE} b"
    differs = " OR ".join(
        q.distinct(f"d.new_{f}", f"d.old_{f}") for f in ("shipped", "returned", "status")
    )
    return f"SELECT d.* FROM ({with_status}) d WHERE {differs}"


def refresh_lines(conn: Connection, changed: Mapping[str, Sequence[str]], ctx: LoadContext) -> int:
    """Recompute the derived values of the order lines that `changed` touches.

    `changed` maps `order_line`, `shipment_line`, `return_line` to the canonical ids of
    their rows this batch inserted or updated (`LoadResult.changed_ids`); a shipment or
    return line touches the order line its `order_line_id` names. Returns the number of
    order lines written.
    """
    pairs = [(e, i) for e in LINE_SOURCES for i in dict.fromkeys(changed.get(e, ()))]
    if not pairs:
        return 0
    q = StepSql(conn)
    with q.tuned():
        return _refresh(q, pairs, ctx)


def _refresh(q: StepSql, pairs: list[tuple[str, str]], ctx: LoadContext) -> int:
    q.stage_rows(_SRC, [("entity", "text"), ("id", "text")], pairs)
    q.temp_as(_LINES, _touched_sql(q))
    q.temp_as(_BASE, _base_sql(q))
    q.temp_as(_DIFF, _diff_sql(q))
    params = {"run_id": ctx.run_id, "batch_id": ctx.batch_id, "now": q.time(ctx.now)}
    written = q.run(
        f"UPDATE order_line SET qty_shipped = {q.out('d.new_shipped')},"
        f" qty_returned = {q.out('d.new_returned')}, status = d.new_status,"
        " last_run_id = :run_id, last_batch_id = :batch_id, updated_at = :now"
        f" FROM {_DIFF} d WHERE order_line.id = d.id",
        params,
    ).rowcount
    if written:
        _log(q, {**params, "system": DERIVED_SYSTEM})
    q.drop(_DIFF, _BASE, _LINES, _SRC)
    return int(written)


def _log(q: StepSql, params: Mapping[str, object]) -> None:
    """One `change_log` row per changed derived field, old and new values as text."""
    selects = []
    for rank, (field, old, new) in enumerate(
        (
            ("qty_shipped", q.text("d.old_shipped"), q.text("d.new_shipped")),
            ("qty_returned", q.text("d.old_returned"), q.text("d.new_returned")),
            ("status", "d.old_status", "d.new_status"),
        )
    ):
        short = field.removeprefix("qty_") if field != "status" else "status"
        selects.append(
            f"SELECT d.id AS cid, {rank} AS k, '{field}' AS field, {old} AS old_value,"
            f" {new} AS new_value FROM {_DIFF} d"
            f" WHERE {q.distinct(f'd.new_{short}', f'd.old_{short}')}"
        )
    q.run(
        "INSERT INTO change_log (run_id, batch_id, entity, canonical_id, system, operation,"
        " field, old_value, new_value, changed_at)"
        " SELECT :run_id, :batch_id, 'order_line', u.cid, :system, 'derive', u.field,"
        f" u.old_value, u.new_value, :now FROM ({' UNION ALL '.join(selects)}) u"
        " ORDER BY u.cid, u.k",
        params,
    )
