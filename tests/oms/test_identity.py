"""Scoped identity (DESIGN.md §3): nothing merges by coincidence of values.

Real mapping files are compiled and applied, and their frames loaded into a real store
(SQLite and PostgreSQL), the way a batch is processed.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from oms.bindings import unwrap
from oms.derive import refresh_order_lines, touched_lines
from oms.ids import canonical_id
from oms.loader import LoadContext, Loader
from oms.models import (
    Customer,
    OrderLine,
    ReturnOrder,
    SalesOrder,
    Shipment,
    TrackingEvent,
    table,
)
from omshub.mappings import code_lists
from transforms.compiler import RECORD, compile_mapping

NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)

SHOP_ORDERS = """\
    mapping: {name}.orders
    version: 1
    entity: sales_order
    external_id: id
    updated_at: updated_at
    fields:
      order_number: {{path: number, required: true}}
      channel: {{const: web}}
      customer_email: {{path: email, transforms: [strip, lower]}}
      customer_external_id: {{path: customer_id, type: string}}
      grand_total: total
    children:
      - entity: order_line
        path: lines
        external_id: {{expr: "concat(_parent.id, '/', sku)"}}
        updated_at: ^.updated_at
        fields:
          order_number: {{parent: order_number}}
          line_no: {{index: 1}}
          sku: {{path: sku, required: true}}
          qty_ordered: qty
"""

ERP_ORDERS = """\
    mapping: erp.orders
    version: 1
    entity: sales_order
    external_id: doc
    updated_at: updated_at
    fields:
      order_origin: {const: shopify}     # the ERP quotes Shopify's order number
      order_number: {path: web_ref, required: true}
      grand_total: total
"""

SHIPMENTS = """\
    mapping: wms.shipments
    version: 1
    entity: shipment
    external_id: id
    updated_at: at
    fields:
      carrier: {path: carrier, code: carrier, required: true}
      tracking_number: {path: tracking, required: true}
      order_origin: {const: shopify}
      order_number: {path: order, required: true}
    children:
      - entity: shipment_line
        path: "."
        external_id: {expr: "concat(id, '/', line)"}
        updated_at: at
        fields:
          carrier: {parent: carrier}
          tracking_number: {parent: tracking_number}
          line_no: {path: line, required: true}
          order_origin: {parent: order_origin}
          order_number: {parent: order_number}
          qty: qty
"""

TRACKERS = """\
    mapping: carrier.trackers
    version: 1
    entity: shipment
    external_id: id
    updated_at: at
    fields:
      carrier: {path: carrier, code: carrier, required: true}
      tracking_number: {path: tracking, required: true}
      status: {const: in_transit}
    children:
      - entity: tracking_event
        path: events
        updated_at: ^.at
        fields:
          carrier: {parent: carrier}
          tracking_number: {parent: tracking_number}
          occurred_at: {path: at, required: true}
          code: {path: code, required: true}
"""

RETURNS = """\
    mapping: {name}.returns
    version: 1
    entity: return_order
    external_id: rma
    updated_at: at
    fields:
      rma_number: {{path: rma, required: true}}
      order_origin: {{const: shopify}}
      order_number: {{path: order, required: true}}
"""

CUSTOMERS = """\
    mapping: pos.customers
    version: 1
    entity: customer
    external_id: customer_id
    updated_at: at
    fields:
      email: {path: email, transforms: [strip, lower]}
      first_name: name
"""


def load(
    engine: Engine, tmp: Path, system: str, mapping: str, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Compile `mapping`, map `records` and load every frame as `system` (one batch)."""
    path = tmp / f"{system}-{abs(hash(mapping))}.yaml"
    path.write_text(textwrap.dedent(mapping))
    compiled = compile_mapping(path, code_lists())
    mapped = compiled.apply(records)
    assert not mapped.errors, mapped.errors
    ctx = LoadContext(system, None, "r1", f"{system}-b1", compiled.name, "1", NOW)
    results: dict[str, Any] = {}
    line_keys: set[tuple[Any, ...]] = set()
    with engine.begin() as conn:
        for entity in dict.fromkeys(compiled.entities):
            frame = mapped.frames[entity].drop(columns=[RECORD])
            results[entity] = Loader().load(conn, entity, frame, ctx)
            line_keys |= touched_lines(entity, frame, results[entity].changed_keys)
        refresh_order_lines(conn, line_keys, ctx)
    return results


def rows(engine: Engine, model: Any, *cols: str) -> list[tuple[Any, ...]]:
    t = table(model)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*(t.c[c] for c in cols)).order_by(*cols))]


def shop_order(oid: int, number: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": oid,
        "number": number,
        "total": "10",
        "updated_at": "2026-11-20T10:00:00Z",
        "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
        **extra,
    }


