"""The EDI registry (`oms.edi`) on SQLite and PostgreSQL: duplicates, gaps, control numbers
(also under concurrency), outbound interchanges, acknowledgements and overdue 997s."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from oms import edi
from oms.bookkeeping import EdiGroup, EdiInterchange, EdiTransaction
from oms.edi import GroupFacts, InterchangeFacts, TransactionFacts
from oms.models import table

T0 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
_ix, _gr, _tx = table(EdiInterchange), table(EdiGroup), table(EdiTransaction)


def inbound(control: int, sender: str = "007123456", groups: int = 1) -> InterchangeFacts:
    return InterchangeFacts(
        sender_qualifier="01",
        sender_id=sender,
        receiver_qualifier="ZZ",
        receiver_id="OMSHUB",
        control=f"{control:09d}",
        version="00401",
        file_name=f"po_{control}.x12",
        groups=[
            GroupFacts(
                gs01="PO",
                gs06=control * 10 + g,
                gs02="ACMERETAIL",
                gs08="004010VICS",
                transactions=[TransactionFacts("850", f"{g:04d}1", reference=f"PO-{control}")],
            )
            for g in range(groups)
        ],
    )


def outbound(engine: Engine, partner: str = "acme_retail", hours: float | None = 24) -> int:
    """Send one interchange with one 856 group (numbers from `allocate`); its id."""
    with engine.begin() as conn:
        [isa], [gs] = edi.allocate(conn, partner, "isa"), edi.allocate(conn, partner, "gs")
        sts = edi.allocate(conn, partner, "st", 2)
        facts = InterchangeFacts(
            "ZZ", "OMSHUB", "01", "007123456", isa, file_name=f"asn_{isa}.x12",
            groups=[GroupFacts("SH", gs, "004010VICS", transactions=[
                TransactionFacts("856", f"{st:04d}", reference="PO-1") for st in sts
            ])],
        )  # fmt: skip
        within = dt.timedelta(hours=hours) if hours is not None else None
        return edi.record_outbound(conn, partner, facts, within, sent_at=T0)


def test_inbound_is_registered_once(engine: Engine) -> None:
    with engine.begin() as conn:
        first = edi.register_inbound(conn, "acme_retail", inbound(42, groups=2), now=T0)
    assert not first.duplicate and first.previous is None
    with engine.begin() as conn:
        again = edi.register_inbound(conn, "acme_retail", inbound(42), now=T0)
        other_sender = edi.register_inbound(conn, "acme_retail", inbound(42, sender="X"))
        other_partner = edi.register_inbound(conn, "harborline_3pl", inbound(42))
    assert again.duplicate and again.id == first.id
    assert again.previous is not None and again.previous.file_name == "po_42.x12"
    assert again.previous.received_at == T0 and again.previous.status == "received"
    assert not other_sender.duplicate and not other_partner.duplicate
    with engine.connect() as conn:
        row = conn.execute(select(_ix).where(_ix.c.id == first.id)).one()
        assert (row.isa_control, row.group_count, row.ack_status) == ("000000042", 2, "none")
        groups = conn.execute(select(_gr).where(_gr.c.interchange_id == first.id)).all()
        assert sorted(g.gs06 for g in groups) == ["420", "421"]
        sets = conn.execute(select(_tx.c.st02, _tx.c.reference)).all()
        # the duplicate wrote no groups or sets
        assert len(sets) == 2 + 1 + 1 and ("00001", "PO-42") in sets


def test_gaps_per_sender(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in (1, 2, 5, 6, 10):
            edi.register_inbound(conn, "acme_retail", inbound(n))
        edi.register_inbound(conn, "acme_retail", inbound(3, sender="OTHER"))
        edi.register_inbound(conn, "acme_retail", inbound(7, sender="OTHER"))
        edi.register_inbound(conn, "harborline_3pl", inbound(100))
    with engine.connect() as conn:
        isa = edi.gaps(conn, "acme_retail", "isa")
        gs = edi.gaps(conn, "acme_retail", "gs")
        assert edi.gaps(conn, "harborline_3pl", "isa") == []
    assert [(g.sender, g.first, g.last, g.count) for g in isa] == [
        ("007123456", 3, 4, 2),
        ("007123456", 7, 9, 3),
        ("OTHER", 4, 6, 3),
    ]
    # GS06 = n*10 here: 10, 20, 50, 60, 100 (and 30, 70 from the same GS02)
    expected = [(11, 19), (21, 29), (31, 49), (51, 59), (61, 69), (71, 99)]
    assert [(g.first, g.last) for g in gs] == expected


def test_allocate_increases_per_partner_and_kind_and_wraps(engine: Engine) -> None:
    with engine.begin() as conn:
        assert edi.allocate(conn, "acme_retail", "isa") == [1]
        assert edi.allocate(conn, "acme_retail", "isa", 3) == [2, 3, 4]
        assert edi.allocate(conn, "acme_retail", "gs") == [1]
        assert edi.allocate(conn, "harborline_3pl", "isa", 2) == [1, 2]
        edi.allocate(conn, "acme_retail", "st")
        cn = table(edi.EdiControlNumber)
        conn.execute(cn.update().where(cn.c.kind == "st").values(last_value=edi.MAX_CONTROL - 2))
        assert edi.allocate(conn, "acme_retail", "st", 4) == [
            edi.MAX_CONTROL - 1,
            edi.MAX_CONTROL,
            1,
            2,
        ]
        assert edi.allocate(conn, "acme_retail", "st") == [3]
    with engine.begin() as conn, pytest.raises(ValueError, match="kind is one of isa, gs, st"):
        edi.allocate(conn, "acme_retail", "xx")  # type: ignore[arg-type]
    try:
        with engine.begin() as conn:
            assert edi.allocate(conn, "acme_retail", "isa") == [5]
            raise RuntimeError("the file was never written")
    except RuntimeError:
        pass
    with engine.begin() as conn:  # a rolled-back allocation gives its number back
        assert edi.allocate(conn, "acme_retail", "isa") == [5]


def test_set_last_continues_a_partners_numbering(engine: Engine) -> None:
    with engine.begin() as conn:
        edi.set_last(conn, "acme_retail", "isa", 4711)  # before any allocation
        assert edi.allocate(conn, "acme_retail", "isa", 2) == [4712, 4713]
        edi.set_last(conn, "acme_retail", "isa", edi.MAX_CONTROL)
        assert edi.allocate(conn, "acme_retail", "isa") == [1]
        edi.set_last(conn, "acme_retail", "gs", 0)
        assert edi.allocate(conn, "acme_retail", "gs") == [1]
        with pytest.raises(ValueError, match=r"0\.\.999999999, not -1"):
            edi.set_last(conn, "acme_retail", "st", -1)


def _threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `n` threads started together; their results (errors re-raised)."""
    results: list[Any] = [None] * n
    errors: list[BaseException] = []
    gate = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            gate.wait()
            results[i] = work(i)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def test_concurrent_allocators_get_distinct_increasing_numbers(engine: Engine) -> None:
    def allocate_200(_: int) -> list[int]:
        got: list[int] = []
        for _i in range(200):
            with engine.begin() as conn:  # one transaction per file, as the writer does
                got += edi.allocate(conn, "acme_retail", "isa")
        return got

    a, b = _threads(2, allocate_200)
    assert len(a) == len(b) == 200
    assert a == sorted(a) and b == sorted(b)
    assert sorted(a + b) == list(range(1, 401))


