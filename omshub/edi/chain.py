"""An order's documents, in and out, in the order they travelled: `omshub edi chain PO`.

Every transaction set the registry holds with the PO number as its business reference
(an 850 received, the 855 and 856 we answered with, the 940 to the warehouse and its
945 ...) is one `ChainEntry`: which way it went, its envelope numbers and file, when,
and its 997 state. A document we sent whose 997 has not come is `outstanding`; past
its deadline it is `overdue` (whether or not the overdue check has marked it yet).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, select

from oms.bookkeeping import EdiGroup, EdiInterchange, EdiTransaction
from oms.models import table

__all__ = ["ChainEntry", "chain"]


@dataclass(frozen=True)
class ChainEntry:
    """One document of an order's chain."""

    direction: str  # in | out
    partner: str
    set_id: str  # ST01
    isa13: str
    gs06: str
    st02: str
    file: str | None
    at: dt.datetime | None  # received (in) or sent/queued (out)
    status: str | None  # the interchange's: loaded, pending, sent ...
    ack: str  # accepted | accepted_with_errors | rejected | none | overdue ...
    ack_due_at: dt.datetime | None
    outstanding: bool  # we sent it and no 997 came yet
    overdue: bool  # ... and its deadline passed

    def as_json(self) -> dict[str, Any]:
        return {
            k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in asdict(self).items()
        }


def _ack(tx_state: str, group_state: str, ix_state: str | None) -> str:
    """The most specific 997 state: the set's (AK5), else its group's (AK9), else a TA1's
    rejection of the whole interchange."""
    if tx_state not in ("none", ""):
        return tx_state
    if group_state not in ("none", ""):
        return group_state
    return "rejected" if ix_state == "rejected" else "none"


def _entry(row: Any, now: dt.datetime) -> ChainEntry:
    ack = _ack(row.tx_state or "none", row.group_state or "none", row.ack_status)
    out = row.direction == "out"
    waiting = out and row.ack_due_at is not None and ack in ("none", "overdue")
    late = waiting and (ack == "overdue" or _aware(row.ack_due_at) < now)
    return ChainEntry(
        direction=row.direction,
        partner=row.partner,
        set_id=row.st01,
        isa13=row.isa_control,
        gs06=row.gs06,
        st02=row.st02,
        file=row.file_name,
        at=row.sent_at if out else row.received_at,
        status=row.status,
        ack="overdue" if late else ack,
        ack_due_at=row.ack_due_at,
        outstanding=waiting,
        overdue=late,
    )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def chain(
    conn: Connection, reference: str, partner: str | None = None, now: dt.datetime | None = None
) -> list[ChainEntry]:
    """Every registered set about `reference` (of one partner, or all), oldest first."""
    ix, gr, tx = table(EdiInterchange), table(EdiGroup), table(EdiTransaction)
    q = (
        select(
            ix.c.direction,
            ix.c.partner,
            ix.c.isa_control,
            ix.c.file_name,
            ix.c.sent_at,
            ix.c.received_at,
            ix.c.status,
            ix.c.ack_status,
            ix.c.ack_due_at,
            gr.c.gs06,
            gr.c.ack_state.label("group_state"),
            tx.c.st01,
            tx.c.st02,
            tx.c.ack_state.label("tx_state"),
        )
        .join(gr, gr.c.id == tx.c.group_id)
        .join(ix, ix.c.id == gr.c.interchange_id)
        .where(tx.c.reference == reference)
        .order_by(ix.c.id, gr.c.id, tx.c.id)
    )
    if partner is not None:
        q = q.where(ix.c.partner == partner)
    at = now or dt.datetime.now(dt.UTC)
    entries = [_entry(r, at) for r in conn.execute(q)]
    return sorted(entries, key=lambda e: _aware(e.at) if e.at else at)