def test_a_second_shops_order_1001_is_a_separate_order(engine: Engine, tmp_path: Path) -> None:
    load(
        engine, tmp_path, "shopify", SHOP_ORDERS.format(name="shopify"), [shop_order(5853, "1001")]
    )
    load(engine, tmp_path, "bigcommerce", SHOP_ORDERS.format(name="bc"), [shop_order(77, "1001")])
    # the ERP quotes Shopify's #1001 explicitly: it binds to Shopify's order, not BigCommerce's
    load(
        engine,
        tmp_path,
        "sap",
        ERP_ORDERS,
        [
            {
                "doc": "0000045001",
                "web_ref": "1001",
                "total": "12",
                "updated_at": "2026-11-20T11:00:00Z",
            }
        ],
    )
    assert rows(engine, SalesOrder, "order_origin", "order_number", "grand_total") == [
        ("bigcommerce", "1001", 10),
        ("shopify", "1001", 12),
    ]
    assert rows(engine, OrderLine, "order_origin", "order_number", "line_no") == [
        ("bigcommerce", "1001", 1),
        ("bigcommerce", "1001", 2),
        ("shopify", "1001", 1),
        ("shopify", "1001", 2),
    ]
    shop_id = canonical_id("sales_order", ["shopify", "1001"])
    bc_id = canonical_id("sales_order", ["bigcommerce", "1001"])
    assert shop_id != bc_id
    with engine.connect() as conn:
        assert unwrap(conn, "sales_order", shop_id) == {"sap": ["0000045001"], "shopify": ["5853"]}
        assert unwrap(conn, "sales_order", bc_id) == {"bigcommerce": ["77"]}
    lines = table(OrderLine)
    with engine.connect() as conn:
        parents = set(conn.execute(select(lines.c.order_origin, lines.c.order_id)))
    assert parents == {("shopify", shop_id), ("bigcommerce", bc_id)}


def wms_shipment(tracking: str, qty: int) -> dict[str, Any]:
    """One WMS confirmation row: UPS (in the WMS's capitals) shipped line 1 of order 1001."""
    return {
        "id": "S1",
        "carrier": "UPS",
        "tracking": tracking,
        "order": "1001",
        "line": 1,
        "qty": qty,
        "at": "2026-11-21T10:00:00Z",
    }


def test_a_shipment_quoting_the_order_updates_the_right_orders_lines(
    engine: Engine, tmp_path: Path
) -> None:
    load(engine, tmp_path, "shopify", SHOP_ORDERS.format(name="shopify"), [shop_order(1, "1001")])
    load(engine, tmp_path, "bigcommerce", SHOP_ORDERS.format(name="bc"), [shop_order(2, "1001")])
    load(
        engine,
        tmp_path,
        "wms",
        SHIPMENTS,
        [wms_shipment("1Z9", qty=2)],
    )
    assert rows(engine, OrderLine, "order_origin", "line_no", "qty_shipped", "status") == [
        ("bigcommerce", 1, None, "open"),
        ("bigcommerce", 2, None, "open"),
        ("shopify", 1, 2, "shipped"),
        ("shopify", 2, None, "open"),
    ]
    assert rows(engine, Shipment, "carrier", "order_origin", "order_id") == [
        ("ups", "shopify", canonical_id("sales_order", ["shopify", "1001"]))
    ]


def test_two_carriers_identical_tracking_numbers_are_two_shipments(
    engine: Engine, tmp_path: Path
) -> None:
    def tracker(tid: str, carrier: str) -> dict[str, Any]:
        return {
            "id": tid,
            "carrier": carrier,
            "tracking": "123456789012",
            "at": "2026-11-21T12:00:00Z",
            "events": [{"at": "2026-11-21T09:00:00Z", "code": "label_created"}],
        }

    load(
        engine, tmp_path, "easypost", TRACKERS, [tracker("trk_1", "FedEx"), tracker("trk_2", "ups")]
    )
    # the WMS spells UPS in capitals: the carrier code list makes it the same shipment
    load(
        engine,
        tmp_path,
        "wms",
        SHIPMENTS,
        [wms_shipment("123456789012", qty=1)],
    )
    assert rows(engine, Shipment, "carrier", "tracking_number", "status", "order_number") == [
        ("fedex", "123456789012", "in_transit", None),
        ("ups", "123456789012", "in_transit", "1001"),
    ]
    assert rows(engine, TrackingEvent, "carrier", "shipment_id") == [
        ("fedex", canonical_id("shipment", ["fedex", "123456789012"])),
        ("ups", canonical_id("shipment", ["ups", "123456789012"])),
    ]


