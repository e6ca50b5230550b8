"""810 Invoice for what one shipment shipped of one PO.

An invoice bills what left the warehouse, so it is written per shipment: BIG with the
invoice date (today), the invoice number (the shipment number, else its tracking number),
the PO date and number; REF*IA our vendor number; N1*ST the ship-to; ITD basic terms
from the invoice date (the terms themselves are the trading agreement's, not the
store's); DTM 011 the ship date; one IT1 per shipped line (the quantity shipped at the
order line's unit price, our SKU as VN, PID the description); TDS the total in cents;
CAD the carrier and tracking number; CTT the number of lines. A line without a unit price
cannot be billed and is refused.
"""

from __future__ import annotations

from decimal import Decimal

from omshub.edi.generate import base as x12
from omshub.edi.generate.base import Context, GenerateError, Row, Segment, ShipmentData
from omshub.edi.outbox import Document

SET_ID = "810"


def _items(
    ctx: Context, data: ShipmentData, lines: list[Row], number: str
) -> tuple[list[Segment], Decimal]:
    order = data.orders.get(number)
    by_no = {int(r["line_no"]): r for r in (order.lines if order else [])}
    body: list[Segment] = []
    total = Decimal(0)
    for line in sorted(lines, key=lambda r: int(r["line_no"])):
        ordered = by_no.get(int(line["line_no"])) or {}
        price = ordered.get("unit_price")
        if price is None:
            raise GenerateError(
                f"810 for {number} line {line['line_no']}: order_line.unit_price is empty"
            )
        sku = x12.ident(line.get("sku") or ordered.get("sku"), 48, "SKU")
        shipped = Decimal(line.get("qty") or 0)
        unit = x12.uom(data.products.get(sku))
        it1 = [str(line["line_no"]), x12.qty(shipped), unit, x12.money(price), "", "VN", sku]
        body.append(("IT1", it1))
        description = ctx.free(ordered.get("description"), 80)
        if description:
            body.append(("PID", ["F", "", "", "", description]))
        total += shipped * Decimal(price)
    return body, total


def invoice_810(ctx: Context, data: ShipmentData) -> Document:
    """The 810 of one shipment (of one PO)."""
    s = data.shipment
    tracking = x12.ident(s.get("tracking_number"), 30, "tracking number")
    numbers = sorted(
        {str(r.get("order_number") or s.get("order_number") or "") for r in data.lines}
    )
    if not data.lines or numbers == [""]:
        raise GenerateError(f"810 for {tracking}: the shipment has no lines of an order")
    if len(numbers) > 1:
        raise GenerateError(f"810 for {tracking}: it ships {', '.join(numbers)}: one PO each")
    number = x12.ident(numbers[0], 22, "PO number")
    order = data.orders.get(number)
    invoice = x12.ident(s.get("shipment_number") or tracking, 22, "invoice number")
    po_date = x12.date8(order.order.get("ordered_at")) if order else ""
    body: list[Segment] = [("BIG", [x12.date8(ctx.now), invoice, po_date, number])]
    body.append(("REF", ["IA", x12.text(ctx.vendor_number, 30)]))
    if order is not None:
        body += x12.ship_to(ctx, order.order)
    body.append(("ITD", ["01", "3"]))
    body.append(("DTM", ["011", x12.date8(s.get("shipped_at") or ctx.now)]))
    items, total = _items(ctx, data, list(data.lines), number)
    body += items
    body.append(("TDS", [str(int((total * 100).quantize(Decimal(1))))]))
    service = ctx.free(s.get("service"), 35)
    body.append(("CAD", ["", "", "", x12.scac(s.get("carrier")), service, "", "CN", tracking]))
    body.append(("CTT", [str(len(data.lines))]))
    return x12.document(SET_ID, body, number, ctx.implementation(SET_ID))
