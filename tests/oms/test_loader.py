"""The source-of-truth contract (DESIGN.md §4), on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import Engine, func, select

from oms.bindings import unwrap
from oms.derive import refresh_order_lines
from oms.ids import canonical_id
from oms.inventory import apply_snapshot
from oms.load.rows import arrow_rows
from oms.load.upsert import upsert
from oms.loader import LoadContext, LoadResult
from oms.models import (
    BUSINESS_TABLES,
    Binding,
    ChangeLog,
    InventoryMovement,
    InventoryPosition,
    OrderLine,
    SalesOrder,
)
from oms.ownership import Ownership

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
OWN = Ownership({"sales_order": {"status": ("wms", "erp", "channel"), "grand_total": ("erp",)}})


def ctx(system: str, kind: str, run: str = "r1", batch: str = "b1") -> LoadContext:
    return LoadContext(
        system, kind, run, batch, f"{system}.orders", "1", T0 + dt.timedelta(hours=1)
    )


def frame(entity: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as the mapped Arrow table the loader takes (`oms.arrow`)."""
    out = []
    for i, r in enumerate(rows):
        r = dict(r)
        r.setdefault("_external_id", r.get("order_number"))
        r.setdefault("_record", i)
        out.append(r)
    return arrow_rows(entity, out)


def order(number: str, updated: dt.datetime | None, **values: Any) -> dict[str, Any]:
    """A web order: every system below quotes Shopify's order number explicitly."""
    return {"order_origin": "shopify", "order_number": number, "_updated_at": updated, **values}


def load(
    engine: Engine, entity: str, rows: list[dict[str, Any]], c: LoadContext, own: Ownership = OWN
) -> LoadResult:
    with engine.begin() as conn:
        return upsert(conn, entity, frame(entity, rows), c, own)