def test_concurrent_registrations_of_one_isa13_have_one_winner(engine: Engine) -> None:
    def register(i: int) -> list[bool]:
        out = []
        for n in range(1, 21):
            with engine.begin() as conn:
                out.append(edi.register_inbound(conn, "acme_retail", inbound(n)).duplicate)
        return out

    a, b = _threads(2, register)
    assert all(x != y for x, y in zip(a, b, strict=True))  # per ISA13: one new, one duplicate
    with engine.connect() as conn:
        assert conn.execute(select(_ix.c.isa_control)).scalars().all().__len__() == 20
        assert len(conn.execute(select(_gr.c.id)).all()) == 20


def test_a_registration_waits_for_the_winner_to_commit(engine: Engine) -> None:
    """The loser of a race waits for the winner's transaction: duplicate once it commits,
    and the new interchange itself when the winner rolls back."""
    registered = threading.Event()

    def winner(rollback: bool) -> None:
        with engine.connect() as conn, conn.begin() as tx:
            edi.register_inbound(conn, "acme_retail", inbound(7))
            registered.set()
            threading.Event().wait(0.5)
            tx.rollback() if rollback else tx.commit()

    for rollback in (True, False):
        registered.clear()
        t = threading.Thread(target=winner, args=(rollback,))
        t.start()
        assert registered.wait(30)
        with engine.begin() as conn:
            late = edi.register_inbound(conn, "acme_retail", inbound(7))
        t.join()
        assert late.duplicate is (not rollback)
        if rollback:  # undo the late one, so the second round races again
            with engine.begin() as conn:
                conn.execute(_tx.delete())
                conn.execute(_gr.delete())
                conn.execute(_ix.delete())


