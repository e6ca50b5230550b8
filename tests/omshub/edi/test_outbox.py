"""Outbound interchanges: written in the partner's own delimiters, ids and versions, with
control numbers from the registry, registered pending with their 997 deadline, and
delivered whole to the partner's outbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from connectors.x12 import read_document
from oms.bookkeeping import EdiInterchange, EdiTransaction
from oms.models import table
from omshub.edi.outbox import Document, queue, send_pending
from omshub.edi.partners import get_partner

NOW = dt.datetime(2026, 12, 3, 7, 30, tzinfo=dt.UTC)
W05 = ("W05", ["N", "SO-1001", "PO-1001"])


class FolderOutbox:
    """The transport side of delivery: a partner's folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def deliver(self, folder: str, name: str, data: bytes) -> str:
        from connectors.drop import deliver
        from connectors.local import LocalFS

        return deliver(LocalFS(), str(self.root / folder.lstrip("/")), name, data)


def test_a_940_is_written_in_the_partners_envelope_registered_and_delivered(
    engine: Engine, tmp_path: Path
) -> None:
    partner = get_partner("harborline_3pl")
    docs = [Document("940", [W05, ("LX", ["1"])], reference=f"PO-100{i}") for i in (1, 2)]
    with engine.begin() as conn:
        first = queue(conn, partner, docs, NOW)
    with engine.begin() as conn:
        second = queue(conn, partner, docs[:1], NOW)
    doc = read_document(first)
    ix = doc.interchanges[0].interchange
    assert not doc.error and not ix.issues
    assert (ix.sender_id, ix.receiver_id, ix.version) == ("OMSHUBWMS", "HARBORLINE", "00501")
    assert ix.delimiters.repetition == "^"
    group = doc.interchanges[0].groups[0]
    assert (group.group.functional_id, group.group.version) == ("OW", "005010")
    assert [t.control for t in group.transactions] == ["0001", "0002"]
    assert read_document(second).interchanges[0].groups[0].transactions[0].control == "0003"
    assert int(read_document(second).interchanges[0].interchange.control) == int(ix.control) + 1

    with engine.connect() as conn:
        rows = conn.execute(select(table(EdiInterchange))).mappings().all()
        refs = conn.execute(select(table(EdiTransaction).c.reference)).scalars().all()
    assert [r["status"] for r in rows] == ["pending", "pending"]
    assert all(r["ack_due_at"] is not None for r in rows)  # a 997 is due from the 3PL
    assert sorted(refs) == ["PO-1001", "PO-1001", "PO-1002"]

    sent = send_pending(engine, FolderOutbox(tmp_path), partner)
    assert [Path(p).read_bytes() for p in sent] == [first.read_bytes(), second.read_bytes()]
    with engine.connect() as conn:
        statuses = conn.execute(select(table(EdiInterchange).c.status)).scalars().all()
    assert statuses == ["sent", "sent"]
    assert send_pending(engine, FolderOutbox(tmp_path), partner) == []  # nothing twice
