"""An order's EDI chain on both backends (the 850 received, the 855/856 sent, the 940 to
the 3PL and its 945), each with its numbers and 997 state, outstanding and overdue
flags; inbound references read from real sets; `omshub edi chain|send` on the CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from connectors.x12 import Transaction, iter_transactions, read_document
from oms import edi
from oms.edi import GroupFacts, InterchangeFacts, TransactionFacts
from omshub.cli import app
from omshub.edi.chain import chain
from omshub.edi.generate import GENERATORS
from omshub.edi.generate.base import Context, OrderData
from omshub.edi.outbox import Document, queue
from omshub.edi.partners import get_partner
from omshub.edi.references import reference

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "mappings/edi/samples"
NOW = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
ACME = get_partner("acme_retail")
HARBOR = get_partner("harborline_3pl")
runner = CliRunner()


def inbound(
    engine: Engine, partner: str, set_id: str, fid: str, isa: int, ref: str, hours_ago: float = 40
) -> None:
    """A received interchange with one set about `ref`, answered by our accepting 997."""
    with engine.begin() as conn:
        facts = InterchangeFacts(
            "ZZ", "THEM", "ZZ", "US", isa, file_name=f"{set_id}_{isa}.x12",
            groups=[GroupFacts(fid, isa, "004010", transactions=[TransactionFacts(set_id, "0001", ref)])],
        )  # fmt: skip
        edi.register_inbound(conn, partner, facts, now=NOW - dt.timedelta(hours=hours_ago))
        edi.mark_acknowledged(
            conn, partner, "accepted", group_control=isa, functional_id=fid, direction="in",
            transactions={"0001": ("accepted", None)},
        )  # fmt: skip


def outbound(engine: Engine, partner: str, doc: Document, hours_ago: float) -> str:
    with engine.begin() as conn:
        path = queue(conn, get_partner(partner), [doc], NOW - dt.timedelta(hours=hours_ago))
    return path.name


@pytest.fixture
def chained(engine: Engine) -> Engine:
    """PO-1: 850 in (acked), 855 out (997 accepted), 856 out (no 997, not yet due), 940 out
    to the 3PL (no 997, past its 4 hours), 945 in; PO-2 has its own 850."""
    inbound(engine, "acme_retail", "850", "PO", 501, "PO-1")
    inbound(engine, "acme_retail", "850", "PO", 502, "PO-2")
    outbound(engine, "acme_retail", Document("855", [("BAK", [])], "PO-1"), 30)
    with engine.begin() as conn:  # ACME's 997 for our 855 (GS06 1)
        edi.mark_acknowledged(
            conn, "acme_retail", "accepted", group_control=1, functional_id="PR",
            transactions={"0001": ("accepted", None)}, now=NOW - dt.timedelta(hours=29),
        )  # fmt: skip
    outbound(engine, "acme_retail", Document("856", [("BSN", [])], "PO-1"), 2)
    outbound(engine, "harborline_3pl", Document("940", [("W05", [])], "PO-1"), 6)
    inbound(engine, "harborline_3pl", "945", "SW", 9001, "PO-1", hours_ago=1)
    return engine


def test_the_chain_of_a_po_in_order_with_its_997_states(chained: Engine) -> None:
    with chained.connect() as conn:
        docs = chain(conn, "PO-1", now=NOW)
        acme = chain(conn, "PO-1", partner="acme_retail", now=NOW)
        assert chain(conn, "PO-404", now=NOW) == []
    summary = [(d.direction, d.partner, d.set_id, d.ack, d.outstanding, d.overdue) for d in docs]
    assert summary == [
        ("in", "acme_retail", "850", "accepted", False, False),
        ("out", "acme_retail", "855", "accepted", False, False),
        ("out", "harborline_3pl", "940", "overdue", True, True),
        ("out", "acme_retail", "856", "none", True, False),
        ("in", "harborline_3pl", "945", "accepted", False, False),
    ]
    assert [d.set_id for d in acme] == ["850", "855", "856"]
    first = docs[0]
    assert (first.isa13, first.gs06, first.st02, first.file) == (
        "000000501", "501", "0001", "850_501.x12"
    )  # fmt: skip
    assert docs[1].file and docs[1].file.startswith("855_acme_retail_")
    assert docs[2].ack_due_at is not None
    with chained.begin() as conn:  # the overdue check marked it: still overdue
        edi.overdue(conn, NOW)
    with chained.connect() as conn:
        marked = chain(conn, "PO-1", partner="harborline_3pl", now=NOW)
    assert [(d.set_id, d.ack, d.overdue) for d in marked] == [
        ("940", "overdue", True), ("945", "accepted", False)
    ]  # fmt: skip


def _sets(path: Path) -> list[Transaction]:
    return list(iter_transactions(path.read_bytes()))


def test_references_of_real_inbound_sets() -> None:
    assert [reference("850", t) for t in _sets(SAMPLES / "po_850.x12")][:1] == ["4500012345"]
    assert [reference("856", t) for t in _sets(SAMPLES / "asn_856.x12")] == [
        "4500012345", "4500012346"
    ]  # fmt: skip
    assert [reference("945", t) for t in _sets(SAMPLES / "whse_945.x12")] == [
        "4500012345", "4500012346"
    ]  # fmt: skip


def _written(doc: Document) -> Transaction:
    from connectors.x12 import Delimiters
    from connectors.x12.writer import GroupSpec, build_interchange

    group = GroupSpec("XX", "A", "B", 1, "004010", [(doc.set_id, 1, doc.body)])
    data = build_interchange(
        sender=("ZZ", "A"), receiver=("ZZ", "B"), control=1, usage="T", version="00401",
        delimiters=Delimiters("*", ">", "~"), groups=[group], when=NOW,
    )  # fmt: skip
    [tx] = read_document(data).interchanges[0].groups[0].transactions
    return tx


def test_references_of_every_set_the_chain_links() -> None:
    order = {"order_number": "PO-9", "ordered_at": NOW}
    lines = [{"order_number": "PO-9", "line_no": 1, "sku": "W-1", "qty_ordered": Decimal(2)}]
    for name, partner in (("po_ack_855", ACME), ("shipping_order_940", HARBOR)):
        doc = GENERATORS[name].build(Context(partner, NOW), OrderData(order, lines))
        assert reference(doc.set_id, _written(doc)) == doc.reference == "PO-9"
    bodies = {
        "860": [("BCH", ["01", "SA", "PO-9", "", "", "20261203"])],
        "810": [("BIG", ["20261203", "INV-1", "20261201", "PO-9"])],
        "940": [("W05", ["N", "SO-9"])],  # no PO: the depositor order
        "945": [("W06", ["F", "SO-9", "20261203", "SH-1", "", "PO-9"])],
        "944": [("W17", ["F", "20261203", "RCV-1", "SO-9"])],
        "947": [("W15", ["20261203", "ADJ-7"])],
        "856": [("HL", ["1", "", "S"]), ("HL", ["2", "1", "O"]), ("PRF", ["PO-9"])],
    }
    found = {s: reference(s, _written(Document(s, b))) for s, b in bodies.items()}
    assert found == {
        "860": "PO-9", "810": "PO-9", "940": "SO-9", "945": "PO-9", "944": "SO-9",
        "947": "ADJ-7", "856": "PO-9",
    }  # fmt: skip
    assert reference("997", _written(Document("997", [("AK1", ["PO", "1"])]))) is None
    assert reference("850", _written(Document("850", [("BEG", ["00", "SA", ""])]))) is None


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMSHUB_LOG_DIR", str(tmp_path / "logs"))


def test_chain_cli_table_json_and_nothing_found(chained: Engine, cli_env: None) -> None:
    result = runner.invoke(app, ["edi", "chain", "PO-1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["set_id"] for d in data["items"]] == ["850", "855", "940", "856", "945"]
    assert data["items"][2]["overdue"] is True
    table = runner.invoke(app, ["edi", "chain", "PO-1", "--partner", "acme_retail"])
    assert table.exit_code == 0, table.output
    assert "000000501" in table.stdout and "outstanding" in table.stdout
    none = runner.invoke(app, ["edi", "chain", "PO-404"])
    assert none.exit_code == 1 and "no EDI document registered for 'PO-404'" in none.stderr


SFTP = """
transport:
  conn_id: acme_retail_sftp
  inbox: /acme/in
  outbox: /acme/out
  archive: /acme/in/archive
  error: /acme/in/error