def test_acknowledgements_and_overdue(engine: Engine) -> None:
    first, second, third = outbound(engine), outbound(engine), outbound(engine, hours=None)
    with engine.begin() as conn:
        assert edi.overdue(conn, T0 + dt.timedelta(hours=23)) == []
        late = edi.overdue(conn, T0 + dt.timedelta(hours=25))
    assert [(o.id, o.newly, o.isa_control) for o in late] == [
        (first, True, "000000001"),
        (second, True, "000000002"),
    ]
    with engine.begin() as conn:
        # a late 997 for the first (its group GS06 1, both sets accepted)
        got = edi.mark_acknowledged(
            conn, "acme_retail", "accepted", group_control="000000001", code="A",
            functional_id="SH", transactions={"0001": ("accepted", "A")},
        )  # fmt: skip
        assert got == first
        # the second's group rejected, one set with errors
        edi.mark_acknowledged(conn, "acme_retail", "rejected", group_control=2, code="R")
        still = edi.overdue(conn, T0 + dt.timedelta(days=2))
        assert still == []
        with pytest.raises(edi.EdiRegistryError, match="no outbound group with GS06 99"):
            edi.mark_acknowledged(conn, "acme_retail", "accepted", group_control=99)
        with pytest.raises(edi.EdiRegistryError, match="ISA13 000000003"):
            edi.mark_acknowledged(conn, "harborline_3pl", "rejected", interchange_control=3)
    with engine.connect() as conn:
        states = dict(conn.execute(select(_ix.c.id, _ix.c.ack_status)).all())
        assert states == {first: "accepted", second: "rejected", third: "none"}
        sets = dict(conn.execute(select(_tx.c.st02, _tx.c.ack_state)).all())
        assert sets["0001"] == "accepted" and sets["0002"] == "none"


def test_overdue_marks_once_and_lists_again(engine: Engine) -> None:
    sent = outbound(engine, hours=4)
    now = T0 + dt.timedelta(hours=5)
    with engine.begin() as conn:
        assert [o.newly for o in edi.overdue(conn, now, mark=False)] == [False]
        assert [o.newly for o in edi.overdue(conn, now)] == [True]
        assert [(o.id, o.newly) for o in edi.overdue(conn, now)] == [(sent, False)]
        assert conn.execute(select(_gr.c.ack_state)).scalar() == "overdue"
        # a TA1 rejecting the whole interchange answers it too
        edi.mark_acknowledged(conn, "acme_retail", "rejected", interchange_control=1, code="R")
        assert edi.overdue(conn, now) == []
        assert conn.execute(select(_gr.c.ack_state)).scalar() == "rejected"


def test_an_outbound_isa13_is_sent_once(engine: Engine) -> None:
    outbound(engine)
    facts = InterchangeFacts("ZZ", "OMSHUB", "01", "007123456", 1)
    with engine.begin() as conn, pytest.raises(edi.EdiRegistryError, match="already sent"):
        edi.record_outbound(conn, "acme_retail", facts, None)