def test_two_guest_orders_sharing_a_customer_external_id_load(
    engine: Engine, tmp_path: Path
) -> None:
    # a POS sends walk-in sales under one customer id "0": without an email they are the
    # POS's customer "0"; with different emails they are two customers, and the binding of
    # "0" names the newest
    guests: list[dict[str, Any]] = [
        {"customer_id": "0", "email": None, "name": "Walk-in", "at": "2026-11-21T10:00:00Z"},
        {"customer_id": "0", "email": None, "name": "Walk-in", "at": "2026-11-21T11:00:00Z"},
        {"customer_id": "0", "email": "A@x.com", "name": "Ann", "at": "2026-11-21T12:00:00Z"},
        {"customer_id": "0", "email": "b@x.com", "name": "Ben", "at": "2026-11-21T13:00:00Z"},
    ]
    first = load(engine, tmp_path, "square", CUSTOMERS, guests)
    assert first["customer"].inserted == 3
    assert rows(engine, Customer, "customer_key", "email", "first_name") == [
        ("a@x.com", "a@x.com", "Ann"),
        ("b@x.com", "b@x.com", "Ben"),
        ("square:0", None, "Walk-in"),
    ]
    with engine.connect() as conn:
        assert unwrap(conn, "customer", canonical_id("customer", ["b@x.com"])) == {"square": ["0"]}
    again = load(engine, tmp_path, "square", CUSTOMERS, guests)
    assert again["customer"].changed == 0
    # guest orders refer to their customer by the same rule
    orders = [
        shop_order(1, "G1", email=None, customer_id=0),
        shop_order(2, "G2", email=None, customer_id=0),
        shop_order(3, "G3", email="B@X.com", customer_id=0),
    ]
    load(engine, tmp_path, "square", SHOP_ORDERS.format(name="pos"), orders)
    assert rows(engine, SalesOrder, "order_number", "customer_key", "customer_id") == [
        ("G1", "square:0", canonical_id("customer", ["square:0"])),
        ("G2", "square:0", canonical_id("customer", ["square:0"])),
        ("G3", "b@x.com", canonical_id("customer", ["b@x.com"])),
    ]


def test_rma_numbers_are_unique_within_their_issuer(engine: Engine, tmp_path: Path) -> None:
    rma = [{"rma": "RMA-1", "order": "1001", "at": "2026-11-22T10:00:00Z"}]
    load(engine, tmp_path, "wms", RETURNS.format(name="wms"), rma)
    load(engine, tmp_path, "shopify", RETURNS.format(name="shopify"), rma)
    assert rows(engine, ReturnOrder, "rma_issuer", "rma_number", "order_origin") == [
        ("shopify", "RMA-1", "shopify"),
        ("wms", "RMA-1", "shopify"),
    ]


GUEST_ORDERS = """\
    mapping: pos.orders
    version: 1
    entity: sales_order
    external_id: id
    updated_at: updated_at
    fields:
      order_number: {path: number, required: true}
      customer_email: {path: customer.email, transforms: [strip, lower]}
      customer_external_id: {path: customer.id, type: string}
    children:
      - entity: customer
        path: customer
        external_id: {path: id, type: string}
        updated_at: ^.updated_at
        fields:
          email: {path: email, transforms: [strip, lower]}
          first_name: name
"""


def test_guest_orders_with_a_shared_customer_record_load_twice(
    engine: Engine, tmp_path: Path
) -> None:
    """The case that raised a binding IntegrityError: each guest order nests its customer,
    all with the POS's customer id 0."""
    orders = [
        {
            "id": 1,
            "number": "P1",
            "updated_at": "2026-11-21T10:00:00Z",
            "customer": {"id": 0, "email": None, "name": "Walk-in"},
        },
        {
            "id": 2,
            "number": "P2",
            "updated_at": "2026-11-21T11:00:00Z",
            "customer": {"id": 0, "email": None, "name": "Walk-in"},
        },
        {
            "id": 3,
            "number": "P3",
            "updated_at": "2026-11-21T12:00:00Z",
            "customer": {"id": 0, "email": "c@x.com", "name": "Cy"},
        },
    ]
    load(engine, tmp_path, "square", GUEST_ORDERS, orders)
    again = load(engine, tmp_path, "square", GUEST_ORDERS, orders)
    assert (again["sales_order"].changed, again["customer"].changed) == (0, 0)
    assert rows(engine, Customer, "customer_key", "first_name") == [
        ("c@x.com", "Cy"),
        ("square:0", "Walk-in"),
    ]
    assert rows(engine, SalesOrder, "order_origin", "order_number", "customer_id") == [
        ("square", "P1", canonical_id("customer", ["square:0"])),
        ("square", "P2", canonical_id("customer", ["square:0"])),
        ("square", "P3", canonical_id("customer", ["c@x.com"])),
    ]
