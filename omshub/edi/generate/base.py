"""What every outbound generator shares: the rows it is given, its context, the values
X12 wants written its own way, and the check of a partner's `required:` list.

A generator is a pure function from store rows to one `Document` (a transaction set's
body and the PO number it is about): the rows are read by `omshub.edi.send`, the
envelope and control numbers are the outbox's, so a generator can be tested, and its
output validated against the set's schema, without a database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oms.errors import DataError
from omshub.edi.outbox import Document
from omshub.edi.partners import PartnerConfig

Row = Mapping[str, Any]
Segment = tuple[str, list[str]]

#: canonical carrier code (config/codes/carrier) -> its SCAC, for TD5/W66 (else the code)
SCAC = {"ups": "UPSN", "fedex": "FDEG", "usps": "USPS", "dhl": "DHLC", "ontrac": "EMSY"}


class GenerateError(DataError):
    """Store rows cannot be written as the set asked for; the message names the set, the
    business key (PO number, tracking number, location) and the field."""


@dataclass(frozen=True)
class Context:
    """Who a document is for and when it is written (the ISA/GS time too)."""

    partner: PartnerConfig
    now: dt.datetime

    @property
    def vendor_number(self) -> str:
        """REF*IA, our vendor number at the partner: `us.vendor_number` when the partner
        file has one, else our ISA id with them (what most retailers assign it from)."""
        return str(getattr(self.partner.us, "vendor_number", None) or self.partner.us.id)

    def free(self, value: Any, limit: int) -> str:
        """Free text (a name, a street, a description) for this partner: the partner's
        delimiters become spaces (a colon in a description must not split an element;
        identifiers are never changed: the writer refuses one that holds a delimiter)."""
        d = self.partner.outbound.delimiters
        found = text(value, 10_000)
        for char in {d.element, d.sub_element, d.segment, d.repetition or ""} - {""}:
            found = found.replace(char, " ")
        return text(found, limit)

    def implementation(self, set_id: str) -> str:
        """ST03 when the partner requires it: the GS08 version the set is written in
        (`004010VICS`), the implementation convention the partner's guide describes."""
        wanted = "ST03" in self.partner.required.get(set_id, [])
        return self.partner.outbound.gs_version if wanted else ""


@dataclass(frozen=True)
class OrderData:
    """A sales order with its lines (by line number) and the products they name."""

    order: Row
    lines: Sequence[Row]
    products: Mapping[str, Row] = field(default_factory=dict)


@dataclass(frozen=True)
class ShipmentData:
    """A shipment, its lines, the orders they ship (by order number) and where from."""

    shipment: Row
    lines: Sequence[Row]
    orders: Mapping[str, OrderData] = field(default_factory=dict)
    ship_from: Row | None = None
    products: Mapping[str, Row] = field(default_factory=dict)


@dataclass(frozen=True)
class StockData:
    """The stock positions of one location (the location row when the store has it)."""

    location_code: str
    positions: Sequence[Row]
    location: Row | None = None
    products: Mapping[str, Row] = field(default_factory=dict)


def document(
    set_id: str,
    body: list[Segment],
    reference: str | None,
    implementation: str = "",
    order_origin: str | None = None,
) -> Document:
    """A `Document` (ST03 when the partner's guide asks; whose order it is about)."""
    return Document(set_id, body, reference, implementation, order_origin)


def implementation_of(doc: Document) -> str:
    return str(getattr(doc, "implementation", "") or "")


def qty(value: Any) -> str:
    """An X12 R value: `12`, `1.5` (no exponent, no trailing zeros, never `-0`)."""
    d = Decimal(value or 0).normalize()
    if d == d.to_integral():
        d = d.quantize(Decimal(1))
    text = format(d, "f")
    return "0" if text in ("-0", "") else text


def money(value: Any) -> str:
    return "" if value is None else qty(Decimal(value).quantize(Decimal("0.01")))


def date8(value: Any) -> str:
    """CCYYMMDD of a date or datetime (times in UTC); '' when none."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC) if value.tzinfo else value
        return value.strftime("%Y%m%d")
    return str(value.strftime("%Y%m%d"))


def time4(value: dt.datetime) -> str:
    """HHMM of a datetime in UTC."""
    return (value.astimezone(dt.UTC) if value.tzinfo else value).strftime("%H%M")


def text(value: Any, limit: int) -> str:
    """Free text for an AN element: one line, spaces collapsed, at most `limit` chars."""
    if value is None:
        return ""
    return re.sub(r"\s+", " ", str(value)).strip()[:limit]


def ident(value: Any, limit: int, what: str) -> str:
    """An identifier (PO number, SKU, tracking number) as written: refused, never cut,
    when it is longer than the element allows (a cut PO number names another order)."""
    found = text(value, 10_000)
    if len(found) > limit:
        raise GenerateError(f"{what} {found!r} is longer than the {limit} characters X12 allows")
    return found


def _sized(value: Any, low: int, high: int) -> str:
    """A coded value (state, country, postal code) when it fits its element, else ''."""
    found = text(value, 10_000)
    return found if low <= len(found) <= high else ""


def uom(product: Row | None) -> str:
    """The unit of measure (355): the product's two-letter code, else EA (each)."""
    code = str((product or {}).get("uom") or "").strip().upper()
    return code if len(code) == 2 and code.isalnum() else "EA"


def product_ids(sku: str, product: Row | None) -> list[str]:
    """(qualifier, id) pairs of an item: VN our SKU, UP/EN the product's GTIN."""
    ids = ["VN", sku]
    gtin = str((product or {}).get("gtin") or "").strip()
    if len(gtin) == 12 and gtin.isdigit():
        ids += ["UP", gtin]
    elif len(gtin) in (13, 14) and gtin.isdigit():
        ids += ["EN", gtin[-13:]] if len(gtin) == 13 else ["UK", gtin]
    return ids


def scac(carrier: Any) -> str:
    code = str(carrier or "").strip()
    return SCAC.get(code.lower(), code.upper()[:4])


def ship_to(ctx: Context, order: Row) -> list[Segment]:
    """N1*ST (name), N3 (street) and N4 (city, state, postal code, country) of an order."""
    name = ctx.free(order.get("ship_to_name"), 60) or ctx.free(order.get("customer_email"), 60)
    segments: list[Segment] = [("N1", ["ST", name or ctx.free(order.get("order_number"), 60)])]
    street = ctx.free(order.get("ship_to_address1"), 55)
    if street:
        segments.append(("N3", [street]))
    n4 = [
        ctx.free(order.get("ship_to_city"), 30),
        _sized(order.get("ship_to_region"), 2, 2).upper(),
        _sized(order.get("ship_to_postal_code"), 3, 15),
        _sized(order.get("ship_to_country_code"), 2, 3).upper(),
    ]
    if any(n4):
        segments.append(("N4", n4))
    return segments
