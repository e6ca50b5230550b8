"""Store rows for the generators, selected by the natural keys people type.

Order numbers are unique only per originating system (`order_origin`): a key matches
every origin's order of that number, the partner's own (its POs load with the partner
id as origin) wins, and otherwise more than one match is ambiguous; `origin:number`
names one. A tracking number is unique per carrier: `carrier:tracking` names one when
two carriers share it. A key that matches nothing is a `MissingKey` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, select, tuple_

from oms.errors import DataError
from oms.models import (
    InventoryPosition,
    Location,
    OrderLine,
    Product,
    SalesOrder,
    Shipment,
    ShipmentLine,
    table,
)
from omshub.edi.generate.base import OrderData, Row, ShipmentData, StockData


class MissingKey(DataError):
    """A key given to `omshub edi send` matches no store row (or more than one)."""


def _rows(conn: Connection, t: Table, *where: Any) -> list[Row]:
    return [dict(r) for r in conn.execute(select(t).where(*where)).mappings()]


def _pick(rows: list[Row], key: str, scope: str, prefer: str, what: str) -> Row:
    """One row of several sharing a key: the preferred scope's, else the only one."""
    if len(rows) == 1:
        return rows[0]
    own = [r for r in rows if r.get(scope) == prefer]
    if len(own) == 1:
        return own[0]
    scopes = ", ".join(sorted(str(r.get(scope)) for r in rows))
    raise MissingKey(
        f"{what} {key!r} is ambiguous: it exists for {scope} {scopes}; write {scope}:{key}"
    )


def _scoped(key: str, column: Any, scope: Any) -> list[Any]:
    """`number`, or `scope:number` when the key has a colon (`shopify:1001`)."""
    plain = column == key
    if ":" not in key:
        return [plain]
    head, _, tail = key.partition(":")
    return [plain | ((scope == head) & (column == tail))]


def products(conn: Connection, skus: Iterable[Any]) -> dict[str, Row]:
    wanted = sorted({str(s) for s in skus if s})
    if not wanted:
        return {}
    p = table(Product)
    return {str(r["sku"]): r for r in _rows(conn, p, p.c.sku.in_(wanted))}


def find_order(conn: Connection, key: str, prefer: str, what: str = "order") -> Row:
    so = table(SalesOrder)
    rows = _rows(conn, so, *_scoped(key, so.c.order_number, so.c.order_origin))
    if not rows:
        raise MissingKey(f"no sales_order with order number {key!r} in the store")
    return _pick(rows, key, "order_origin", prefer, what)


def order_data(conn: Connection, order: Row) -> OrderData:
    ol = table(OrderLine)
    # the indexed `order_id` (the order's id) first, then its natural key
    lines = _rows(
        conn,
        ol,
        ol.c.order_id == order["id"],
        ol.c.order_origin == order["order_origin"],
        ol.c.order_number == order["order_number"],
    )
    return OrderData(order, lines, products(conn, (r.get("sku") for r in lines)))


def orders(conn: Connection, keys: Sequence[str], prefer: str) -> list[OrderData]:
    """Each key's order with its lines and products."""
    return [order_data(conn, find_order(conn, k, prefer)) for k in keys]


def _shipments_of(conn: Connection, key: str, prefer: str) -> list[Row]:
    sh = table(Shipment)
    found = _rows(conn, sh, *_scoped(key, sh.c.tracking_number, sh.c.carrier))
    if found:
        return [_pick(found, key, "carrier", "", "tracking number")]
    try:
        order = find_order(conn, key, prefer)
    except MissingKey:
        raise MissingKey(
            f"no shipment with tracking number {key!r} and no order {key!r} in the store"
        ) from None
    where = [sh.c.order_number == order["order_number"], sh.c.order_origin == order["order_origin"]]
    rows = _rows(conn, sh, *where)
    if not rows:
        raise MissingKey(f"order {key!r} has no shipment in the store")
    return sorted(rows, key=lambda r: (str(r["carrier"]), str(r["tracking_number"])))


def shipment_data(conn: Connection, shipment: Row, prefer: str) -> ShipmentData:
    sl, so = table(ShipmentLine), table(SalesOrder)
    keys = (shipment["carrier"], shipment["tracking_number"])
    lines = _rows(conn, sl, tuple_(sl.c.carrier, sl.c.tracking_number) == keys)
    default = shipment.get("order_origin") or prefer
    wanted = {
        (r.get("order_origin") or default, r.get("order_number") or shipment.get("order_number"))
        for r in lines
    }
    found: dict[str, OrderData] = {}
    for origin, number in sorted(wanted, key=str):
        rows = _rows(conn, so, so.c.order_number == number, so.c.order_origin == origin)
        if rows:
            found[str(number)] = order_data(conn, rows[0])
    loc = None
    if shipment.get("origin_location"):
        lt = table(Location)
        hits = _rows(conn, lt, lt.c.code == shipment["origin_location"])
        loc = hits[0] if hits else None
    skus = [r.get("sku") for r in lines]
    return ShipmentData(shipment, lines, found, loc, products(conn, skus))


def shipments(conn: Connection, keys: Sequence[str], prefer: str) -> list[ShipmentData]:
    """Each key's shipments (a tracking number's one, or every one of an order)."""
    return [shipment_data(conn, s, prefer) for k in keys for s in _shipments_of(conn, k, prefer)]


def stock(conn: Connection, keys: Sequence[str]) -> list[StockData]:
    """Each location's stock positions."""
    ip, lt = table(InventoryPosition), table(Location)
    out: list[StockData] = []
    for code in keys:
        positions = _rows(conn, ip, ip.c.location_code == code)
        locations = _rows(conn, lt, lt.c.code == code)
        if not positions:
            known = "a location with" if locations else "no location and"
            raise MissingKey(f"{known} no inventory_position rows for location {code!r}")
        skus = [r["sku"] for r in positions]
        loc = locations[0] if locations else None
        out.append(StockData(code, positions, loc, products(conn, skus)))
    return out
