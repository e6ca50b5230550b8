"""Outbound X12 files: written and registered inside the transaction that decided them,
sent to the partner once it committed (a transactional outbox).

A 997 is part of the decision about what loaded: it must never say "accepted" for sets a
rolled-back transaction did not keep, nor be lost when the transaction commits. So the
file is written under the landing zone (`outbox/<partner>/`) and registered `pending`
with its control numbers in the same transaction; `send_pending` delivers every pending
file (to the partner's outbox folder over its transport) and marks it `sent`. A crash
between the two leaves it `pending`: the next run sends it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from connectors.x12 import Group, Interchange
from oms.edi import (
    GroupFacts,
    InterchangeFacts,
    TransactionFacts,
    allocate,
    mark_acknowledged,
    record_groups,
    record_outbound,
)
from omshub.edi.acks import (
    TransactionResult,
    functional_ack,
    interchange_ack,
    preferred_kind,
    reply_envelope,
)
from omshub.edi.partners import PartnerConfig

log = logging.getLogger("omshub.edi")

#: AK9 group status -> the registry's ack state
GROUP_STATES = {"A": "accepted", "E": "accepted_with_errors", "P": "accepted_with_errors"}


def outbox_dir(partner: str) -> Path:
    """Where outbound files wait (and stay, as the record of what was sent)."""
    from omshub.landing import landing_root

    return landing_root() / "outbox" / partner


def _write(partner: str, name: str, data: bytes) -> Path:
    folder = outbox_dir(partner)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # never a half-written file under its final name
    return path


def _group_state(results: Sequence[TransactionResult]) -> str:
    statuses = {r.status for r in results}
    if statuses <= {"A"}:
        return "accepted"
    if statuses == {"R"}:
        return "rejected"
    return "accepted_with_errors"


def acknowledge_group(
    conn: Connection,
    partner: PartnerConfig,
    group: Group,
    results: Sequence[TransactionResult],
    now: dt.datetime,
    interchange_id: int,
    send: bool = True,
    references: dict[str, str | None] | None = None,
) -> Path | None:
    """Register the inbound group with its sets, and queue its 997 (when the partner gets
    997s): numbers allocated and the file registered in the caller's transaction."""
    facts = GroupFacts(
        gs01=group.functional_id,
        gs06=group.control,
        gs08=group.version,
        gs02=group.sender,
        gs03=group.receiver,
        transactions=[
            TransactionFacts(r.set_id, r.control, (references or {}).get(r.control))
            for r in results
        ],
        set_count=group.transaction_count,
    )
    record_groups(conn, interchange_id, [facts])
    if not send or not partner.ack.send_997:
        return None
    isa, gs = allocate(conn, partner.id, "isa", now=now)[0], allocate(conn, partner.id, "gs")[0]
    kind = preferred_kind(group)
    data = functional_ack(
        group, results, interchange_control=isa, group_control=gs, when=now, kind=kind
    )
    name = f"{kind.set_id}_{partner.id}_{isa:09d}.x12"
    fa = GroupFacts("FA", gs, transactions=[TransactionFacts(kind.set_id, "0001")])
    out = _reply_facts(group.interchange, isa, name, [fa])
    record_outbound(conn, partner.id, out, ack_within=None, sent_at=now)
    state = _group_state(results)
    codes = {r.control: (_set_state(r.status), None) for r in results}
    mark_acknowledged(
        conn,
        partner.id,
        state,  # type: ignore[arg-type]
        group_control=group.control,
        functional_id=group.functional_id,
        transactions=codes,  # type: ignore[arg-type]
        direction="in",
        now=now,
    )
    return _write(partner.id, name, data)


def _reply_facts(
    inbound: Interchange, control: int, name: str, groups: list[GroupFacts]
) -> InterchangeFacts:
    """The registry's record of a reply: exactly the envelope the ack was written with."""
    env = reply_envelope(inbound)
    return InterchangeFacts(
        sender_qualifier=env.sender[0],
        sender_id=env.sender[1],
        receiver_qualifier=env.receiver[0],
        receiver_id=env.receiver[1],
        control=control,
        usage=env.usage,
        version=env.version,
        file_name=name,
        groups=groups,
        status="pending",
    )


def _set_state(status: str) -> str:
    return {"A": "accepted", "E": "accepted_with_errors", "R": "rejected"}[status]


def acknowledge_interchange(
    conn: Connection, partner: PartnerConfig, interchange: Interchange, now: dt.datetime
) -> Path | None:
    """Queue a TA1 when the partner wants one (ISA14=1, or always) or the envelope is bad."""
    issues = [i for i in interchange.issues if i.level == "interchange"]
    always = partner.ack.ta1 == "always"
    if partner.ack.ta1 == "never" or not (issues or interchange.ack_requested or always):
        return None
    isa = allocate(conn, partner.id, "isa", now=now)[0]
    data = interchange_ack(interchange, control=isa, when=now, always=always)
    assert data is not None  # asked for, or something to say
    name = f"TA1_{partner.id}_{isa:09d}.x12"
    out = _reply_facts(interchange, isa, name, [])
    record_outbound(conn, partner.id, out, ack_within=None, sent_at=now)
    return _write(partner.id, name, data)


