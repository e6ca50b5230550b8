"""The life of one purchase order over real SFTP, both ways, with 997s for everything.

ACME Retail's 850 -> the store -> our 855 to ACME and our 940 to the 3PL -> the 3PL's 997
and 945 -> a shipment -> our 856 to ACME -> ACME's 997s; each partner's inbox run through
the same pipeline as in production (`edi_<partner>` sources on a real OpenSSH server).
`omshub edi chain` then shows the whole chain with its control numbers and 997 states.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from edi_projects import SAMPLE_850, edi_project, shipping_advice
from sqlalchemy import Engine, select
from sshserver import SshServer, sshd  # noqa: F401 (the session fixture)
from typer.testing import CliRunner

from connectors.x12 import read_document
from oms.bookkeeping import EdiInterchange
from oms.models import Shipment, table
from omshub.cli import app
from omshub.edi.acks import TransactionResult, functional_ack
from omshub.edi.send import send
from omshub.pipeline import run_source

ROOT = Path(__file__).resolve().parents[3]
PO = "4500012345"
OLD = time.time() - 120  # dropped files are settled (the SFTP inbox waits 30 s by default)


def partner(pid: str, them: str, sets_in: str, sets_out: str, folders: dict[str, Path]) -> str:
    t = "\n".join(f"  {k}: {v}" for k, v in folders.items())
    return f"""\
id: {pid}
name: {pid}
usage: P
us: {{qualifier: ZZ, id: OMSHUB, application_code: OMSHUB}}
them: {them}
outbound: {{isa_version: "00401", gs_version: "004010", sets: {sets_out}}}
inbound: {{sets: {sets_in}}}
transport:
  type: sftp
  conn_id: {pid}_sftp
{t}
  pattern: "*.x12"
"""


def folders(server: SshServer, name: str) -> dict[str, Path]:
    inbox, outbox = server.folder(f"{name}/in"), server.folder(f"{name}/out")
    return {
        "inbox": inbox,
        "outbox": outbox,
        "archive": inbox / "archive",
        "error": inbox / "error",
    }


def answer(path: Path, control: int) -> bytes:
    """The partner's 997 for an interchange we sent it: every set accepted."""
    group = read_document(path).interchanges[0].groups[0]
    results = [TransactionResult.of(t) for t in group.transactions]
    return functional_ack(group.group, results, interchange_control=control, group_control=control)


def delivered(folder: Path, prefix: str) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(prefix))


def test_an_order_round_trip_over_sftp_with_997s_both_ways(
    sshd: SshServer,  # noqa: F811
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_dir = f"rt_{tmp_path.name}"  # one server for the session: a folder per test
    acme, harbor = folders(sshd, f"{run_dir}/acme"), folders(sshd, f"{run_dir}/harbor")
    home = edi_project(
        tmp_path / "proj",
        {
            "acme_retail": partner(
                "acme_retail",
                '{qualifier: "01", id: "007123456", application_code: ACMERETAIL}',
                '{"850": edi/po_850.yaml}',
                '{"855": po_ack_855, "856": ship_notice_856}',
                acme,
            ),
            "harborline_3pl": partner(
                "harborline_3pl",
                "{qualifier: ZZ, id: HARBORLINE, application_code: HARBORWMS}",
                '{"945": edi/whse_945.yaml}',
                '{"940": shipping_order_940}',
                harbor,
            ),
        },
    )
    shutil.copytree(ROOT / "config/codes", home / "config/codes", dirs_exist_ok=True)
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    monkeypatch.setenv("AIRFLOW_CONN_ACME_RETAIL_SFTP", sshd.connection())
    monkeypatch.setenv("AIRFLOW_CONN_HARBORLINE_3PL_SFTP", sshd.connection())

    # 1. ACME's 850s arrive; the orders load and ACME gets a 997
    sshd.drop(acme["inbox"] / "po.x12", SAMPLE_850.read_bytes(), mtime=OLD)
    run = run_source("edi_acme_retail", engine=engine)
    assert run.ok, run.errors
    assert len(delivered(acme["outbox"], "997_")) == 1
    assert [p.name for p in (acme["inbox"] / "archive").rglob("*.x12")] == ["po.x12"]

    # 2. we acknowledge the order to ACME (855) and release it to the 3PL (940)
    assert send(engine, "acme_retail", "855", [PO]).ok
    assert send(engine, "harborline_3pl", "940", [PO]).ok
    [our_940] = delivered(harbor["outbox"], "940_")

    # 3. the 3PL acknowledges our 940 and ships: its 997 and 945 arrive
    sshd.drop(harbor["inbox"] / "997_harbor.x12", answer(our_940, 500), mtime=OLD)
    sshd.drop(harbor["inbox"] / "945_harbor.x12", shipping_advice(PO), mtime=OLD)
    run = run_source("edi_harborline_3pl", engine=engine)
    assert run.ok, run.errors
    with engine.connect() as conn:
        shipments = conn.execute(select(table(Shipment))).mappings().all()
    assert [(s["order_number"], s["tracking_number"]) for s in shipments] == [
        (PO, "1Z999AA10123456784")
    ]
    assert len(delivered(harbor["outbox"], "997_")) == 1  # for its 945, none for its 997

    # 4. we tell ACME it shipped (856); ACME acknowledges our 855 and 856
    assert send(engine, "acme_retail", "856", [PO]).ok
    [our_855], [our_856] = delivered(acme["outbox"], "855_"), delivered(acme["outbox"], "856_")
    sshd.drop(acme["inbox"] / "997_855.x12", answer(our_855, 900), mtime=OLD)
    sshd.drop(acme["inbox"] / "997_856.x12", answer(our_856, 901), mtime=OLD)
    run = run_source("edi_acme_retail", engine=engine)
    assert run.ok, run.errors

    # control numbers: each partner's outbound ISA13s distinct and increasing
    with engine.connect() as conn:
        out = conn.execute(
            select(EdiInterchange.partner, EdiInterchange.isa_control, EdiInterchange.file_name)
            .where(EdiInterchange.direction == "out")
            .order_by(EdiInterchange.id)
        ).all()
    for pid in ("acme_retail", "harborline_3pl"):
        numbers = [int(n) for p, n, _ in out if p == pid]
        assert numbers == sorted(set(numbers)) and numbers[0] >= 1, (pid, numbers)
    assert [(f or "")[:3] for p, _, f in out if p == "acme_retail"] == ["997", "855", "856"]
    assert [(f or "")[:3] for p, _, f in out if p == "harborline_3pl"] == ["940", "997"]

    # 5. the chain of the PO: every document in and out, each acknowledged
    result = CliRunner().invoke(app, ["edi", "chain", PO, "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    entries = entries["items"]
    seen = {(e["direction"], e["set_id"], e["partner"]): e for e in entries}
    assert set(seen) >= {
        ("in", "850", "acme_retail"),
        ("out", "855", "acme_retail"),
        ("out", "940", "harborline_3pl"),
        ("in", "945", "harborline_3pl"),
        ("out", "856", "acme_retail"),
    }
    for key in (("out", "855", "acme_retail"), ("out", "856", "acme_retail")):
        assert seen[key]["ack"] == "accepted", seen[key]
    assert seen[("out", "940", "harborline_3pl")]["ack"] == "accepted"
    assert not any(e.get("outstanding") for e in entries), entries
