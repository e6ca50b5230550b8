"""940 Warehouse Shipping Order: ask a 3PL to ship what is open on a sales order.

W05 names the order (W0502 our order number, which the 3PL echoes in its 945 W0602;
W0503 the same number as the PO), N1*ST the ship-to address, N1*SF our location when the
order has one, G62 10 the requested ship date (the promised date), W66 how it travels
(prepaid, the order's ship method as routing, its carrier's SCAC when one is named), then
one LX/W01 per line with something left to ship (ordered less cancelled and shipped):
our SKU as VN, the line number in N9*LI (the 945 quotes it back) and the description in
G69. W76 totals the quantity.
"""

from __future__ import annotations

from decimal import Decimal

from omshub.edi.generate import base as x12
from omshub.edi.generate.base import Context, GenerateError, OrderData, Row, Segment
from omshub.edi.outbox import Document

SET_ID = "940"


def to_ship(line: Row) -> Decimal:
    """What the warehouse still has to ship of a line."""
    ordered = Decimal(line.get("qty_ordered") or 0)
    done = Decimal(line.get("qty_cancelled") or 0) + Decimal(line.get("qty_shipped") or 0)
    return max(ordered - done, Decimal(0))


def _carrier(method: str) -> str:
    """The SCAC of a carrier named in a ship method (`UPS Ground` -> UPSN), else ''."""
    words = method.lower().replace("-", " ").split()
    return next((x12.SCAC[w] for w in words if w in x12.SCAC), "")


def _lines(ctx: Context, data: OrderData, number: str) -> tuple[list[Segment], Decimal]:
    body: list[Segment] = []
    total = Decimal(0)
    for line in sorted(data.lines, key=lambda r: int(r["line_no"])):
        n = to_ship(line)
        if n <= 0:
            continue
        sku = x12.ident(line.get("sku"), 48, "SKU")
        if not sku:
            raise GenerateError(f"940 for {number} line {line['line_no']}: order_line.sku is empty")
        unit = x12.uom(data.products.get(sku))
        body += [("LX", [str(len([s for s in body if s[0] == "LX"]) + 1)])]
        body.append(("W01", [x12.qty(n), unit, "", "VN", sku]))
        description = ctx.free(line.get("description"), 45)
        if description:
            body.append(("G69", [description]))
        body.append(("N9", ["LI", str(line["line_no"])]))
        total += n
    return body, total


def shipping_order_940(ctx: Context, data: OrderData) -> Document:
    """The 940 of one order; refused when nothing on it is left to ship."""
    order = data.order
    number = x12.ident(order.get("order_number"), 22, "order number")
    lines, total = _lines(ctx, data, number)
    if not lines:
        raise GenerateError(f"940 for {number}: no line has anything left to ship")
    body: list[Segment] = [("W05", ["N", number, number]), *x12.ship_to(ctx, order)]
    if order.get("location_code"):
        code = x12.text(order["location_code"], 80)
        body.append(("N1", ["SF", code, "92", code]))
    if order.get("promised_date"):
        body.append(("G62", ["10", x12.date8(order["promised_date"])]))
    method = ctx.free(order.get("ship_method"), 35)
    w66 = ["PP", "M", "", "", method]
    carrier = _carrier(method)
    if carrier:
        w66 += ["", "", "", "", carrier]
    body.append(("W66", w66))
    body += lines
    body.append(("W76", [x12.qty(total)]))
    origin = order.get("order_origin")  # the 945 quotes W0502 only: the registry keeps whose
    return x12.document(SET_ID, body, number, ctx.implementation(SET_ID), origin)