def pending(conn: Connection, partner: str) -> list[dict[str, object]]:
    """Outbound files registered but not yet delivered, oldest first."""
    from sqlalchemy import select

    from oms.bookkeeping import EdiInterchange
    from oms.models import table

    ix = table(EdiInterchange)
    q = (
        select(ix.c.id, ix.c.file_name, ix.c.isa_control)
        .where(ix.c.partner == partner, ix.c.direction == "out", ix.c.status == "pending")
        .order_by(ix.c.id)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def send_pending(engine: Engine, transport: Any, partner: PartnerConfig) -> list[str]:
    """Deliver every pending outbound file to the partner's outbox folder, oldest first,
    each marked `sent` as soon as it is there. Returns the paths written. A failure
    stops the sending (the order matters to partners) and is raised; what was not sent
    stays pending for the next run."""
    from sqlalchemy import update

    from oms.bookkeeping import EdiInterchange
    from oms.models import table

    ix = table(EdiInterchange)
    with engine.connect() as conn:
        todo = pending(conn, partner.id)
    sent: list[str] = []
    for row in todo:
        name = str(row["file_name"])
        data = (outbox_dir(partner.id) / name).read_bytes()
        sent.append(transport.deliver(partner.transport.outbox, name, data))
        at = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            conn.execute(update(ix).where(ix.c.id == row["id"]).values(status="sent", sent_at=at))
        log.info("%s: sent %s to %s", partner.id, name, sent[-1])
    return sent


@dataclass(frozen=True)
class Document:
    """One transaction set to send: its body (between ST and SE) and what it is about
    (the PO number, shipment id...: the key `omshub edi chain` links documents by)."""

    set_id: str
    body: Sequence[Any]  # segments: (tag, [elements]) as `connectors.x12.writer` takes them
    reference: str | None = None
    implementation: str = ""  # ST03, when the partner's guide asks for it
    order_origin: str | None = None  # whose order `reference` is: a 945 answers by number


def queue(
    conn: Connection, partner: PartnerConfig, documents: Sequence[Document], now: dt.datetime
) -> Path:
    """Write `documents` (sets of one functional id) as one interchange in the partner's
    delimiters, ids and versions, with control numbers allocated in the caller's
    transaction, and register it `pending`, due a 997 within the partner's deadline.
    `send_pending` delivers it once the transaction committed."""
    from connectors.x12 import Delimiters
    from connectors.x12.writer import GroupSpec, TransactionSpec, build_interchange

    if not documents:
        raise ValueError("nothing to queue")
    fids = {partner.functional_id(d.set_id) for d in documents}
    if len(fids) != 1:
        raise ValueError(f"one interchange carries one functional group here, not {fids}")
    fid = fids.pop()
    out = partner.outbound
    d = out.delimiters
    isa = allocate(conn, partner.id, "isa", now=now)[0]
    gs = allocate(conn, partner.id, "gs", now=now)[0]
    st = allocate(conn, partner.id, "st", n=len(documents), now=now)
    specs = [
        TransactionSpec(doc.set_id, f"{n:04d}", doc.body, doc.implementation)
        for doc, n in zip(documents, st, strict=True)
    ]
    group = GroupSpec(
        fid, partner.us.application_code, partner.them.application_code, gs, out.gs_version, specs
    )
    data = build_interchange(
        sender=(partner.us.qualifier, partner.us.id),
        receiver=(partner.them.qualifier, partner.them.id),
        control=isa,
        usage=partner.usage,
        version=out.isa_version,
        delimiters=Delimiters(d.element, d.sub_element, d.segment, d.repetition),
        groups=[group],
        when=now,
        line_end=d.suffix,
    )
    sets = "_".join(sorted({doc.set_id for doc in documents}))
    name = f"{sets}_{partner.id}_{isa:09d}.x12"
    facts = InterchangeFacts(
        sender_qualifier=partner.us.qualifier,
        sender_id=partner.us.id,
        receiver_qualifier=partner.them.qualifier,
        receiver_id=partner.them.id,
        control=isa,
        usage=partner.usage,
        version=out.isa_version,
        file_name=name,
        groups=[
            GroupFacts(
                gs01=fid,
                gs06=gs,
                gs08=out.gs_version,
                gs02=partner.us.application_code,
                gs03=partner.them.application_code,
                transactions=[
                    TransactionFacts(
                        s.set_id, str(s.control), doc.reference, order_origin=doc.order_origin
                    )
                    for s, doc in zip(specs, documents, strict=True)
                ],
            )
        ],
        status="pending",
    )
    hours = partner.ack.expect_997_hours
    within = dt.timedelta(hours=hours) if hours is not None else None
    record_outbound(conn, partner.id, facts, ack_within=within, sent_at=now)
    return _write(partner.id, name, data)
