"""856 Ship Notice/Manifest from a shipment, its lines and the orders they ship.

The VICS 004010 hierarchy, pick-and-pack structure without packs (BSN05 0004: shipment,
order, item): one HL S for the shipment (TD5 carrier and service, REF*CN tracking
number, REF*IA our vendor number, DTM 011 shipped and 017 estimated delivery, N1 ship
from and ship to), under it one HL O per order (PRF with the PO number and date), under
each one HL I per shipped line (LIN with our SKU as VN and the line number, SN1 with the
quantity shipped and ordered). CTT01 counts the HL segments.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from omshub.edi.generate.base import (
    Context,
    GenerateError,
    OrderData,
    Row,
    Segment,
    ShipmentData,
    date8,
    document,
    ident,
    product_ids,
    qty,
    scac,
    ship_to,
    text,
    time4,
    uom,
)
from omshub.edi.outbox import Document

SET_ID = "856"
STRUCTURE = "0004"  # shipment, order, item


def _shipment_level(ctx: Context, data: ShipmentData, order: OrderData | None) -> list[Segment]:
    s = data.shipment
    td5 = ["", "2", scac(s.get("carrier")), "", ctx.free(s.get("service"), 35)]
    out: list[Segment] = [("TD5", td5)]
    out.append(("REF", ["CN", ident(s.get("tracking_number"), 30, "tracking number")]))
    out.append(("REF", ["IA", text(ctx.vendor_number, 30)]))
    shipped = date8(s.get("shipped_at")) or date8(ctx.now)
    out.append(("DTM", ["011", shipped]))
    if s.get("estimated_delivery"):
        out.append(("DTM", ["017", date8(s["estimated_delivery"])]))
    origin = data.ship_from
    if origin is not None or s.get("origin_location"):
        code = text((origin or {}).get("code") or s.get("origin_location"), 80)
        name = ctx.free((origin or {}).get("name"), 60) or code
        out.append(("N1", ["SF", name, "92", code]))
    if order is not None:
        out += ship_to(ctx, order.order)
    return out


def _items(lines: list[Row], order: OrderData | None, data: ShipmentData) -> list[list[Segment]]:
    """LIN + SN1 of each shipped line of one order."""
    by_no = {int(r["line_no"]): r for r in (order.lines if order else [])}
    items: list[list[Segment]] = []
    for line in sorted(lines, key=lambda r: int(r["line_no"])):
        ordered = by_no.get(int(line["line_no"]))
        sku = ident(line.get("sku") or (ordered or {}).get("sku"), 48, "SKU")
        if not sku:
            key = f"{line.get('tracking_number')} line {line.get('line_no')}"
            raise GenerateError(f"856 for {key}: shipment_line.sku is empty")
        product = data.products.get(sku) or (order.products.get(sku) if order else None)
        unit = uom(product)
        sn1 = ["", qty(line.get("qty")), unit]
        if ordered is not None and ordered.get("qty_ordered") is not None:
            sn1 += ["", qty(ordered["qty_ordered"]), unit]
        items.append([("LIN", [str(line["line_no"]), *product_ids(sku, product)]), ("SN1", sn1)])
    return items


def _shipment_id(shipment: Row, tracking: str) -> str:
    """BSN02: the shipment number when it fits its 30 characters, else the tracking number."""
    number = text(shipment.get("shipment_number"), 10_000)
    return number if 0 < len(number) <= 30 else tracking


def ship_notice_856(ctx: Context, data: ShipmentData) -> Document:
    """The 856 of one shipment; its reference is the (first) PO number it ships."""
    s = data.shipment
    tracking = ident(s.get("tracking_number"), 30, "tracking number")
    if not data.lines:
        raise GenerateError(f"856 for {tracking}: the shipment has no lines in the store")
    by_order: dict[str, list[Row]] = defaultdict(list)
    for line in data.lines:
        by_order[str(line.get("order_number") or s.get("order_number") or "")].append(line)
    if "" in by_order:
        raise GenerateError(f"856 for {tracking}: shipment_line.order_number is empty")
    numbers = sorted(by_order)
    first = data.orders.get(numbers[0])
    shipped = s.get("shipped_at") or ctx.now
    bsn = ["00", _shipment_id(s, tracking), date8(shipped)]
    bsn += [time4(shipped), STRUCTURE]
    body: list[Segment] = [("BSN", bsn)]
    body += [("HL", ["1", "", "S", "1"]), *_shipment_level(ctx, data, first)]
    count = 1
    for number in numbers:
        order = data.orders.get(number)
        count += 1
        parent = str(count)
        body.append(("HL", [parent, "1", "O", "1"]))
        po_date = date8(order.order.get("ordered_at")) if order else ""
        body.append(("PRF", [ident(number, 22, "PO number"), "", "", po_date]))
        for item in _items(by_order[number], order, data):
            count += 1
            body += [("HL", [str(count), parent, "I", "0"]), *item]
    total = sum((Decimal(r.get("qty") or 0) for r in data.lines), Decimal(0))
    body.append(("CTT", [str(count), qty(total)]))
    return document(SET_ID, body, numbers[0], ctx.implementation(SET_ID))
