"""Outbound X12 documents from the store: one pure generator per set, by the name the
partner files use (`outbound.sets: {"855": po_ack_855}`).

Each generator takes its rows (`OrderData`, `ShipmentData` or `StockData`, read by
`omshub.edi.send`) and a `Context` (partner, time) and returns one `Document` for the
outbox (`omshub.edi.generate.base` has the row types, the context and the check of a
partner's `required:` list). `kind` says which rows a generator needs, so `send` knows what to select.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from oms.errors import ConfigError
from omshub.edi.generate.base import Context
from omshub.edi.generate.inventory_846 import inventory_846
from omshub.edi.generate.invoice_810 import invoice_810
from omshub.edi.generate.po_ack_855 import po_ack_855
from omshub.edi.generate.ship_notice_856 import ship_notice_856
from omshub.edi.generate.shipping_order_940 import shipping_order_940
from omshub.edi.outbox import Document
from omshub.edi.partners import PartnerConfig

__all__ = ["GENERATORS", "Generator", "generator_for"]

Kind = Literal["order", "shipment", "stock"]


@dataclass(frozen=True)
class Generator:
    """A registered generator: the set it writes and the rows it reads."""

    name: str
    set_id: str
    kind: Kind
    build: Callable[[Context, Any], Document]


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator("po_ack_855", "855", "order", po_ack_855),
        Generator("ship_notice_856", "856", "shipment", ship_notice_856),
        Generator("shipping_order_940", "940", "order", shipping_order_940),
        Generator("inventory_846", "846", "stock", inventory_846),
        Generator("invoice_810", "810", "shipment", invoice_810),
    )
}


def generator_for(partner: PartnerConfig, set_id: str) -> Generator:
    """The generator the partner's file names for `set_id`; a set the partner does not
    receive, or a generator that does not exist (or writes another set), is a
    `ConfigError` naming the partner file."""
    name = partner.outbound.sets.get(set_id)
    if name is None:
        sets = ", ".join(sorted(partner.outbound.sets)) or "none"
        raise ConfigError(
            f"partner {partner.id} does not receive {set_id} ({partner.file} outbound.sets: {sets})"
        )
    found = GENERATORS.get(name)
    if found is None:
        known = ", ".join(sorted(GENERATORS))
        raise ConfigError(
            f"{partner.file} outbound.sets.{set_id}: no generator {name!r} (known: {known})"
        )
    if found.set_id != set_id:
        raise ConfigError(
            f"{partner.file} outbound.sets.{set_id}: {name} writes {found.set_id}, not {set_id}"
        )
    return found
