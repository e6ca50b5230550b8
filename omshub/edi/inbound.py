"""One landed X12 file, processed in one transaction: envelopes, duplicates, sets, 997s.

The file is read as a stream of envelope events. Each interchange is registered with its
partner first (a re-delivered ISA13 is reported and skipped, never loaded twice); each
transaction set is validated against its schema (and the partner's overlay) and routed by
its set id to the partner's mapping. An interchange's groups are held until its IEA
confirms it (an interchange is accepted or rejected as a whole; a group as a whole when
its own envelope is bad); then each group's sets are mapped, validated and loaded like
any other batch's records, and the group's 997 is written from the same verdicts: one
validation decides both what loads and what the 997 says. A rejected interchange loads
nothing and is answered by a TA1 alone. Refused sets go to quarantine with the segment that refused them. The 997s and TA1s
are queued in the same transaction (`omshub.edi.outbox`) and sent once it committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection

from connectors.x12 import (
    Group,
    GroupEnd,
    GroupStart,
    Interchange,
    InterchangeEnd,
    InterchangeStart,
    Transaction,
)
from oms.edi import InterchangeFacts, register_inbound, sent_order_origin, set_status
from oms.errors import DataError
from oms.load import LoadContext
from omshub.edi import outbox, sets
from omshub.edi.acks import TransactionResult
from omshub.edi.partners import PartnerConfig, UnknownPartner, find_partner
from omshub.edi.received import ACK_SETS, record_ack
from omshub.edi.references import reference
from omshub.quarantine import BadEntry

log = logging.getLogger("omshub.edi")


class ForeignInterchange(DataError):
    """An interchange in this inbox that does not come from the inbox's partner."""


@dataclass
class GroupWork:
    """One functional group while it is read: its sets' verdicts and the records to load."""

    group: Group  # its GS, then (at GE) the whole group with trailer and issues
    results: list[tuple[int, TransactionResult]] = field(default_factory=list)  # by position
    routed: dict[str, list[sets.Routed]] = field(default_factory=dict)  # mapping -> sets
    references: dict[str, str | None] = field(default_factory=dict)  # ST02 -> PO number...


