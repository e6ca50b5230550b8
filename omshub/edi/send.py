"""`omshub edi send`: generate documents from the store and send them to a partner.

The rows are selected and the documents queued (written to the outbox, control numbers
allocated, registered pending with their 997 deadline) in one transaction: either every
key's document is queued, as one interchange, or none is. Delivery follows through the
partner's transport, as the inbox sends its 997s: a transport failure leaves the file
pending (the next send or inbox run delivers it) and is reported, never lost.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from oms.errors import ConfigError, OmshubError
from omshub.edi.generate import Generator, generator_for
from omshub.edi.generate import select as rows
from omshub.edi.generate.base import Context
from omshub.edi.generate.verify import verify
from omshub.edi.outbox import Document, queue, send_pending
from omshub.edi.partners import PartnerConfig, get_partner

log = logging.getLogger("omshub.edi")


@dataclass
class SendReport:
    """What `send` queued and delivered."""

    partner: str
    set_id: str
    keys: list[str]
    file: str  # the interchange in the outbox
    isa_control: str
    references: list[str | None]
    delivered: list[str] = field(default_factory=list)  # where each pending file went
    error: str | None = None  # why delivery failed (the file stays pending)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_json(self) -> dict[str, Any]:
        return {**vars(self), "ok": self.ok}


def _documents(
    engine: Engine, gen: Generator, partner: PartnerConfig, keys: Sequence[str], now: dt.datetime
) -> tuple[list[Document], Any]:
    """Select, generate, check and queue: all in one write transaction."""
    from oms.locks import write_transaction

    ctx = Context(partner, now)
    with write_transaction(engine) as conn:
        data: list[Any]
        if gen.kind == "order":
            data = rows.orders(conn, keys, partner.id)
        elif gen.kind == "shipment":
            data = rows.shipments(conn, keys, partner.id)
        else:
            data = rows.stock(conn, keys)
        docs = [gen.build(ctx, d) for d in data]
        for doc, d in zip(docs, data, strict=True):
            verify(ctx, doc, doc.reference or _key_of(d))
        path = queue(conn, partner, docs, now)
    return docs, path


def _key_of(data: Any) -> str:
    shipment = getattr(data, "shipment", None)
    if shipment is not None:
        return str(shipment.get("tracking_number"))
    return str(getattr(data, "location_code", "?"))


def deliver(engine: Engine, partner: PartnerConfig) -> tuple[list[str], str | None]:
    """Send the partner's pending files over its transport: where they went, and the
    error that stopped it (the rest stay pending)."""
    from omshub.edi.sources import partner_source
    from omshub.extract import open_transport

    transport = None
    try:
        transport = open_transport(partner_source(partner))
        return send_pending(engine, transport, partner), None
    except (OmshubError, OSError) as e:
        log.error("%s: outbound files not delivered (%s); they stay pending", partner.id, e)
        return [], f"{partner.id}: not delivered ({e}); the file stays pending"
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()


def send(
    engine: Engine,
    partner_id: str,
    set_id: str,
    keys: list[str],
    now: dt.datetime | None = None,
    deliver_now: bool = True,
) -> SendReport:
    """Generate `set_id` for each key (order numbers for 855/940, tracking or order
    numbers for 856, location codes for 846), queue them as one interchange to the
    partner, then deliver. A set the partner does not receive is a `ConfigError`; a key
    with no rows a `MissingKey` (a `DataError`), and then nothing is queued."""
    partner = get_partner(partner_id)
    gen = generator_for(partner, set_id)
    if not keys:
        raise ConfigError(f"send {set_id} to {partner_id}: give at least one key")
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ConfigError(f"send {set_id} to {partner_id}: key given twice: {', '.join(dupes)}")
    at = now or dt.datetime.now(dt.UTC)
    docs, path = _documents(engine, gen, partner, keys, at)
    report = SendReport(
        partner.id,
        set_id,
        list(keys),
        str(path),
        Path(path).stem.rsplit("_", 1)[-1],
        [d.reference for d in docs],
    )
    if deliver_now:
        report.delivered, report.error = deliver(engine, partner)
    return report
