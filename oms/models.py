"""Canonical OMS model v1 (DESIGN.md §3) as typed SQLAlchemy 2 tables.

Business tables share `Provenance` columns: who wrote the row last, from which run and
landed batch, with which mapping version, and which system set each owned field.
Cross-entity references are stored both as the parent's natural key (readable, known
before the parent arrives) and as its deterministic id (`oms.ids`); there are no FK
constraints between entities that different systems deliver, because sources arrive out
of order. Parent and child of one record (order and its lines) arrive together.
Natural keys are scoped (`oms.entities`): an order number by its `order_origin`, a
tracking number by its carrier, an RMA by its `rma_issuer`; references carry the scope.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.base import NAMING, Base, Id, table  # noqa: F401  (re-exported)

# the bookkeeping tables share the store's one metadata; callers import them from here too
from oms.bookkeeping import (  # noqa: F401  (re-exported)
    Binding,
    ChangeLog,
    EdiInterchange,
    LandedBatch,
    Quarantine,
    RunStat,
    SyncRun,
    Watermark,
)
from oms.types import Money, UTCDateTime

Qty = Money  # quantities are exact decimals too (1.5 kg, 0.25 m)


class Provenance:
    """Columns every business row carries (DESIGN.md §4, provenance)."""

    #: UUIDv5 of the entity and its natural key (oms.ids): the same in every store
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    #: the system that wrote the row last
    source_system: Mapped[str | None] = mapped_column(String(64))
    #: that system's last-change time of the record (the mapping's `updated_at`)
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: the mapping that wrote the row last
    mapping_name: Mapped[str | None] = mapped_column(String(128))
    #: that mapping's `version`
    mapping_version: Mapped[str | None] = mapped_column(String(32))
    #: the run that wrote the row last
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    #: the landed batch that wrote the row last
    last_batch_id: Mapped[str | None] = mapped_column(String(64))
    #: JSON {field: system}: which system set each owned field (config/ownership.yaml)
    field_sources: Mapped[str | None] = mapped_column(Text)
    #: when the store inserted the row
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: when the store last changed the row
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: the run that inserted the row (inserts write no change-log row)
    created_run_id: Mapped[str | None] = mapped_column(String(64))
    #: the landed batch that inserted the row
    created_batch_id: Mapped[str | None] = mapped_column(String(64))


# --- master data -----------------------------------------------------------------------


class Customer(Provenance, Base):
    __tablename__ = "customer"
    #: normalised email, else `<system>:<the system's customer id>` (oms.entities)
    customer_key: Mapped[str] = mapped_column(String(320), unique=True)
    #: as the system sent it; the customer key uses it normalised
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    company: Mapped[str | None] = mapped_column(String(256))
    phone: Mapped[str | None] = mapped_column(String(64))
    address1: Mapped[str | None] = mapped_column(String(256))
    address2: Mapped[str | None] = mapped_column(String(256))
    city: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(64))
    postal_code: Mapped[str | None] = mapped_column(String(32))
    country_code: Mapped[str | None] = mapped_column(String(2))


class Product(Provenance, Base):
    __tablename__ = "product"
    #: the canonical stock-keeping unit; other systems' ids map to it (product_alias)
    sku: Mapped[str] = mapped_column(String(128), unique=True)
    #: GTIN/EAN/UPC barcode, up to 14 digits
    gtin: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str | None] = mapped_column(String(512))
    #: unit of measure sold (EA, KG, ...)
    uom: Mapped[str | None] = mapped_column(String(16))
    weight: Mapped[Decimal | None] = mapped_column(Qty())
    weight_uom: Mapped[str | None] = mapped_column(String(8))
    list_price: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))


class ProductAlias(Provenance, Base):
    """A system's own product identifier (variant id, catalog id, UPC) for a canonical SKU."""

    __tablename__ = "product_alias"
    __table_args__ = (UniqueConstraint("system", "alias"),)
    system: Mapped[str] = mapped_column(String(64))
    alias: Mapped[str] = mapped_column(String(128))
    sku: Mapped[str] = mapped_column(String(128))
    product_id: Mapped[str | None] = mapped_column(Id)


class Location(Provenance, Base):
    __tablename__ = "location"
    #: the canonical location code (warehouse, store, 3PL site)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(256))
    kind: Mapped[str | None] = mapped_column(String(16))
    address1: Mapped[str | None] = mapped_column(String(256))
    city: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(64))
    postal_code: Mapped[str | None] = mapped_column(String(32))
    country_code: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[Decimal | None] = mapped_column(Money(10, 7))
    longitude: Mapped[Decimal | None] = mapped_column(Money(10, 7))


