"""Outbound generators: each set written from store rows validates against its X12 schema
with no problem, reads back as the document it claims (PO number, lines, quantities,
hierarchy), and satisfies the partner's `required:` list or is refused naming what is
missing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from connectors.x12 import Delimiters, Transaction, read_document
from connectors.x12.loops import Loop, group, hl_tree
from connectors.x12.schema import load_schema
from connectors.x12.validate import validate
from connectors.x12.writer import GroupSpec, TransactionSpec, build_interchange
from oms.errors import DataError
from omshub.edi.generate import GENERATORS, generator_for
from omshub.edi.generate.base import (
    Context,
    GenerateError,
    OrderData,
    ShipmentData,
    StockData,
    implementation_of,
)
from omshub.edi.generate.po_ack_855 import line_parts
from omshub.edi.generate.verify import verify
from omshub.edi.outbox import Document
from omshub.edi.partners import get_partner

NOW = dt.datetime(2026, 12, 3, 7, 45, tzinfo=dt.UTC)
ACME = get_partner("acme_retail")
HARBOR = get_partner("harborline_3pl")

ORDER: dict[str, Any] = {
    "order_origin": "acme_retail",
    "order_number": "PO-7001",
    "ordered_at": dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC),
    "promised_date": dt.date(2026, 12, 8),
    "currency": "USD",
    "ship_to_name": "ACME Store 0042",
    "ship_to_address1": "1 Main St",
    "ship_to_city": "Springfield",
    "ship_to_region": "IL",
    "ship_to_postal_code": "62701",
    "ship_to_country_code": "US",
    "ship_method": "UPS Ground",
    "location_code": "DC1",
}


def line(no: int, sku: str, ordered: str, **more: Any) -> dict[str, Any]:
    row = {"order_number": "PO-7001", "line_no": no, "sku": sku, "qty_ordered": Decimal(ordered)}
    row.update({"unit_price": Decimal("4.50"), "description": f"Widget {sku}", "status": "open"})
    return row | more


LINES = [
    line(1, "W-1", "10"),  # open: accepted whole
    line(2, "W-2", "5", qty_allocated=Decimal(3), status="allocated"),  # 3 accepted, 2 back
    line(3, "W-3", "4", qty_cancelled=Decimal(4), status="cancelled"),  # rejected
]
PRODUCTS = {"W-1": {"sku": "W-1", "gtin": "012345678905", "uom": "EA"}}


def body_of(doc: Document, version: str = "004010VICS") -> Transaction:
    """The document written in an envelope and read back: its one transaction set."""
    spec = TransactionSpec(doc.set_id, 1, doc.body, implementation_of(doc))
    data = build_interchange(
        sender=("ZZ", "US"),
        receiver=("ZZ", "THEM"),
        control=1,
        usage="T",
        version=version[:5],
        delimiters=Delimiters("*", ">", "~", "^" if version >= "00402" else None),
        groups=[GroupSpec(ACME.functional_id(doc.set_id), "US", "THEM", 1, version, [spec])],
        when=NOW,
    )
    read = read_document(data)
    assert read.error is None
    [tx] = read.interchanges[0].groups[0].transactions
    assert not tx.issues
    return tx


def problems(tx: Transaction) -> list[str]:
    schema = load_schema(tx.set_id, tx.group.version)
    return [p.describe() for p in validate(tx, schema).problems]


def seg(tx: Transaction, tag: str) -> list[list[str]]:
    return [s.elements for s in tx.segments if s.tag == tag]


def test_registered_generators_write_the_sets_the_partner_files_name() -> None:
    assert {g.set_id for g in GENERATORS.values()} >= {"855", "856", "940", "846"}
    assert generator_for(ACME, "855").name == "po_ack_855"
    assert generator_for(HARBOR, "940").name == "shipping_order_940"
    with pytest.raises(Exception, match="does not receive 940"):
        generator_for(ACME, "940")
    assert generator_for(ACME, "810").name == "invoice_810"


def test_855_acknowledges_each_line_accepted_backordered_or_rejected() -> None:
    doc = GENERATORS["po_ack_855"].build(Context(ACME, NOW), OrderData(ORDER, LINES, PRODUCTS))
    assert doc.reference == "PO-7001"
    tx = body_of(doc)
    assert problems(tx) == []
    assert seg(tx, "BAK") == [["00", "AC", "PO-7001", "20261201", "", "", "", "", "20261203"]]
    assert seg(tx, "REF") == [["IA", "V0042"]]  # us.vendor_number
    po1 = seg(tx, "PO1")
    assert po1[0] == ["1", "10", "EA", "4.5", "", "VN", "W-1", "UP", "012345678905"]
    assert [p[1] for p in po1] == ["10", "5", "4"]
    acks = [a[:3] for a in seg(tx, "ACK")]
    assert acks == [["IA", "10", "EA"], ["IA", "3", "EA"], ["IB", "2", "EA"], ["IR", "4", "EA"]]
    assert seg(tx, "CTT") == [["3", "19"]]
    verify(Context(ACME, NOW), doc, "PO-7001")  # REF*IA


def test_855_of_a_fully_accepted_or_rejected_po() -> None:
    ctx = Context(ACME, NOW)
    ok = GENERATORS["po_ack_855"].build(ctx, OrderData(ORDER, LINES[:1]))
    assert seg(body_of(ok), "BAK")[0][1] == "AD"
    no = GENERATORS["po_ack_855"].build(ctx, OrderData(ORDER, LINES[2:]))
    assert seg(body_of(no), "BAK")[0][1] == "RJ"
    assert line_parts(line(9, "X", "6", qty_shipped=Decimal(6), status="shipped")) == [
        ("IA", Decimal(6))
    ]
    with pytest.raises(GenerateError, match="855 for PO-7001: the order has no lines"):
        GENERATORS["po_ack_855"].build(ctx, OrderData(ORDER, []))


SHIPMENT: dict[str, Any] = {
    "carrier": "ups",
    "tracking_number": "1Z999AA10123456784",
    "shipment_number": "SHP-55",
    "order_origin": "acme_retail",
    "order_number": "PO-7001",
    "origin_location": "DC1",
    "service": "Ground",
    "shipped_at": dt.datetime(2026, 12, 2, 16, 5, tzinfo=dt.UTC),
    "estimated_delivery": dt.date(2026, 12, 5),
}
SHIP_LINES = [
    {"carrier": "ups", "tracking_number": SHIPMENT["tracking_number"], "line_no": n, "sku": s,
     "order_number": "PO-7001", "qty": Decimal(q)}
    for n, s, q in ((1, "W-1", "10"), (2, "W-2", "3"))
]  # fmt: skip


def test_856_is_a_shipment_order_item_hierarchy() -> None:
    data = ShipmentData(
        SHIPMENT,
        SHIP_LINES,
        {"PO-7001": OrderData(ORDER, LINES, PRODUCTS)},
        {"code": "DC1", "name": "Main DC"},
    )
    doc = GENERATORS["ship_notice_856"].build(Context(ACME, NOW), data)
    assert doc.reference == "PO-7001"
    tx = body_of(doc)
    assert problems(tx) == []
    assert seg(tx, "BSN") == [["00", "SHP-55", "20261202", "1605", "0004"]]
    assert seg(tx, "HL") == [
        ["1", "", "S", "1"], ["2", "1", "O", "1"], ["3", "2", "I", "0"], ["4", "2", "I", "0"]
    ]  # fmt: skip
    schema = load_schema("856", "004010")
    tree = hl_tree([i for i in group(tx.segments, schema).items if isinstance(i, Loop)])
    assert tree.problems == []
    assert seg(tx, "PRF") == [["PO-7001", "", "", "20261201"]]
    assert seg(tx, "TD5") == [["", "2", "UPSN", "", "Ground"]]
    assert seg(tx, "REF") == [["CN", "1Z999AA10123456784"], ["IA", "V0042"]]
    assert seg(tx, "DTM") == [["011", "20261202"], ["017", "20261205"]]
    assert [n[:2] for n in seg(tx, "N1")] == [["SF", "Main DC"], ["ST", "ACME Store 0042"]]
    assert seg(tx, "LIN")[0] == ["1", "VN", "W-1", "UP", "012345678905"]
    assert seg(tx, "SN1") == [["", "10", "EA", "", "10", "EA"], ["", "3", "EA", "", "5", "EA"]]
    assert seg(tx, "CTT") == [["4", "13"]]
    # ACME's guide: ST03, REF*IA, TD5, N1*ST: all there once the outbox carries ST03
    if "implementation" in Document.__dataclass_fields__:
        assert tx.implementation == "004010VICS"
        verify(Context(ACME, NOW), doc, "PO-7001")
    else:
        with pytest.raises(GenerateError, match="ST03 is missing"):
            verify(Context(ACME, NOW), doc, "PO-7001")


def test_940_asks_the_3pl_to_ship_what_is_open() -> None:
    lines = [*LINES, line(4, "W-4", "2", qty_shipped=Decimal(2), status="shipped")]
    doc = GENERATORS["shipping_order_940"].build(Context(HARBOR, NOW), OrderData(ORDER, lines))
    assert doc.reference == "PO-7001"
    tx = body_of(doc, "005010")
    assert problems(tx) == []
    assert seg(tx, "W05") == [["N", "PO-7001", "PO-7001"]]
    assert seg(tx, "N1")[0] == ["ST", "ACME Store 0042"]
    assert seg(tx, "N4") == [["Springfield", "IL", "62701", "US"]]
    assert seg(tx, "G62") == [["10", "20261208"]]
    assert seg(tx, "W66") == [["PP", "M", "", "", "UPS Ground", "", "", "", "", "UPSN"]]
    assert seg(tx, "W01") == [["10", "EA", "", "VN", "W-1"], ["5", "EA", "", "VN", "W-2"]]
    assert seg(tx, "N9") == [["LI", "1"], ["LI", "2"]]
    assert seg(tx, "LX") == [["1"], ["2"]]
    assert seg(tx, "W76") == [["15"]]
    verify(Context(HARBOR, NOW), doc, "PO-7001")  # N1*ST, W66
    done = [line(1, "W-1", "1", qty_shipped=Decimal(1))]
    with pytest.raises(GenerateError, match="940 for PO-7001: no line has anything left"):
        GENERATORS["shipping_order_940"].build(Context(HARBOR, NOW), OrderData(ORDER, done))


def test_846_reports_available_and_on_hand_per_sku() -> None:
    positions = [
        {"sku": "W-2", "location_code": "DC1", "on_hand": Decimal(5), "allocated": Decimal(7)},
        {"sku": "W-1", "location_code": "DC1", "on_hand": Decimal(12), "allocated": Decimal(2)},
    ]
    data = StockData("DC1", positions, {"code": "DC1", "name": "Main DC"}, PRODUCTS)
    doc = GENERATORS["inventory_846"].build(Context(ACME, NOW), data)
    assert doc.reference == "DC1"
    tx = body_of(doc)
    assert problems(tx) == []
    assert seg(tx, "BIA") == [["00", "DD", "DC1-202612030745", "20261203", "0745"]]
    assert seg(tx, "LIN") == [["1", "VN", "W-1", "UP", "012345678905"], ["2", "VN", "W-2"]]
    assert seg(tx, "QTY") == [
        ["33", "10", "EA"], ["17", "12", "EA"], ["33", "0", "EA"], ["17", "5", "EA"]
    ]  # fmt: skip
    assert seg(tx, "CTT") == [["2"]]


def test_a_missing_requirement_or_a_bad_value_is_refused_with_the_partner_file() -> None:
    doc = Document("855", [("BAK", ["00", "AD", "PO-1", "20261201"])], "PO-1")
    with pytest.raises(GenerateError) as e:
        verify(Context(ACME, NOW), doc, "PO-1")
    assert "855 for PO-1 to acme_retail (" in str(e.value)
    assert "acme_retail.yaml required.855)" in str(e.value)
    assert "REF*IA is missing (required by the partner)" in str(e.value)
    bad = Document("855", [("BAK", ["00", "XX", "PO-1", "20261301"]), ("REF", ["IA", "V"])])
    with pytest.raises(GenerateError, match=r"BAK02: 'XX' is not a valid code.*BAK04"):
        verify(Context(ACME, NOW), bad, "PO-1")


def test_identifiers_are_refused_not_cut_and_codes_that_do_not_fit_are_left_out() -> None:
    long_po = ORDER | {"order_number": "P" * 23}
    with pytest.raises(GenerateError, match=r"PO number 'P{23}' is longer than the 22"):
        GENERATORS["po_ack_855"].build(Context(ACME, NOW), OrderData(long_po, LINES))
    spelled = ORDER | {"ship_to_region": "Illinois", "ship_to_country_code": "usa"}
    doc = GENERATORS["shipping_order_940"].build(Context(HARBOR, NOW), OrderData(spelled, LINES))
    tx = body_of(doc, "005010")
    assert problems(tx) == []
    assert seg(tx, "N4") == [["Springfield", "", "62701", "USA"]]


def test_810_bills_what_the_shipment_shipped() -> None:
    data = ShipmentData(SHIPMENT, SHIP_LINES, {"PO-7001": OrderData(ORDER, LINES, PRODUCTS)})
    doc = GENERATORS["invoice_810"].build(Context(ACME, NOW), data)
    assert doc.reference == "PO-7001"
    tx = body_of(doc)
    assert problems(tx) == []
    assert seg(tx, "BIG") == [["20261203", "SHP-55", "20261201", "PO-7001"]]
    assert seg(tx, "IT1") == [
        ["1", "10", "EA", "4.5", "", "VN", "W-1"], ["2", "3", "EA", "4.5", "", "VN", "W-2"]
    ]  # fmt: skip
    assert seg(tx, "TDS") == [["5850"]]  # 13 x 4.50
    assert seg(tx, "CAD") == [["", "", "", "UPSN", "Ground", "", "CN", "1Z999AA10123456784"]]
    assert seg(tx, "CTT") == [["2"]]
    verify(Context(ACME, NOW), doc, "PO-7001")  # ACME: REF*IA and ITD
    unpriced = [r | {"unit_price": None} for r in LINES]
    with pytest.raises(GenerateError, match="810 for PO-7001 line 1: order_line"):
        GENERATORS["invoice_810"].build(
            Context(ACME, NOW),
            ShipmentData(SHIPMENT, SHIP_LINES, {"PO-7001": OrderData(ORDER, unpriced)}),
        )


def test_free_text_never_carries_the_partners_delimiters_but_identifiers_are_refused() -> None:
    lines = [line(1, "W-1", "1", description="Bolt 3:8 * 2~ ^zinc")]
    named = ORDER | {"ship_to_name": "Smith*Jones: Dock~2"}
    doc = GENERATORS["shipping_order_940"].build(Context(HARBOR, NOW), OrderData(named, lines))
    tx = body_of(doc, "005010")
    assert problems(tx) == []
    assert seg(tx, "G69") == [["Bolt 3 8 2 zinc"]]
    assert seg(tx, "N1")[0] == ["ST", "Smith Jones Dock 2"]
    odd = [line(1, "W*1", "1")]
    doc = GENERATORS["shipping_order_940"].build(Context(HARBOR, NOW), OrderData(ORDER, odd))
    with pytest.raises(DataError, match=r"W0105: contains the delimiter '\*'"):
        verify(Context(HARBOR, NOW), doc, "PO-7001")