def get_order(engine: Engine, number: str) -> dict[str, Any]:
    t = SalesOrder.__table__
    with engine.connect() as conn:
        return dict(conn.execute(select(t).where(t.c.order_number == number)).mappings().one())


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every business row, for byte-for-byte comparisons."""
    out = {}
    with engine.connect() as conn:
        for name, model in BUSINESS_TABLES.items():
            t = model.__table__
            out[name] = [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
    return out


def test_insert_then_same_batch_again_changes_nothing(engine: Engine) -> None:
    rows = [
        order(
            "1001",
            T0,
            status="open",
            grand_total=Decimal("87.10"),
            currency="USD",
            ordered_at=T0,
            customer_email="a@example.com",
        )
    ]
    first = load(engine, "sales_order", rows, ctx("shopify", "channel"))
    assert (first.inserted, first.updated) == (1, 0)
    before = snapshot(engine)
    again = load(engine, "sales_order", rows, ctx("shopify", "channel", run="r2"))
    assert (again.changed, again.unchanged) == (0, 1)
    assert snapshot(engine) == before
    row = get_order(engine, "1001")
    assert row["id"] == canonical_id("sales_order", ["shopify", "1001"])
    assert row["grand_total"] == Decimal("87.1")
    assert row["ordered_at"] == T0
    assert row["customer_id"] == canonical_id("customer", ["a@example.com"])
    assert (row["source_system"], row["last_run_id"], row["mapping_name"]) == (
        "shopify",
        "r1",
        "shopify.orders",
    )


def test_older_update_after_newer_changes_nothing(engine: Engine) -> None:
    load(
        engine,
        "sales_order",
        [order("1001", T0 + dt.timedelta(hours=2), payment_status="paid")],
        ctx("shopify", "channel"),
    )
    late = load(
        engine,
        "sales_order",
        [order("1001", T0, payment_status="pending")],
        ctx("shopify", "channel", run="r2"),
    )
    assert (late.stale, late.changed) == (1, 0)
    assert get_order(engine, "1001")["payment_status"] == "paid"


def test_owned_field_is_not_overwritten_by_a_lower_ranked_system(engine: Engine) -> None:
    load(
        engine,
        "sales_order",
        [order("1001", T0, status="processing", grand_total=Decimal("100"))],
        ctx("sap", "erp"),
    )
    res = load(
        engine,
        "sales_order",
        [
            order(
                "1001",
                T0 + dt.timedelta(hours=5),
                status="open",
                grand_total=Decimal("99"),
                channel="web",
            )
        ],
        ctx("shopify", "channel"),
    )
    row = get_order(engine, "1001")
    assert (row["status"], row["grand_total"]) == ("processing", Decimal("100"))
    assert row["channel"] == "web"  # not owned: the channel fills it
    assert res.updated == 1
    # a higher-ranked owner does overwrite
    load(
        engine,
        "sales_order",
        [order("1001", T0 + dt.timedelta(hours=6), status="shipped")],
        ctx("wms", "wms"),
    )
    assert get_order(engine, "1001")["status"] == "shipped"
    assert json.loads(get_order(engine, "1001")["field_sources"])["status"] == "wms|wms"


def test_lower_ranked_system_fills_an_empty_owned_field(engine: Engine) -> None:
    load(engine, "sales_order", [order("1001", T0, status=None)], ctx("sap", "erp"))
    load(engine, "sales_order", [order("1001", T0, status="open")], ctx("shopify", "channel"))
    assert get_order(engine, "1001")["status"] == "open"


def test_null_never_erases_another_systems_value(engine: Engine) -> None:
    load(engine, "sales_order", [order("1001", T0, ship_method="UPS Ground")], ctx("wms", "wms"))
    load(
        engine,
        "sales_order",
        [order("1001", T0, ship_method=None, currency="USD")],
        ctx("shopify", "channel"),
    )
    assert get_order(engine, "1001")["ship_method"] == "UPS Ground"


def test_one_order_from_three_systems_is_one_row_with_three_bindings(engine: Engine) -> None:
    load(
        engine,
        "sales_order",
        [order("1001", T0, _external_id="5853", channel="web")],
        ctx("shopify", "channel"),
    )
    load(engine, "sales_order", [order("1001", T0, _external_id="0000045001")], ctx("sap", "erp"))
    load(engine, "sales_order", [order("1001", T0, _external_id="SO-77")], ctx("wms", "wms"))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SalesOrder.__table__)).scalar() == 1
        assert unwrap(conn, "sales_order", canonical_id("sales_order", ["shopify", "1001"])) == {
            "sap": ["0000045001"],
            "shopify": ["5853"],
            "wms": ["SO-77"],
        }


def test_change_log_holds_changed_fields_only(engine: Engine) -> None:
    load(
        engine,
        "sales_order",
        [order("1001", T0, status="open", currency="USD")],
        ctx("shopify", "channel"),
    )
    load(
        engine,
        "sales_order",
        [order("1001", T0 + dt.timedelta(hours=1), status="shipped", currency="USD")],
        ctx("shopify", "channel", run="r2"),
    )
    t = ChangeLog.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.run_id, t.c.operation, t.c.field, t.c.old_value, t.c.new_value).order_by(
                t.c.id
            )
        ).all()
    # an insert writes no log row: the row names the run and batch that created it
    assert [tuple(r) for r in rows] == [("r2", "update", "status", "open", "shipped")]
    row = get_order(engine, "1001")
    assert (row["created_run_id"], row["created_batch_id"]) == ("r1", "b1")


def test_duplicates_in_one_batch_keep_the_newest(engine: Engine) -> None:
    res = load(
        engine,
        "sales_order",
        [
            order("1001", T0 + dt.timedelta(hours=3), payment_status="paid"),
            order("1001", T0, payment_status="pending"),
        ],
        ctx("shopify", "channel"),
    )
    assert res.inserted == 1
    assert get_order(engine, "1001")["payment_status"] == "paid"


def test_failed_batch_leaves_the_store_as_before(engine: Engine) -> None:
    load(engine, "sales_order", [order("1001", T0, currency="USD")], ctx("shopify", "channel"))
    before = snapshot(engine)
    with pytest.raises(RuntimeError, match="crash"), engine.begin() as conn:
        upsert(
            conn,
            "sales_order",
            frame("sales_order", [order("1002", T0, currency="EUR")]),
            ctx("shopify", "channel"),
            OWN,
        )
        raise RuntimeError("crash after the writes, before commit")
    assert snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Binding.__table__)).scalar() == 1
    # the next run finishes the job
    assert (
        load(
            engine, "sales_order", [order("1002", T0, currency="EUR")], ctx("shopify", "channel")
        ).inserted
        == 1
    )


def test_line_status_and_shipped_quantity_are_derived(engine: Engine) -> None:
    lines = [
        {
            "order_number": "1001",
            "line_no": 1,
            "sku": "A",
            "qty_ordered": Decimal(2),
            "_updated_at": T0,
            "_external_id": "l1",
        }
    ]
    load(engine, "order_line", lines, ctx("shopify", "channel"))
    load(
        engine,
        "shipment_line",
        [
            {
                "carrier": "ups",
                "tracking_number": "1Z1",
                "line_no": 1,
                "order_origin": "shopify",
                "order_number": "1001",
                "sku": "A",
                "qty": Decimal(1),
                "_updated_at": T0,
                "_external_id": "s1",
            }
        ],
        ctx("wms", "wms"),
    )
    with engine.begin() as conn:
        refresh_order_lines(conn, [("shopify", "1001", 1)], ctx("wms", "wms"))
    t = OrderLine.__table__
    with engine.connect() as conn:
        row = conn.execute(select(t.c.qty_shipped, t.c.status)).one()
    assert (row.qty_shipped, row.status) == (Decimal(1), "partially_shipped")


def test_stock_snapshot_becomes_ledger_movements(engine: Engine) -> None:
    def snap(on_hand: int, at: dt.datetime) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "sku": "A",
                    "location_code": "WH",
                    "on_hand": Decimal(on_hand),
                    "allocated": Decimal(0),
                    "as_of": at,
                    "_external_id": "WH|A",
                    "_updated_at": None,
                    "_record": 0,
                }
            ],
            dtype=object,
        )

    c = ctx("wms", "wms")
    with engine.begin() as conn:
        assert apply_snapshot(conn, snap(10, T0), c).changed == 1
    with engine.begin() as conn:
        assert apply_snapshot(conn, snap(10, T0), c).changed == 0  # same snapshot: nothing
    with engine.begin() as conn:
        assert apply_snapshot(conn, snap(7, T0 + dt.timedelta(days=1)), c).changed == 1
    with engine.begin() as conn:
        res = apply_snapshot(conn, snap(99, T0 - dt.timedelta(days=1)), c)
        assert (res.changed, res.stale) == (0, 1)  # older snapshot: stale
    m, p = InventoryMovement.__table__, InventoryPosition.__table__
    with engine.connect() as conn:
        deltas = [r[0] for r in conn.execute(select(m.c.delta_on_hand).order_by(m.c.occurred_at))]
        on_hand = conn.execute(select(p.c.on_hand)).scalar()
    assert deltas == [Decimal(10), Decimal(-3)]
    assert on_hand == sum(deltas) == Decimal(7)


@pytest.mark.parametrize("key", [["1001"], ["1001", 1], ["Zoë", None], [""]])
def test_fast_canonical_id_is_uuid5(key: list[object]) -> None:
    from oms.ids import _reference_id

    assert canonical_id("order_line", key) == _reference_id("order_line", key)