# --- orders ----------------------------------------------------------------------------


class SalesOrder(Provenance, Base):
    __tablename__ = "sales_order"
    __table_args__ = (UniqueConstraint("order_origin", "order_number"),)
    #: the system the order number is unique in (its originating channel: shopify, square)
    order_origin: Mapped[str] = mapped_column(String(64))
    #: the order number as the originating system shows it
    order_number: Mapped[str] = mapped_column(String(64), index=True)
    #: where the order was placed (web, pos, edi, ...)
    channel: Mapped[str | None] = mapped_column(String(64))
    #: the ordering customer's email; the customer key uses it normalised
    customer_email: Mapped[str | None] = mapped_column(String(254))
    #: the ordering system's own customer id (guest and POS sales without an email)
    customer_external_id: Mapped[str | None] = mapped_column(String(256))
    customer_key: Mapped[str | None] = mapped_column(String(320))
    customer_id: Mapped[str | None] = mapped_column(Id, index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    payment_status: Mapped[str | None] = mapped_column(String(32))
    #: ISO 4217 code of every amount of the order
    currency: Mapped[str | None] = mapped_column(String(3))
    subtotal: Mapped[Decimal | None] = mapped_column(Money())
    tax_total: Mapped[Decimal | None] = mapped_column(Money())
    shipping_total: Mapped[Decimal | None] = mapped_column(Money())
    discount_total: Mapped[Decimal | None] = mapped_column(Money())
    grand_total: Mapped[Decimal | None] = mapped_column(Money())
    ordered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ship_to_name: Mapped[str | None] = mapped_column(String(256))
    ship_to_address1: Mapped[str | None] = mapped_column(String(256))
    ship_to_city: Mapped[str | None] = mapped_column(String(128))
    ship_to_region: Mapped[str | None] = mapped_column(String(64))
    ship_to_postal_code: Mapped[str | None] = mapped_column(String(32))
    ship_to_country_code: Mapped[str | None] = mapped_column(String(2))
    ship_method: Mapped[str | None] = mapped_column(String(128))
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    #: the location (store, warehouse) the order belongs to
    location_code: Mapped[str | None] = mapped_column(String(64))


class OrderLine(Provenance, Base):
    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_origin", "order_number", "line_no"),)
    order_origin: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(Id, index=True)
    #: the line's number within its order (1-based)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str | None] = mapped_column(String(128), index=True)
    description: Mapped[str | None] = mapped_column(String(512))
    qty_ordered: Mapped[Decimal | None] = mapped_column(Qty())
    qty_allocated: Mapped[Decimal | None] = mapped_column(Qty())
    qty_shipped: Mapped[Decimal | None] = mapped_column(Qty())
    qty_cancelled: Mapped[Decimal | None] = mapped_column(Qty())
    qty_returned: Mapped[Decimal | None] = mapped_column(Qty())
    unit_price: Mapped[Decimal | None] = mapped_column(Money())
    line_total: Mapped[Decimal | None] = mapped_column(Money())
    #: the location code that ships the line
    fulfilment_location: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))  # derived from quantities


# --- stock -----------------------------------------------------------------------------


class InventoryMovement(Provenance, Base):
    """One explained change of stock; positions are the sum of these (the OFBiz ledger)."""

    __tablename__ = "inventory_movement"
    #: unique key of the movement: the source event id, or `snapshot:<system>:<location>:<sku>:<time>`
    movement_key: Mapped[str] = mapped_column(String(256), unique=True)
    sku: Mapped[str] = mapped_column(String(128), index=True)
    location_code: Mapped[str] = mapped_column(String(64))
    #: change of the quantity on hand (negative: out)
    delta_on_hand: Mapped[Decimal] = mapped_column(Qty())
    #: change of the quantity allocated to orders
    delta_allocated: Mapped[Decimal] = mapped_column(Qty())
    reason: Mapped[str] = mapped_column(String(32))
    #: the document that caused it (order, shipment, receipt number)
    reference: Mapped[str | None] = mapped_column(String(256))
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class InventoryPosition(Provenance, Base):
    __tablename__ = "inventory_position"
    __table_args__ = (UniqueConstraint("sku", "location_code"),)
    sku: Mapped[str] = mapped_column(String(128))
    location_code: Mapped[str] = mapped_column(String(64))
    on_hand: Mapped[Decimal] = mapped_column(Qty())
    allocated: Mapped[Decimal] = mapped_column(Qty())
    #: the time of the latest stock count (snapshot) the position reflects
    as_of: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# --- fulfilment ------------------------------------------------------------------------


