"""An X12 inbox end to end on both backends: a partner's 850s routed to their mapping,
loaded, acknowledged by a 997 queued in the same transaction; a re-delivered interchange
loaded once; a set the partner does not send refused, quarantined and rejected in the 997."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from edi_projects import SAMPLE_850, acme_folder_inbox
from sqlalchemy import Engine, func, select

from connectors.x12 import read_document
from oms.bookkeeping import EdiGroup, EdiInterchange, EdiTransaction, Quarantine
from oms.models import OrderLine, SalesOrder, table
from omshub.edi.outbox import outbox_dir
from omshub.pipeline import run_source

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = SAMPLE_850


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = acme_folder_inbox(tmp_path / "proj")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table(model))).scalar_one())


def test_850s_load_and_a_997_accepts_them_once(inbox: Path, engine: Engine) -> None:
    shutil.copy(SAMPLE, inbox / "drop/po_850.x12")
    report = run_source("acme_edi", engine=engine)
    assert report.ok, report.errors
    assert _count(engine, SalesOrder) == 3
    assert _count(engine, OrderLine) >= 3
    acks = sorted(outbox_dir("acme_retail").glob("997_*.x12"))
    assert len(acks) == 1
    doc = read_document(acks[0])
    ack = doc.interchanges[0]
    assert not ack.interchange.issues
    assert (ack.interchange.sender_id, ack.interchange.receiver_id) == ("OMSHUB", "007123456")
    body = [s for g in ack.groups for t in g.transactions for s in t.segments]
    ak9 = next(s for s in body if s.tag == "AK9")
    assert ak9.elements[:4] == ["A", "3", "3", "3"]
    assert [s.element(1) for s in body if s.tag == "AK5"] == ["A", "A", "A"]
    with engine.connect() as conn:
        ix = conn.execute(select(table(EdiInterchange))).mappings().all()
        groups = conn.execute(select(table(EdiGroup))).mappings().all()
    inbound = [r for r in ix if r["direction"] == "in"]
    assert [(r["isa_control"], r["status"]) for r in inbound] == [("000000101", "loaded")]
    assert [r["status"] for r in ix if r["direction"] == "out"] == ["sent"]
    delivered = list((inbox / "partner_out").iterdir())  # the partner's outbox folder
    assert [p.read_bytes() for p in delivered] == [acks[0].read_bytes()]
    assert [(g["gs06"], g["ack_state"]) for g in groups if g["gs01"] == "PO"] == [
        ("101", "accepted")
    ]
    with engine.connect() as conn:  # what each set is about (BEG03), for `omshub edi chain`
        refs = conn.execute(select(table(EdiTransaction).c.reference)).scalars().all()
    assert sorted(r for r in refs if r) == ["4500012299", "4500012345", "4500012346"]

    # the same interchange again in another file (other bytes: a line end added), so the
    # landing zone takes it: the registry knows its ISA13, nothing loads twice, no 997
    (inbox / "drop/po_850_again.x12").write_bytes(SAMPLE.read_bytes() + b"\r\n")
    again = run_source("acme_edi", engine=engine)
    assert again.ok, again.errors
    assert _count(engine, SalesOrder) == 3
    assert len(list(outbox_dir("acme_retail").glob("997_*.x12"))) == 1
    [batch] = again.batches
    assert "ISA13 000000101 from 007123456 was already received" in batch["message"]
    assert "po_850.x12" in batch["message"]


def test_a_set_the_partner_does_not_send_is_refused_and_rejected_in_the_997(
    inbox: Path, engine: Engine
) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    # the third 850 becomes an 855, which ACME never sends us
    third = text.index("ST*850*0003")
    (inbox / "drop/mixed.x12").write_text(
        text[:third] + text[third:].replace("ST*850*0003", "ST*855*0003", 1), encoding="utf-8"
    )
    report = run_source("acme_edi", engine=engine)
    assert report.ok, report.errors
    assert _count(engine, SalesOrder) == 2
    with engine.connect() as conn:
        q = conn.execute(select(table(Quarantine))).mappings().all()
    assert len(q) == 1
    assert "does not send 855" in q[0]["reasons"] and "segment 43" in q[0]["reasons"]
    ack = read_document(next(outbox_dir("acme_retail").glob("997_*.x12"))).interchanges[0]
    body = [s for g in ack.groups for t in g.transactions for s in t.segments]
    assert [s.elements[:2] for s in body if s.tag == "AK5"][-1] == ["R", "1"]
    assert next(s for s in body if s.tag == "AK9").elements[:4] == ["P", "3", "3", "2"]


def test_an_undelivered_997_fails_the_run_and_goes_out_with_the_next_one(
    inbox: Path, engine: Engine
) -> None:
    """The partner's outbox cannot be written: the orders still load, the run fails with
    why, the 997 stays pending; the next run (no new file) delivers it. A file we sent
    past its 997 deadline is marked overdue by the inbox's run."""
    import datetime as dt

    from omshub.edi.outbox import Document, queue
    from omshub.edi.partners import get_partner

    with engine.begin() as conn:  # an 855 sent two days ago, never acknowledged
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        queue(conn, get_partner("acme_retail"), [Document("855", [("BAK", ["00", "AD"])])], old)
    (inbox / "partner_out").write_text("a file where the partner's folder should be")
    shutil.copy(SAMPLE, inbox / "drop/po_850.x12")
    first = run_source("edi_acme_retail", engine=engine)
    assert first.status == "failed"
    assert "outbound files not delivered" in (first.summary.message or "")
    assert _count(engine, SalesOrder) == 3  # loaded all the same
    with engine.connect() as conn:
        rows = conn.execute(select(table(EdiInterchange))).mappings().all()
    assert sorted(r["status"] for r in rows if r["direction"] == "out") == ["pending", "pending"]

    (inbox / "partner_out").unlink()
    second = run_source("edi_acme_retail", engine=engine)
    assert second.ok, second.errors
    with engine.connect() as conn:
        rows = conn.execute(select(table(EdiInterchange))).mappings().all()
    out = {r["file_name"][:3]: r for r in rows if r["direction"] == "out"}
    assert {k: r["status"] for k, r in out.items()} == {"855": "sent", "997": "sent"}
    assert out["855"]["ack_status"] == "overdue" and out["997"]["ack_status"] == "none"
    assert len(list((inbox / "partner_out").iterdir())) == 2
