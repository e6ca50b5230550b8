"""Whose order a partner's document quotes: two retailers send the same PO number, and
each one's 855, 856 and 810 bind to its own order, never to the other's; a drop-ship
supplier's documents bind to the retailer its partner file names (`order_origin`).
The shared EDI mappings name no retailer: the inbox gives them `_x12.order_origin`."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from edi_projects import edi_project
from sqlalchemy import Engine, select

from connectors.x12 import Delimiters
from connectors.x12.writer import GroupSpec, TransactionSpec, build_interchange
from oms.models import OrderLine, SalesOrder, Shipment, table
from omshub.pipeline import run_source

ROOT = Path(__file__).resolve().parents[3]
PO = "4500012345"
Body = list[tuple[str, list[str]]]


def partner_yaml(pid: str, them: str, inbox: Path, extra: str = "") -> str:
    out = inbox.parent / "out"
    return f"""\
id: {pid}
name: {pid}
usage: P
us: {{qualifier: ZZ, id: OMSHUB, application_code: OMSHUB}}
them: {{qualifier: ZZ, id: {them}, application_code: {them}}}
outbound: {{isa_version: "00401", gs_version: "004010"}}
inbound:
  sets: {{"850": edi/po_850.yaml, "855": edi/po_ack_855.yaml, "856": edi/asn_856.yaml,
          "810": edi/invoice_810.yaml}}
{extra}transport:
  type: local_folder
  inbox: {inbox}
  outbox: {out}
  archive: {inbox.parent / "archive"}
  error: {inbox.parent / "error"}
ack: {{send_997: false}}
"""


def order(sku: str) -> Body:
    return [
        ("BEG", ["00", "SA", PO, "", "20261201"]),
        ("CUR", ["BY", "USD"]),
        ("PO1", ["1", "10", "EA", "4.25", "PE", "VN", sku]),
        ("CTT", ["1", "10"]),
    ]


def ack(status: str) -> Body:  # IR rejects the line (cancels it all), IA accepts it
    return [
        ("BAK", ["00", "AC", PO, "20261203"]),
        ("PO1", ["1", "10", "EA", "4.25", "PE", "BP", "WID-100"]),
        ("ACK", [status, "10", "EA"]),
        ("CTT", ["1", "10"]),
    ]


def ship_notice(tracking: str) -> Body:
    return [
        ("BSN", ["00", f"SH-{tracking}", "20261203", "1415"]),
        ("HL", ["1", "", "S"]),
        ("TD5", ["B", "2", "UPSN", "M", "UPS Ground"]),
        ("REF", ["CN", tracking]),
        ("DTM", ["011", "20261203", "1400"]),
        ("HL", ["2", "1", "O"]),
        ("PRF", [PO]),
        ("HL", ["3", "2", "I"]),
        ("LIN", ["1", "VN", "WID-100"]),
        ("SN1", ["", "10", "EA"]),
        ("CTT", ["3"]),
    ]


def invoice(cents: str) -> Body:
    return [
        ("BIG", ["20261204", f"INV-{cents}", "20261201", PO]),
        ("CUR", ["SE", "USD"]),
        ("IT1", ["1", "10", "EA", "4.25", "", "VN", "WID-100"]),
        ("TDS", [cents]),
        ("CTT", ["1"]),
    ]


def interchange(them: str, control: int, sets: list[tuple[str, str, Body]]) -> bytes:
    """One interchange from `them` to us, a group per (GS01, set id, body)."""
    groups = [
        GroupSpec(fid, them, "OMSHUB", control + i, "004010", [TransactionSpec(sid, 1, body)])
        for i, (fid, sid, body) in enumerate(sets)
    ]
    return build_interchange(
        sender=("ZZ", them),
        receiver=("ZZ", "OMSHUB"),
        control=control,
        usage="P",
        version="00401",
        delimiters=Delimiters("*", ">", "~"),
        groups=groups,
        when=dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC),
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Retailers ACME and BOLT (each sends its PO 4500012345 and then the 855, 856 and 810
    about it), and NORTHWIND, a supplier drop-shipping BOLT's orders."""
    inboxes = {p: tmp_path / p / "in" for p in ("acme_retail", "bolt_retail", "northwind")}
    for inbox in inboxes.values():
        inbox.mkdir(parents=True)
    home = edi_project(
        tmp_path / "proj",
        {
            "acme_retail": partner_yaml("acme_retail", "ACME", inboxes["acme_retail"]),
            "bolt_retail": partner_yaml("bolt_retail", "BOLT", inboxes["bolt_retail"]),
            "northwind": partner_yaml(
                "northwind", "NORTHWIND", inboxes["northwind"], "order_origin: bolt_retail\n"
            ),
        },
    )
    shutil.copytree(ROOT / "config/codes", home / "config/codes")  # carriers
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return tmp_path


def _drop(project: Path, pid: str, name: str, data: bytes) -> None:
    (project / pid / "in" / name).write_bytes(data)


