"""A routed set its mapping reads nothing from is quarantined and rejected, never dropped.

A 944 may carry its W07 item detail in the top-level W07 loop instead of LX loops (the
schema allows both); the shipped mapping reads LX loops only. Such a set used to yield no
row and no error: batch loaded, 997 accepted, the receipt gone. Now the inbox refuses it
with the file, segment, set, ST02 and the mapping's path, and its AK5 says R, while the
good 944 of the same group loads and is accepted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from edi_projects import edi_project, from_harborline, harborline_partner
from sqlalchemy import Engine, select

from connectors.x12 import read_document
from connectors.x12.writer import GroupSpec, TransactionSpec
from oms.bookkeeping import Quarantine
from oms.models import InventoryMovement, table
from omshub.edi.outbox import outbox_dir
from omshub.pipeline import run_source

HARBORLINE = harborline_partner("harborline", '{"944": edi/receipt_944.yaml}')

HEAD = [
    ("N1", ["WH", "HARBORLINE DC 3", "9", "HL3"]),
    ("G62", ["09", "20261205", "8", "1045"]),
]
IN_LX = [
    ("W17", ["F", "20261205", "RCV-1", "TO-1"]),
    *HEAD,
    ("LX", ["1"]),
    ("W07", ["48", "EA", "", "VN", "WID-100"]),
    ("W14", ["48"]),
]
TOP_LEVEL = [  # W07 in the top-level W07 loop, its SKU qualified UK (not VN)
    ("W17", ["F", "20261205", "RCV-2", "TO-2"]),
    *HEAD,
    ("W07", ["100", "EA", "", "UK", "00012345678905"]),
    ("N9", ["PO", "REF789"]),
    ("W14", ["100"]),
]


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = edi_project(tmp_path / "proj", {"harborline": HARBORLINE})
    (home / "drop").mkdir()
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    sets = [TransactionSpec("944", 1, IN_LX), TransactionSpec("944", 2, TOP_LEVEL)]
    group = GroupSpec("RE", "HARBORWMS", "OMSHUB", 944, "004010", sets)
    when = dt.datetime(2026, 12, 5, 11, 30, tzinfo=dt.UTC)
    (home / "drop/receipts.x12").write_bytes(from_harborline(group, when))
    return home


def test_a_944_with_top_level_w07_is_quarantined_and_rejected(inbox: Path, engine: Engine) -> None:
    report = run_source("edi_harborline", engine=engine)
    assert report.ok, report.errors
    with engine.connect() as conn:
        moves = conn.execute(select(table(InventoryMovement))).mappings().all()
        quarantined = conn.execute(select(table(Quarantine))).mappings().all()
    assert [(m["movement_key"], m["sku"]) for m in moves] == [("edi-944/RCV-1/1", "WID-100")]
    [entry] = quarantined
    [reason] = json.loads(entry["reasons"])
    assert reason["message"] == (
        "receipts.x12: segment 11: 944 0002: the mapping edi/receipt_944.yaml "
        "read no record (path LX): nothing loaded"
    )
    assert entry["mapping_name"] == "edi.receipt_944" and "RCV-2" in entry["raw_record"]
    ack = read_document(next(outbox_dir("harborline").glob("997_*.x12"))).interchanges[0]
    body = [s for g in ack.groups for t in g.transactions for s in t.segments]
    assert [s.elements[:2] for s in body if s.tag == "AK2"] == [["944", "0001"], ["944", "0002"]]
    assert [s.element(1) for s in body if s.tag == "AK5"] == ["A", "R"]
    assert next(s for s in body if s.tag == "AK9").elements[:4] == ["P", "2", "2", "1"]