"""


def test_send_cli_refuses_a_set_or_key_and_keeps_an_undelivered_file_pending(
    engine: Engine, cli_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "proj"
    (home / "config/partners").mkdir(parents=True)
    (home / "config/sources").mkdir()
    text = (ROOT / "config/partners/acme_retail.yaml").read_text(encoding="utf-8")
    head, _, rest = text.partition("\ntransport:")
    text = head + SFTP + "\nack:" + rest.partition("\nack:")[2]  # ACME over SFTP
    (home / "config/partners/acme_retail.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    wrong = runner.invoke(app, ["edi", "send", "acme_retail", "940", "PO-1"])
    assert wrong.exit_code == 2 and "does not receive 940" in wrong.stderr
    missing = runner.invoke(app, ["edi", "send", "acme_retail", "855", "PO-404"])
    assert missing.exit_code == 1 and "no sales_order with order number 'PO-404'" in missing.stderr
    inbound(engine, "acme_retail", "850", "PO", 700, "PO-7")
    from oms.load import LoadContext, load_batch
    from oms.load.rows import arrow_rows
    from oms.ownership import Ownership

    meta = {"_updated_at": NOW}
    rows: dict[str, list[dict[str, Any]]] = {
        "sales_order": [{"order_number": "PO-7", "_external_id": "PO-7"} | meta],
        "order_line": [
            {"order_number": "PO-7", "line_no": 1, "sku": "W-1", "qty_ordered": Decimal(1)}
            | {"_external_id": "PO-7/1"} | meta
        ],
    }  # fmt: skip
    ctx = LoadContext("acme_retail", "edi", "r", "b", "t", "1", NOW)
    with engine.begin() as conn:
        load_batch(conn, {e: arrow_rows(e, r) for e, r in rows.items()}, ctx, Ownership({}))
    # ACME's SFTP server is down: queued and registered, not delivered, exit 1
    monkeypatch.setenv("AIRFLOW_CONN_ACME_RETAIL_SFTP", "sftp://u:p@127.0.0.1:9/")
    result = runner.invoke(app, ["edi", "send", "acme_retail", "855", "PO-7", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["references"] == ["PO-7"]
    assert "not delivered" in result.stderr and "stays pending" in result.stderr
    with engine.connect() as conn:
        docs = chain(conn, "PO-7", now=NOW)
    assert [(d.set_id, d.status, d.outstanding) for d in docs] == [
        ("850", "received", False), ("855", "pending", True)
    ]  # fmt: skip