def test_listing(engine: Engine) -> None:
    outbound(engine)
    with engine.begin() as conn:
        edi.register_inbound(conn, "acme_retail", inbound(1))
        edi.register_inbound(conn, "harborline_3pl", inbound(1))
    with engine.connect() as conn:
        rows, total = edi.interchanges(conn, partner="acme_retail")
        assert total == 2 and [r["direction"] for r in rows] == ["in", "out"]
        rows, total = edi.interchanges(conn, direction="in", limit=1)
        assert total == 2 and rows[0]["partner"] == "harborline_3pl"


def test_facts_from_a_read_isa() -> None:
    from connectors.x12.model import Delimiters, Interchange, Segment

    isa = "00|          |00|          |01|007123456      |ZZ|OMSHUB         |261203|0800|U|00401|000000042|1|P|>"
    read = Interchange(Segment("ISA", isa.split("|"), 1, 0), Delimiters())
    facts = InterchangeFacts.from_isa(read, file_name="po.x12")
    assert (facts.sender_id, facts.receiver_id, facts.control) == (
        "007123456",
        "OMSHUB",
        "000000042",
    )
    assert (facts.usage, facts.version, facts.file_name) == ("P", "00401", "po.x12")
    reply = InterchangeFacts.answering(read, 7, usage="T")
    assert (reply.sender_qualifier, reply.sender_id) == ("ZZ", "OMSHUB")
    assert (reply.receiver_qualifier, reply.receiver_id) == ("01", "007123456")
    assert (reply.control, reply.usage, reply.version) == (7, "T", "00401")


ALLOCATOR = """
import json, sys, time
from oms import edi
from oms.db import get_engine
engine = get_engine(sys.argv[1])
while time.time() < float(sys.argv[2]):  # start together
    time.sleep(0.005)
got = []
for _ in range(200):
    with engine.begin() as conn:
        got += edi.allocate(conn, "acme_retail", "gs")
print(json.dumps(got))
"""


def test_two_processes_allocate_distinct_numbers(store_url: str) -> None:
    import json
    import subprocess
    import sys
    import time

    start = str(time.time() + 3)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ALLOCATOR, store_url, start], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    a, b = (json.loads(o) for o in outs)
    assert a == sorted(a) and b == sorted(b) and len(a) == len(b) == 200
    assert sorted(a + b) == list(range(1, 401))


def test_migration_0006_downgrades_and_upgrades_again(store_url: str) -> None:
    from pathlib import Path

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    import oms.db
    from oms.db import get_engine
    from oms.models import Base

    engine = get_engine(store_url)
    outbound(engine)  # rows survive in edi_interchange, without the new columns
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(oms.db.__file__).parent / "migrations"))
    cfg.attributes["engine"] = engine
    command.downgrade(cfg, "0005")
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        assert "edi_group" not in names and "edi_control_number" not in names
        keys = inspect(conn).get_unique_constraints("edi_interchange")
        assert [k["column_names"] for k in keys] == [["partner", "direction", "isa_control"]]
        assert conn.execute(select(_ix.c.isa_control)).scalars().all() == ["000000001"]
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_a_file_repeating_gs06_and_st02_is_recorded_as_it_came(engine: Engine) -> None:
    """The reader reports a repeated GS06 or ST02 (the 997 answers it); the registry
    records what came rather than failing the file's transaction."""
    again = [TransactionFacts("850", "0001"), TransactionFacts("850", "0001")]
    facts = InterchangeFacts(
        "01", "007123456", "ZZ", "OMSHUB", 9,
        groups=[GroupFacts("PO", 5, transactions=again), GroupFacts("PO", "000005")],
    )  # fmt: skip
    with engine.begin() as conn:
        got = edi.register_inbound(conn, "acme_retail", facts)
        assert not got.duplicate
        edi.mark_acknowledged(
            conn, "acme_retail", "rejected", group_control=5, direction="in",
            transactions={"0001": ("rejected", "R")},
        )  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(select(_gr.c.gs06)).scalars().all() == ["5", "5"]
        assert len(conn.execute(select(_tx.c.id)).all()) == 2