@dataclass
class Inbox:
    """The state of one file's processing; `Process` drives it event by event."""

    conn: Connection
    name: str  # the file's original name, for messages and the registry
    batch_id: str
    expected: str | None  # the partner this inbox belongs to (None: any known partner)
    routes: dict[str, str | None]  # set id -> mapping (the stream's `routes`)
    ctx: LoadContext
    load: Any  # callable(partner, mapping name, list[Routed]) -> the Routed its mapping refused
    partner: PartnerConfig | None = None
    interchange_id: int | None = None
    duplicate: bool = False
    group: GroupWork | None = None
    position: int = 0  # the next transaction's position in the batch (quarantine index)
    bad: list[BadEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duplicates: int = 0
    partners: dict[str, PartnerConfig] = field(default_factory=dict)  # seen in this file
    held: list[GroupWork] = field(default_factory=list)  # this interchange's groups, read
    rejected: bool = False  # the current interchange is refused as a whole (TA1 R)

    def on_interchange(self, interchange: Interchange) -> None:
        try:
            partner = find_partner(
                interchange.sender_qualifier,
                interchange.sender_id,
                interchange.receiver_qualifier,
                interchange.receiver_id,
            )
        except UnknownPartner as e:
            where = f"{self.name}: segment {interchange.header.position}"
            raise ForeignInterchange(f"{where}: {e}") from None
        if self.expected and partner.id != self.expected:
            raise ForeignInterchange(
                f"{self.name}: segment {interchange.header.position}: ISA13 "
                f"{interchange.control} comes from partner {partner.id!r}, not {self.expected!r}"
            )
        self.partner = partner
        self.partners[partner.id] = partner
        facts = InterchangeFacts.from_isa(interchange, file_name=self.name, batch_id=self.batch_id)
        registered = register_inbound(self.conn, partner.id, facts)
        self.interchange_id, self.duplicate = registered.id, registered.duplicate
        if registered.duplicate:
            self.duplicates += 1
            prev = registered.previous
            earlier = (
                f" (first received in {prev.file_name}, batch {prev.batch_id})" if prev else ""
            )
            self.notes.append(
                f"ISA13 {interchange.control} from {interchange.sender_id} was already "
                f"received{earlier}: skipped"
            )

    def on_group_start(self, group: Group) -> None:
        self.group = GroupWork(group)

    def on_transaction(self, tx: Transaction) -> None:
        position, self.position = self.position, self.position + 1
        if self.duplicate or self.group is None or self.partner is None:
            return
        if tx.set_id in ACK_SETS:  # the partner's answer to what we sent: never mapped
            self.notes.append(
                record_ack(self.conn, self.partner.id, tx, self.interchange_id, self.ctx.now)
            )
            return
        self.group.references[tx.control] = reference(tx.set_id, tx)
        verdict = sets.judge(tx, self.partner, self.routes, self.name, position)
        if verdict.routed is not None:
            partner_values(self.conn, self.partner, tx.set_id, verdict.routed.record)
            self.group.routed.setdefault(verdict.routed.mapping, []).append(verdict.routed)
        else:
            self.group.results.append((position, verdict.result))
            if verdict.bad is not None:
                self.bad.append(verdict.bad)

    def on_group_end(self, group: Group) -> None:
        work, self.group = self.group, None
        if self.duplicate or work is None or self.partner is None:
            return
        work.group = group
        self.held.append(work)  # loaded once the interchange's IEA confirms it

    def _settle(self, work: GroupWork, refused_because: str | None) -> None:
        """Load a held group's routed sets (or refuse them all, with why) and acknowledge it."""
        assert self.partner is not None and self.interchange_id is not None
        group = work.group
        fatal = next((i for i in group.issues if i.fatal), None)
        if refused_because is None and fatal is not None:
            refused_because = f"segment {fatal.position}: group {group.control}: {fatal.message}"
        for mapping, routed in work.routed.items():
            if refused_because is None:
                refused = {id(r) for r in self.load(self.partner, mapping, routed)}
            else:
                refused = {id(r) for r in routed}
                self.bad += [sets.refused_with(r, self.name, refused_because) for r in routed]
            for r in routed:
                work.results.append((r.position, replace(r.result, rejected=id(r) in refused)))
        results = [result for _, result in sorted(work.results, key=lambda pr: pr[0])]
        outbox.acknowledge_group(
            self.conn,
            self.partner,
            group,
            results,
            self.ctx.now,
            self.interchange_id,
            # acknowledgements are never acknowledged; a rejected interchange gets its TA1
            send=group.functional_id != "FA" and not self.rejected,
            references=work.references,
        )

    def on_interchange_end(self, interchange: Interchange) -> None:
        if self.partner is None or self.interchange_id is None:
            return
        if not self.duplicate:
            fatal = [i for i in interchange.issues if i.fatal]
            self.rejected = bool(fatal)
            why = None
            if fatal:
                why = f"segment {fatal[0].position}: interchange rejected: {fatal[0].message}"
            for work in self.held:
                self._settle(work, why)
            outbox.acknowledge_interchange(self.conn, self.partner, interchange, self.ctx.now)
            status = "rejected" if fatal else "loaded"
            message = "; ".join(i.message for i in interchange.issues) or None
            set_status(self.conn, self.interchange_id, status, message, self.batch_id)
        self.partner, self.interchange_id, self.duplicate = None, None, False
        self.held, self.rejected = [], False

    def run(self, events: Iterator[Any]) -> None:
        """Feed every envelope event of the file to its handler."""
        for event in events:
            if isinstance(event, InterchangeStart):
                self.on_interchange(event.interchange)
            elif isinstance(event, GroupStart):
                self.on_group_start(event.group)
            elif isinstance(event, Transaction):
                self.on_transaction(event)
            elif isinstance(event, GroupEnd):
                self.on_group_end(event.group)
            elif isinstance(event, InterchangeEnd):
                self.on_interchange_end(event.interchange)


#: inbound sets that answer one of ours about an order: set id -> (what we sent, the
#: path of the order number it quotes back)
ANSWERS = {"945": ("940", ("W06", "W0602"))}


def partner_values(
    conn: Connection, partner: PartnerConfig, set_id: str, record: dict[str, Any]
) -> None:
    """What a set's mapping reads from its partner: `_x12.order_origin`, whose order the
    number it quotes is, and `_x12.default_location`, where sets naming none are about.

    A set that answers ours (a 945 answers our 940) takes it from the registry of what we
    sent, as any channel's orders go to a 3PL; unknown (we sent no such 940): left out,
    and the mapping, which requires it, refuses the set with why. Any other set quotes
    the orders of the partner's `order_origin` (its own by default), so two retailers'
    same PO number never bind to one order."""
    if partner.default_location:  # where its documents are about when they name nowhere
        record["_x12"]["default_location"] = partner.default_location
    answer = ANSWERS.get(set_id)
    if answer is None:
        record["_x12"]["order_origin"] = partner.orders_of()
        return
    sent, (segment, element) = answer
    number = str((record.get(segment) or {}).get(element) or "").strip()
    origin = sent_order_origin(conn, partner.id, sent, number) if number else None
    if origin is not None:
        record["_x12"]["order_origin"] = origin