def _run(engine: Engine, pid: str) -> None:
    report = run_source(f"edi_{pid}", engine=engine)
    assert report.ok, report.errors


def test_each_partners_documents_bind_to_its_own_order(project: Path, engine: Engine) -> None:
    for pid, them, sku, control in (
        ("acme_retail", "ACME", "WID-100", 100),
        ("bolt_retail", "BOLT", "WID-100", 200),
    ):
        _drop(project, pid, "a_850.x12", interchange(them, control, [("PO", "850", order(sku))]))
        _run(engine, pid)
    documents = {  # the same PO number, each retailer's own values
        "acme_retail": ("ACME", 110, "IR", "1ZACME", "4250"),
        "bolt_retail": ("BOLT", 210, "IA", "1ZBOLT", "4300"),
    }
    for pid, (them, control, status, tracking, cents) in documents.items():
        sets = [("PR", "855", ack(status)), ("SH", "856", ship_notice(tracking))]
        sets.append(("IN", "810", invoice(cents)))
        _drop(project, pid, "b_docs.x12", interchange(them, control, sets))
        _run(engine, pid)

    with engine.connect() as conn:
        orders = conn.execute(select(table(SalesOrder))).mappings().all()
        lines = conn.execute(select(table(OrderLine))).mappings().all()
        shipments = conn.execute(select(table(Shipment))).mappings().all()
    by_origin = {o["order_origin"]: o for o in orders}
    assert sorted(by_origin) == ["acme_retail", "bolt_retail"]
    assert {o["order_number"] for o in orders} == {PO}
    assert by_origin["acme_retail"]["grand_total"] == Decimal("42.50")
    assert by_origin["bolt_retail"]["grand_total"] == Decimal("43.00")
    cancelled = {(ln["order_origin"], ln["line_no"]): ln["qty_cancelled"] for ln in lines}
    assert cancelled == {("acme_retail", 1): Decimal(10), ("bolt_retail", 1): Decimal(0)}
    shipped = {s["tracking_number"]: (s["order_origin"], s["order_id"]) for s in shipments}
    assert shipped == {
        "1ZACME": ("acme_retail", by_origin["acme_retail"]["id"]),
        "1ZBOLT": ("bolt_retail", by_origin["bolt_retail"]["id"]),
    }

    # the drop-ship supplier's ship notice quotes the same number: BOLT's order, as its
    # partner file says, not ACME's and not an order of its own
    _drop(
        project,
        "northwind",
        "asn.x12",
        interchange("NORTHWIND", 300, [("SH", "856", ship_notice("1ZNW"))]),
    )
    _run(engine, "northwind")
    with engine.connect() as conn:
        nw = (
            conn.execute(select(table(Shipment)).where(table(Shipment).c.tracking_number == "1ZNW"))
            .mappings()
            .one()
        )
        count = len(conn.execute(select(table(SalesOrder))).all())
    assert (nw["order_origin"], nw["order_id"]) == ("bolt_retail", by_origin["bolt_retail"]["id"])
    assert count == 2


def stock_advice() -> Body:
    """A 3PL's 846 for its one warehouse, naming none (no N1 WH): 40 of WID-100 on hand."""
    return [
        ("BIA", ["00", "SI", "INV-1", "20261203", "0600"]),
        ("LIN", ["1", "VN", "WID-100"]),
        ("QTY", ["17", "40", "EA"]),
    ]


def test_an_846_naming_no_warehouse_takes_the_partners_default_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    """With `default_location` the snapshot is at the partner's warehouse; a partner
    without one gets the advice quarantined with why, never a row at no location."""
    from oms.bookkeeping import Quarantine
    from oms.models import InventoryPosition

    sets = '  sets: {"846": edi/inventory_846.yaml}\n'
    inboxes = {p: tmp_path / p / "in" for p in ("harbor", "dock")}
    files = {}
    for pid, inbox in inboxes.items():
        inbox.mkdir(parents=True)
        text = partner_yaml(pid, pid.upper(), inbox)
        text = text.replace(text[text.index("  sets:") : text.index("transport:")], sets)
        if pid == "harbor":
            text = text.replace("transport:", "default_location: hl3\ntransport:")
        files[pid] = text
    home = edi_project(tmp_path / "proj", files)
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    for n, pid in enumerate(inboxes):
        _drop(
            tmp_path,
            pid,
            "846.x12",
            interchange(pid.upper(), 400 + n, [("IB", "846", stock_advice())]),
        )
        _run(engine, pid)
    with engine.connect() as conn:
        snaps = conn.execute(select(table(InventoryPosition))).mappings().all()
        kept = conn.execute(select(table(Quarantine))).mappings().all()
    assert [(s["sku"], s["location_code"], s["on_hand"]) for s in snaps] == [
        ("WID-100", "HL3", Decimal(40))
    ]
    assert [q["source"] for q in kept] == ["edi_dock"]
    assert (
        "no warehouse (N1 WH) in the advice, and its partner has no default_location"
        in (kept[0]["reasons"])
    )
