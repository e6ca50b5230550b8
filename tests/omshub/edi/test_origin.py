"""Per-row EDI provenance on both backends: every row an inbox loads names its file,
ISA13/GS06/ST02, the loop segment it came from and each field's element and segment;
reloading the same file updates the provenance instead of adding to it."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from edi_projects import (
    SAMPLE_850,
    acme_folder_inbox,
    edi_project,
    harborline_partner,
    shipping_advice,
)
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from connectors.x12 import iter_segments
from oms.bookkeeping import EdiRowOrigin
from oms.ediorigin import find, record
from oms.models import table
from omshub.pipeline import run_source

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = acme_folder_inbox(tmp_path / "proj")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


def _segments() -> dict[int, tuple[str, list[str]]]:
    """The sample's segments by number, to check each recorded position against."""
    return {s.position: (s.tag, s.elements) for s in iter_segments(SAMPLE_850.read_bytes())}


def _value(segs: dict[int, tuple[str, list[str]]], where: str) -> str:
    """The element `where` (`BEG03@4`) names, read from the file itself."""
    element, _, n = where.partition("@")
    tag, elements = segs[int(n)]
    assert element.startswith(tag), (where, tag)
    return elements[int(element[len(tag) :]) - 1]


def test_every_loaded_row_names_its_set_and_segments(inbox: Path, engine: Engine) -> None:
    shutil.copy(SAMPLE_850, inbox / "drop/po_850.x12")
    assert run_source("acme_edi", engine=engine).ok
    segs = _segments()
    with engine.connect() as conn:
        orders = find(conn, "sales_order", "4500012345")
        line = find(conn, "order_line", "4500012345/2")
        n = conn.execute(select(func.count()).select_from(table(EdiRowOrigin))).scalar_one()
    assert len(orders) == 1 and len(line) == 1
    o = orders[0]
    assert (o.partner, o.file_name, o.st01) == ("acme_retail", "po_850.x12", "850")
    isa = next(e for _, (t, e) in sorted(segs.items()) if t == "ISA")
    assert o.isa_control == isa[12]
    assert o.segment is not None and o.segment.startswith("ST@")
    assert segs[int(o.segment.partition("@")[2])][1][1] == o.st02  # ST02 at that segment
    assert _value(segs, o.fields["order_number"]) == "4500012345"
    assert o.fields["order_number"].startswith("BEG03@")
    assert o.fields["ship_to_city"].startswith("N401@")
    assert "channel" not in o.fields  # a constant comes from no segment
    ln = line[0]
    assert ln.segment is not None and ln.segment.startswith("PO1@")
    assert ln.fields["qty_ordered"] == f"PO102@{ln.segment.partition('@')[2]}"
    assert _value(segs, ln.fields["qty_ordered"]) == "5"
    assert ln.fields["order_number"] == o.fields["order_number"]  # a parent field
    assert ln.row_key == "acme_retail/4500012345/2"
    # re-delivered (other bytes, same ISA13): skipped by the registry, origins unchanged
    (inbox / "drop/again.x12").write_bytes(SAMPLE_850.read_bytes() + b"\r\n")
    assert run_source("acme_edi", engine=engine).ok
    # the same origins written again (a load replayed): updated in place, none added
    with engine.begin() as conn:
        assert record(conn, [replace(o, batch_id="b2"), replace(ln, file_name="other")]) == 2
    with engine.connect() as conn:
        again = conn.execute(select(func.count()).select_from(table(EdiRowOrigin))).scalar_one()
        assert find(conn, "sales_order", "4500012345")[0].batch_id == "b2"
        assert find(conn, "order_line", ln.row_id)[0].file_name == "other"
    assert again == n


def test_cli_prints_the_origin(inbox: Path, engine: Engine) -> None:
    from omshub.cli import app

    shutil.copy(SAMPLE_850, inbox / "drop/po_850.x12")
    assert run_source("acme_edi", engine=engine).ok
    out = CliRunner().invoke(app, ["edi", "origin", "sales_order", "4500012345", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)["items"]
    assert data[0]["fields"]["order_number"].startswith("BEG03@")
    text = CliRunner().invoke(app, ["edi", "origin", "sales_order", "4500012345"])
    assert "po_850.x12" in text.output and "BEG03@" in text.output
    missing = CliRunner().invoke(app, ["edi", "origin", "sales_order", "NOPE"])
    assert missing.exit_code == 1


HARBOR = harborline_partner(
    "harborline_3pl",
    '{"945": edi/whse_945.yaml}',
    '{"940": shipping_order_940}',
    inbox="in",
    outbox="out",
)


def test_a_945_loads_against_the_origin_of_the_940_we_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """The 3PL quotes our 940's order number only; the order came from shopify (not the
    retailer whose EDI orders the demo has), and the 945's shipment says so. A 945 for a
    number we never sent a 940 for is refused, its reason naming the field."""
    import datetime as dt

    from oms.bookkeeping import Quarantine
    from oms.models import Shipment
    from omshub.edi.outbox import Document, queue
    from omshub.edi.partners import get_partner

    home = edi_project(tmp_path / "proj", {"harborline_3pl": HARBOR})
    shutil.copytree(ROOT / "config/codes", home / "config/codes")
    (home / "in").mkdir()
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    doc = Document("940", [("W05", ["N", "SO-77", "SO-77"])], "SO-77", order_origin="shopify")
    with engine.begin() as conn:
        queue(conn, get_partner("harborline_3pl"), [doc], now)
    (home / "in/945.x12").write_bytes(shipping_advice("SO-77"))
    assert run_source("edi_harborline_3pl", engine=engine).ok
    with engine.connect() as conn:
        shipments = conn.execute(select(table(Shipment))).mappings().all()
        origin = find(conn, "shipment", "1Z999AA10123456784")
    assert [(s["order_origin"], s["order_number"]) for s in shipments] == [("shopify", "SO-77")]
    assert origin[0].fields["order_number"].startswith("W0602@")
    (home / "in/945b.x12").write_bytes(shipping_advice("NEVER-SENT").replace(b"311", b"312"))
    assert run_source("edi_harborline_3pl", engine=engine).ok
    with engine.connect() as conn:
        reasons = [str(q["reasons"]) for q in conn.execute(select(table(Quarantine))).mappings()]
    assert any("order_origin" in r and "required" in r for r in reasons), reasons
