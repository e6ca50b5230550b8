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
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from oms.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


Id = String(36)
Qty = Money  # quantities are exact decimals too (1.5 kg, 0.25 m)


class Provenance:
    """Columns every business row carries (DESIGN.md §4, provenance)."""

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    source_system: Mapped[str | None] = mapped_column(String(64))
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    mapping_name: Mapped[str | None] = mapped_column(String(128))
    mapping_version: Mapped[str | None] = mapped_column(String(32))
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    last_batch_id: Mapped[str | None] = mapped_column(String(64))
    field_sources: Mapped[str | None] = mapped_column(Text)  # JSON {field: system}
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# --- master data -----------------------------------------------------------------------


class Customer(Provenance, Base):
    __tablename__ = "customer"
    #: normalised email, else `<system>:<the system's customer id>` (oms.entities)
    customer_key: Mapped[str] = mapped_column(String(320), unique=True)
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
    sku: Mapped[str] = mapped_column(String(128), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str | None] = mapped_column(String(512))
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
    order_number: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    #: the ordering system's own customer id (guest and POS sales without an email)
    customer_external_id: Mapped[str | None] = mapped_column(String(256))
    customer_key: Mapped[str | None] = mapped_column(String(320))
    customer_id: Mapped[str | None] = mapped_column(Id, index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    payment_status: Mapped[str | None] = mapped_column(String(32))
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
    location_code: Mapped[str | None] = mapped_column(String(64))


class OrderLine(Provenance, Base):
    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_origin", "order_number", "line_no"),)
    order_origin: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(Id, index=True)
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
    fulfilment_location: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))  # derived from quantities


# --- stock -----------------------------------------------------------------------------


class InventoryMovement(Provenance, Base):
    """One explained change of stock; positions are the sum of these (the OFBiz ledger)."""

    __tablename__ = "inventory_movement"
    movement_key: Mapped[str] = mapped_column(String(256), unique=True)
    sku: Mapped[str] = mapped_column(String(128), index=True)
    location_code: Mapped[str] = mapped_column(String(64))
    delta_on_hand: Mapped[Decimal] = mapped_column(Qty())
    delta_allocated: Mapped[Decimal] = mapped_column(Qty())
    reason: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(256))
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class InventoryPosition(Provenance, Base):
    __tablename__ = "inventory_position"
    __table_args__ = (UniqueConstraint("sku", "location_code"),)
    sku: Mapped[str] = mapped_column(String(128))
    location_code: Mapped[str] = mapped_column(String(64))
    on_hand: Mapped[Decimal] = mapped_column(Qty())
    allocated: Mapped[Decimal] = mapped_column(Qty())
    as_of: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# --- fulfilment ------------------------------------------------------------------------


class Shipment(Provenance, Base):
    __tablename__ = "shipment"
    #: a tracking number is unique per carrier (canonical carrier code, config/codes/carrier)
    __table_args__ = (UniqueConstraint("carrier", "tracking_number"),)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    shipment_number: Mapped[str | None] = mapped_column(String(64))
    order_origin: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    order_id: Mapped[str | None] = mapped_column(Id)
    origin_location: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(32))
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    estimated_delivery: Mapped[dt.date | None] = mapped_column(Date)
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
    condition: Mapped[str | None] = mapped_column(String(32))
    refund_amount: Mapped[Decimal | None] = mapped_column(Money())


# --- bookkeeping -----------------------------------------------------------------------


class Binding(Base):
    """(system, entity, external id) -> canonical id, with what that system last sent."""

    __tablename__ = "binding"
    # external_id first: lookups are `external_id IN (...)` within one system and entity,
    # and PostgreSQL only turns that into an index search when it is the leading column.
    __table_args__ = (UniqueConstraint("external_id", "entity", "system"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(256))
    canonical_id: Mapped[str] = mapped_column(Id, index=True)
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    bound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SyncRun(Base):
    """One run of one source (from Airflow or the CLI): a state machine (docs/operations.md).

    `running` -> `extracted` -> `success` | `partial` | `failed`, or `abandoned` when its
    process died; `heartbeat_at`, `host` and `pid` are how the next run tells.
    """

    __tablename__ = "sync_run"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(Text)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)


class RunStat(Base):
    """Counts of one landed batch's processing, per canonical entity."""

    __tablename__ = "run_stat"
    __table_args__ = (UniqueConstraint("run_id", "batch_id", "entity"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    extracted: Mapped[int] = mapped_column(Integer, default=0)
    loaded: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    #: rows (or, where parsing failed, 0 rows of entity "*") of a batch that failed
    failed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LandedBatch(Base):
    """A raw batch written once, unchanged; the manifest of what a system sent."""

    __tablename__ = "landed_batch"
    __table_args__ = (UniqueConstraint("source", "stream", "checksum"),)
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    stream: Mapped[str] = mapped_column(String(64))
    uri: Mapped[str] = mapped_column(Text)
    original_name: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int | None] = mapped_column(Integer)
    cursor_from: Mapped[str | None] = mapped_column(String(64))
    cursor_to: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64))
    landed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: landed | loaded | failed | dead | discarded (docs/operations.md, batch states)
    status: Mapped[str] = mapped_column(String(16), index=True)
    loaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(Text)
    #: how often processing failed; at the source's `max_batch_attempts` it is `dead`
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: config | data | transport | internal: what kind of error failed it last
    error_kind: Mapped[str | None] = mapped_column(String(16))
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    discarded_by: Mapped[str | None] = mapped_column(String(128))
    discarded_reason: Mapped[str | None] = mapped_column(Text)
    discarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Watermark(Base):
    __tablename__ = "watermark"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor_value: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Quarantine(Base):
    """A source record kept out of the store, with its raw content and every reason."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    batch_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(64))
    record_index: Mapped[int] = mapped_column(Integer)
    record_key: Mapped[str | None] = mapped_column(String(256))
    mapping_name: Mapped[str] = mapped_column(String(128))
    mapping_version: Mapped[str] = mapped_column(String(32))
    raw_record: Mapped[str] = mapped_column(Text)  # JSON
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of {entity, field, rule, message}
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | replayed | dismissed
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by_run: Mapped[str | None] = mapped_column(String(64))


class ChangeLog(Base):
    __tablename__ = "change_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    canonical_id: Mapped[str] = mapped_column(Id, index=True)
    system: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(8))  # insert | update
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EdiInterchange(Base):
    """X12 interchanges seen per partner (control numbers, acknowledgement state)."""

    __tablename__ = "edi_interchange"
    __table_args__ = (UniqueConstraint("partner", "direction", "isa_control"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    isa_control: Mapped[str] = mapped_column(String(9))
    sender_id: Mapped[str | None] = mapped_column(String(15))
    receiver_id: Mapped[str | None] = mapped_column(String(15))
    version: Mapped[str | None] = mapped_column(String(12))
    batch_id: Mapped[str | None] = mapped_column(String(64))
    ack_status: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


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


def table(model: type[Base]) -> Table:
    """The Core table of a model, typed as `Table` (the loader works set-based on Core)."""
    return cast(Table, model.__table__)
