"""`omshub edi partners|interchanges|overdue`: what they list, their JSON, exit codes, and
that the read commands refuse (never migrate) a store behind the current schema."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from oms import edi
from oms.db import get_engine, upgrade
from oms.edi import GroupFacts, InterchangeFacts, TransactionFacts
from omshub.cli import app

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(autouse=True)
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMSHUB_LOG_DIR", str(tmp_path / "logs"))


def sent(engine: Engine, hours_ago: float, due_hours: float | None) -> int:
    with engine.begin() as conn:
        [isa] = edi.allocate(conn, "acme_retail", "isa")
        facts = InterchangeFacts(
            "ZZ", "OMSHUB", "01", "007123456", isa, file_name=f"asn_{isa}.x12",
            groups=[GroupFacts("SH", isa, "004010VICS", transactions=[TransactionFacts("856", "0001")])],
        )  # fmt: skip
        due = dt.timedelta(hours=due_hours) if due_hours is not None else None
        at = NOW - dt.timedelta(hours=hours_ago)
        return edi.record_outbound(conn, "acme_retail", facts, due, sent_at=at)


def test_partners_lists_good_and_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["edi", "partners", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["id"] for p in data["items"]] == ["acme_retail", "harborline_3pl"]
    assert data["invalid"] == []
    result = runner.invoke(app, ["edi", "partners"])
    assert result.exit_code == 0 and "01/007123456" in result.stdout
    home = tmp_path / "home"
    shutil.copytree(ROOT / "config" / "partners", home / "config" / "partners")
    (home / "config" / "sources").mkdir()
    (home / "config" / "partners" / "bad.yaml").write_text("id: bad\npassword: s3cret\n")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    result = runner.invoke(app, ["edi", "partners"])
    assert result.exit_code == 2
    assert "acme_retail" in result.stdout and "bad.yaml:2 password: secret written" in result.stderr
    assert "s3cret" not in result.output
    data = json.loads(runner.invoke(app, ["edi", "partners", "--json"]).stdout)
    assert [i["name"] for i in data["invalid"]] == ["bad"] and len(data["items"]) == 2


def test_interchanges_and_overdue(store_url: str) -> None:
    engine = get_engine(store_url)
    late = sent(engine, hours_ago=30, due_hours=24)
    sent(engine, hours_ago=1, due_hours=24)
    sent(engine, hours_ago=50, due_hours=None)
    with engine.begin() as conn:
        facts = InterchangeFacts("01", "007123456", "ZZ", "OMSHUB", 77, file_name="po.x12")
        edi.register_inbound(conn, "acme_retail", facts)
    result = runner.invoke(app, ["edi", "interchanges", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 4
    first = data["items"][0]
    assert (first["direction"], first["isa_control"], first["file_name"]) == (
        "in", "000000077", "po.x12"
    )  # fmt: skip
    assert dt.datetime.fromisoformat(first["received_at"]).tzinfo is not None
    data = json.loads(runner.invoke(app, ["edi", "interchanges", "--direction", "out",
                                          "--partner", "acme_retail", "--json"]).stdout)  # fmt: skip
    assert [r["isa_control"] for r in data["items"]] == [
        "000000003", "000000002", "000000001"
    ]  # fmt: skip
    result = runner.invoke(app, ["edi", "interchanges", "--limit", "2"])
    assert result.exit_code == 0 and "2 of 4" in result.stdout and "--offset 2" in result.stdout

    result = runner.invoke(app, ["edi", "overdue", "--json"])
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)["items"]
    assert [(r["id"], r["isa_control"], r["newly"]) for r in rows] == [(late, "000000001", False)]
    result = runner.invoke(app, ["edi", "overdue"])
    assert result.exit_code == 1 and "asn_1.x12" in result.stdout
    with engine.connect() as conn:  # listing marked nothing
        assert edi.interchanges(conn, direction="out")[0][-1]["ack_status"] == "none"
    result = runner.invoke(app, ["edi", "overdue", "--mark", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["items"][0]["newly"] is True
    with engine.connect() as conn:
        assert edi.interchanges(conn, direction="out")[0][-1]["ack_status"] == "overdue"
    with engine.begin() as conn:
        edi.mark_acknowledged(conn, "acme_retail", "accepted", group_control=1, code="A")
    result = runner.invoke(app, ["edi", "overdue"])
    assert result.exit_code == 0 and "no 997 is overdue" in result.stdout


def test_reads_refuse_a_store_behind_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    monkeypatch.setenv("OMSHUB_DATABASE_URL", url)
    for command in (["edi", "interchanges"], ["edi", "overdue"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 5, result.output
        assert "at schema revision 0005" in result.stderr and "omshub db upgrade" in result.stderr
    monkeypatch.setenv("OMSHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    result = runner.invoke(app, ["edi", "overdue"])
    assert result.exit_code == 5 and "no store at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_gaps(store_url: str) -> None:
    engine = get_engine(store_url)
    with engine.begin() as conn:
        for n in (1, 2, 6):
            edi.register_inbound(conn, "acme_retail", InterchangeFacts(
                "01", "007123456", "ZZ", "OMSHUB", n,
                groups=[GroupFacts("PO", n)],
            ))  # fmt: skip
    result = runner.invoke(app, ["edi", "gaps", "acme_retail", "--json"])
    assert result.exit_code == 0, result.output
    gaps = json.loads(result.stdout)["items"]
    assert gaps == [{"sender": "007123456", "first": 3, "last": 5, "count": 3}]
    result = runner.invoke(app, ["edi", "gaps", "acme_retail", "--kind", "gs", "--json"])
    assert json.loads(result.stdout)["items"] == [{"sender": "", "first": 3, "last": 5, "count": 3}]
    result = runner.invoke(app, ["edi", "gaps", "acme_retail"])
    assert result.exit_code == 0 and "missing ISA numbers" in result.stdout
    assert "007123456" in result.stdout
    result = runner.invoke(app, ["edi", "gaps", "harborline_3pl"])
    assert result.exit_code == 0 and "no gaps in harborline_3pl's ISA numbers" in result.stdout
    result = runner.invoke(app, ["edi", "gaps", "nobody"])
    assert result.exit_code == 2 and "unknown partner 'nobody'" in result.stderr
