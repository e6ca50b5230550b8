"""Canonical lifecycle vocabularies. Source codes reach them only through code lists."""

from __future__ import annotations

ORDER_STATUS = (
    "pending",
    "open",
    "processing",
    "partially_shipped",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "on_hold",
    "returned",
)
PAYMENT_STATUS = (
    "pending",
    "authorized",
    "paid",
    "partially_paid",
    "partially_refunded",
    "refunded",
    "voided",
)
LINE_STATUS = (
    "open",
    "allocated",
    "partially_shipped",
    "shipped",
    "cancelled",
    "returned",
)
SHIPMENT_STATUS = (
    "label_created",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "exception",
    "returned",
    "cancelled",
    "unknown",
)
RETURN_STATUS = ("requested", "authorized", "received", "refunded", "rejected")
LOCATION_KIND = ("warehouse", "store", "3pl", "dropship")
MOVEMENT_REASON = (
    "snapshot_adjustment",
    "receipt",
    "sale",
    "shipment",
    "return",
    "transfer",
    "adjustment",
)
RETURN_CONDITION = ("new", "opened", "damaged", "defective", "unknown")

#: column -> allowed values, per entity; validation builds `in set` checks from this.
ENUM_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "sales_order": {"status": ORDER_STATUS, "payment_status": PAYMENT_STATUS},
    "order_line": {"status": LINE_STATUS},
    "shipment": {"status": SHIPMENT_STATUS},
    "tracking_event": {"status": SHIPMENT_STATUS},
    "return_order": {"status": RETURN_STATUS},
    "return_line": {"condition": RETURN_CONDITION},
    "location": {"kind": LOCATION_KIND},
    "inventory_movement": {"reason": MOVEMENT_REASON},
}