class Shipment(Provenance, Base):
    __tablename__ = "shipment"
    #: a tracking number is unique per carrier (canonical carrier code, config/codes/carrier)
    __table_args__ = (UniqueConstraint("carrier", "tracking_number"),)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    #: the shipper's own number for the shipment (3PL, ERP delivery)
    shipment_number: Mapped[str | None] = mapped_column(String(64))
    order_origin: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    order_id: Mapped[str | None] = mapped_column(Id)
    #: the location code it ships from
    origin_location: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(32))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    estimated_delivery: Mapped[dt.date | None] = mapped_column(Date)
    #: what the shipment cost (freight), in `currency`
    cost: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))


class ShipmentLine(Provenance, Base):
    __tablename__ = "shipment_line"
    __table_args__ = (UniqueConstraint("carrier", "tracking_number", "line_no"),)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64))
    shipment_id: Mapped[str | None] = mapped_column(Id, index=True)
    line_no: Mapped[int] = mapped_column(Integer)  # the order line it ships
    order_origin: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64))
    order_line_id: Mapped[str | None] = mapped_column(Id, index=True)
    sku: Mapped[str | None] = mapped_column(String(128))
    qty: Mapped[Decimal | None] = mapped_column(Qty())


class TrackingEvent(Provenance, Base):
    __tablename__ = "tracking_event"
    __table_args__ = (UniqueConstraint("carrier", "tracking_number", "occurred_at", "code"),)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64))
    shipment_id: Mapped[str | None] = mapped_column(Id, index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: the carrier's own event code
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(String(512))
    city: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(64))
    country_code: Mapped[str | None] = mapped_column(String(2))


class RateQuote(Provenance, Base):
    __tablename__ = "rate_quote"
    __table_args__ = (
        UniqueConstraint("shipment_carrier", "tracking_number", "carrier", "service"),
    )
    #: the carrier of the shipment quoted for (its tracking number is unique per carrier)
    shipment_carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64))
    shipment_id: Mapped[str | None] = mapped_column(Id, index=True)
    carrier: Mapped[str] = mapped_column(String(64))  # the carrier of this quote
    service: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))
    transit_days: Mapped[int | None] = mapped_column(Integer)
    #: true for the quote the shipment was bought with
    selected: Mapped[bool | None] = mapped_column(Boolean)


# --- returns ---------------------------------------------------------------------------


class ReturnOrder(Provenance, Base):
    __tablename__ = "return_order"
    __table_args__ = (UniqueConstraint("rma_issuer", "rma_number"),)
    #: the system that issued the RMA number (unique within it)
    rma_issuer: Mapped[str] = mapped_column(String(64))
    rma_number: Mapped[str] = mapped_column(String(64), index=True)
    order_origin: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    order_id: Mapped[str | None] = mapped_column(Id)
    status: Mapped[str | None] = mapped_column(String(32))
    #: the location that receives the return
    location_code: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refund_total: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str | None] = mapped_column(String(3))


class ReturnLine(Provenance, Base):
    __tablename__ = "return_line"
    __table_args__ = (UniqueConstraint("rma_issuer", "rma_number", "line_no"),)
    rma_issuer: Mapped[str] = mapped_column(String(64))
    rma_number: Mapped[str] = mapped_column(String(64))
    return_id: Mapped[str | None] = mapped_column(Id, index=True)
    line_no: Mapped[int] = mapped_column(Integer)  # the order line it returns
    order_origin: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64))
    order_line_id: Mapped[str | None] = mapped_column(Id, index=True)
    sku: Mapped[str | None] = mapped_column(String(128))
    qty: Mapped[Decimal | None] = mapped_column(Qty())
    reason: Mapped[str | None] = mapped_column(String(128))
    #: the condition of the returned goods
    condition: Mapped[str | None] = mapped_column(String(32))
    refund_amount: Mapped[Decimal | None] = mapped_column(Money())


BUSINESS_TABLES = {
    m.__tablename__: m
    for m in (
        Customer,
        Product,
        ProductAlias,
        Location,
        SalesOrder,
        OrderLine,
        InventoryMovement,
        InventoryPosition,
        Shipment,
        ShipmentLine,
        TrackingEvent,
        RateQuote,
        ReturnOrder,
        ReturnLine,
    )
}
