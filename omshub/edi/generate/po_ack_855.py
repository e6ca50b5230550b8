"""855 Purchase Order Acknowledgment from a sales order and its lines.

BAK says what happens to the PO as a whole (AD accepted as ordered, AC accepted with
changes, RJ rejected) with the PO number and date; each line is echoed (PO1, our SKU as
VN) with one ACK per part of it: IA accepted, IB backordered, IR rejected. The parts come
from the line's quantities as the store derives them: the cancelled quantity is rejected;
of the rest, a line with stock allocated or shipped is accepted up to that quantity and
backordered beyond it; a line not allocated yet is accepted whole (acknowledging a PO
does not wait for allocation). A cancelled order (an 850 with BEG01 01) is rejected.
"""

from __future__ import annotations

from decimal import Decimal

from omshub.edi.generate.base import (
    Context,
    GenerateError,
    OrderData,
    Row,
    Segment,
    date8,
    document,
    ident,
    money,
    product_ids,
    qty,
    text,
    uom,
)
from omshub.edi.outbox import Document

SET_ID = "855"
ACCEPTED, BACKORDERED, REJECTED = "IA", "IB", "IR"


def line_parts(line: Row, order_cancelled: bool = False) -> list[tuple[str, Decimal]]:
    """(ACK01 status, quantity) of each non-empty part of an order line; every line of a
    cancelled order is rejected whole."""
    ordered = Decimal(line.get("qty_ordered") or 0)
    if order_cancelled:
        return [(REJECTED, ordered)]
    cancelled = min(Decimal(line.get("qty_cancelled") or 0), ordered)
    open_qty = ordered - cancelled
    committed = max(Decimal(line.get("qty_allocated") or 0), Decimal(line.get("qty_shipped") or 0))
    if line.get("status") in (None, "open") and committed == 0:
        committed = open_qty
    accepted = min(committed, open_qty)
    parts = [(ACCEPTED, accepted), (BACKORDERED, open_qty - accepted), (REJECTED, cancelled)]
    found = [(code, n) for code, n in parts if n > 0]
    return found or [(REJECTED, ordered)]


def _ack_type(codes: set[str]) -> str:
    if codes == {REJECTED}:
        return "RJ"
    return "AD" if codes == {ACCEPTED} else "AC"


def _line(line: Row, data: OrderData, promised: str) -> tuple[list[Segment], set[str]]:
    cancelled = data.order.get("status") == "cancelled"
    sku = ident(line.get("sku"), 48, "SKU")
    if not sku:
        key = f"{line.get('order_number')} line {line.get('line_no')}"
        raise GenerateError(f"855 for {key}: order_line.sku is empty")
    product = data.products.get(sku)
    unit = uom(product)
    po1 = [str(line["line_no"]), qty(line.get("qty_ordered")), unit, money(line.get("unit_price"))]
    segments: list[Segment] = [("PO1", [*po1, "", *product_ids(sku, product)])]
    codes: set[str] = set()
    for code, n in line_parts(line, cancelled):
        ack = [code, qty(n), unit]
        if code != REJECTED and promised:
            ack += ["068", promised]  # 068: current schedule ship date
        segments.append(("ACK", ack))
        codes.add(code)
    return segments, codes


def po_ack_855(ctx: Context, data: OrderData) -> Document:
    """The 855 of one order (its order number is the PO number it acknowledges)."""
    order = data.order
    po = ident(order.get("order_number"), 22, "PO number")
    if not data.lines:
        raise GenerateError(f"855 for {po}: the order has no lines in the store")
    ordered = date8(order.get("ordered_at")) or date8(ctx.now)
    promised = date8(order.get("promised_date"))
    lines: list[Segment] = []
    codes: set[str] = set()
    for line in sorted(data.lines, key=lambda r: int(r["line_no"])):
        segments, line_codes = _line(line, data, promised)
        lines += segments
        codes |= line_codes
    bak = ["00", _ack_type(codes), po, ordered, "", "", "", "", date8(ctx.now)]
    head: list[Segment] = [("BAK", bak)]
    if order.get("currency"):
        head.append(("CUR", ["SE", str(order["currency"]).upper()]))
    head.append(("REF", ["IA", text(ctx.vendor_number, 30)]))
    total = sum((Decimal(r.get("qty_ordered") or 0) for r in data.lines), Decimal(0))
    ctt: Segment = ("CTT", [str(len(data.lines)), qty(total)])
    return document(SET_ID, [*head, *lines, ctt], po, ctx.implementation(SET_ID))
