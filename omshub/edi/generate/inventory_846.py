"""846 Inventory Inquiry/Advice: the stock of one location, for a partner that wants it.

BIA (00 original, DD distributor inventory report) names the report by location and
time; N1*WH the location; one LIN per SKU (our SKU as VN) with QTY 33 available to sell
(on hand less allocated, never below zero) and QTY 17 on hand. CTT counts the items.
The reference is the location code: stock reports are about a place, not a PO.
"""

from __future__ import annotations

from decimal import Decimal

from omshub.edi.generate.base import (
    Context,
    GenerateError,
    Segment,
    StockData,
    date8,
    document,
    ident,
    product_ids,
    qty,
    text,
    time4,
    uom,
)
from omshub.edi.outbox import Document

SET_ID = "846"


def inventory_846(ctx: Context, data: StockData) -> Document:
    """The 846 of one location's positions, SKUs in order."""
    code = ident(data.location_code, 80, "location code")
    if not data.positions:
        raise GenerateError(f"846 for location {code}: no inventory_position rows")
    report = text(f"{code}-{ctx.now:%Y%m%d%H%M}", 30)
    body: list[Segment] = [("BIA", ["00", "DD", report, date8(ctx.now), time4(ctx.now)])]
    name = ctx.free((data.location or {}).get("name"), 60) or code
    body.append(("N1", ["WH", name, "92", code]))
    for n, pos in enumerate(sorted(data.positions, key=lambda r: str(r["sku"])), 1):
        sku = ident(pos["sku"], 48, "SKU")
        product = data.products.get(sku)
        unit = uom(product)
        on_hand = Decimal(pos.get("on_hand") or 0)
        available = max(on_hand - Decimal(pos.get("allocated") or 0), Decimal(0))
        body.append(("LIN", [str(n), *product_ids(sku, product)]))
        body.append(("QTY", ["33", qty(available), unit]))
        body.append(("QTY", ["17", qty(on_hand), unit]))
    body.append(("CTT", [str(len(data.positions))]))
    return document(SET_ID, body, code, ctx.implementation(SET_ID))
