"""The partner's 997 for what we sent: recorded per group and set, never answered, never
mapped; an interchange we sent is then no longer waiting for its 997."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from connectors.x12 import read_document
from oms.bookkeeping import EdiGroup, EdiInterchange
from oms.edi import overdue
from oms.models import table
from omshub.edi.acks import TransactionResult, functional_ack
from omshub.edi.outbox import Document, outbox_dir, queue
from omshub.edi.partners import get_partner
from omshub.pipeline import run_source

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 3, 7, 30, tzinfo=dt.UTC)


@pytest.fixture
def harbor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the 3PL partner and a folder inbox for what it sends us."""
    home = tmp_path / "proj"
    for sub in ("config/sources", "config/partners", "mappings", "drop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config/ownership.yaml", home / "config")
    partner = (ROOT / "config/partners/harborline_3pl.yaml").read_text(encoding="utf-8")
    (home / "config/partners/harborline_3pl.yaml").write_text(partner, encoding="utf-8")
    (home / "config/sources/harbor_edi.yaml").write_text(
        textwrap.dedent("""\
        name: harbor_edi
        system: harborline_3pl
        kind: edi
        connector: {type: local_folder, path: drop, claim: true}
        retries: 0
        reject_threshold: 1.0
        streams:
          - {name: inbox, pattern: "*.x12", format: {type: x12}, mapping: null}
        """),
        encoding="utf-8",
    )
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


def test_the_3pls_997_settles_our_940_and_gets_no_997_back(harbor: Path, engine: Engine) -> None:
    partner = get_partner("harborline_3pl")
    body = [("W05", ["N", "SO-1001", "PO-1001"]), ("LX", ["1"])]
    with engine.begin() as conn:
        sent = queue(conn, partner, [Document("940", body, "PO-1001")] * 2, NOW)
        assert len(overdue(conn, NOW + dt.timedelta(days=2))) == 1  # no 997 yet: overdue
    # the 3PL reads our file and answers it: one set accepted, one rejected
    ours = read_document(sent).interchanges[0]
    group = ours.groups[0]
    results = [
        TransactionResult.of(group.transactions[0]),
        TransactionResult.of(group.transactions[1], rejected=True),
    ]
    answer = functional_ack(group.group, results, interchange_control=77, group_control=77)
    (harbor / "drop/997_from_harborline.x12").write_bytes(answer)

    report = run_source("harbor_edi", engine=engine)
    assert report.ok, report.errors
    with engine.connect() as conn:
        ix = conn.execute(select(table(EdiInterchange))).mappings().all()
        groups = conn.execute(select(table(EdiGroup))).mappings().all()
    out = next(r for r in ix if r["direction"] == "out")
    assert out["ack_status"] == "accepted_with_errors"  # the interchange: not all accepted
    assert [g["ack_state"] for g in groups if g["gs01"] == "OW"] == ["partially_accepted"]
    inbound = [r for r in ix if r["direction"] == "in"]
    assert [(r["isa_control"], r["status"]) for r in inbound] == [("000000077", "loaded")]
    assert not list(outbox_dir("harborline_3pl").glob("997_*"))  # a 997 is never answered
    with engine.connect() as conn:
        assert overdue(conn, NOW + dt.timedelta(days=2)) == []
