"""`omshub.edi.send` on both backends: store rows loaded through the loader, selected by
their natural keys, written as one interchange in the partner's envelope, registered
pending and delivered to the partner's folder; a missing key or a set the partner does
not receive queues nothing; a failed delivery leaves the file pending for the next send."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from connectors.x12 import read_document
from connectors.x12.schema import load_schema
from connectors.x12.validate import validate
from oms.bookkeeping import EdiControlNumber, EdiInterchange, EdiTransaction
from oms.errors import ConfigError
from oms.load import LoadContext, load_batch
from oms.load.rows import arrow_rows
from oms.models import table
from oms.ownership import Ownership
from omshub.edi.generate.base import GenerateError
from omshub.edi.generate.select import MissingKey
from omshub.edi.outbox import Document
from omshub.edi.send import send

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
STOCK_PARTNER = """\
id: stockist
name: Stockist Inc.
usage: T
us: {qualifier: ZZ, id: OMSHUB, application_code: OMSHUB}
them: {qualifier: ZZ, id: STOCKIST, application_code: STOCKIST}
outbound:
  isa_version: "00401"
  gs_version: "004010"
  sets: {"846": inventory_846}
transport: {type: local_folder, inbox: st_in, outbox: stockist_out, archive: st_arc, error: st_err}
ack: {expect_997_hours: null}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped partners, with folder transports inside the project, and a stockist."""
    home = tmp_path / "proj"
    for sub in ("config/sources", "config/partners", "config/codes", "mappings", "acme_in"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config/ownership.yaml", home / "config")
    shutil.copytree(ROOT / "mappings/edi", home / "mappings/edi")
    for name, short in (("acme_retail", "acme"), ("harborline_3pl", "harbor")):
        text = (ROOT / f"config/partners/{name}.yaml").read_text(encoding="utf-8")
        head, _, rest = text.partition("\ntransport:")
        folders = {"inbox": "in", "outbox": "out", "archive": "in_archive", "error": "in_error"}
        block = "".join(f"\n  {key}: {short}_{sub}" for key, sub in folders.items())
        transport = f"\ntransport:\n  type: local_folder{block}\n  pattern: '*.x12'\n"
        text = head + transport + "\nack:" + rest.partition("\nack:")[2]
        (home / f"config/partners/{name}.yaml").write_text(text, encoding="utf-8")
    (home / "config/partners/stockist.yaml").write_text(STOCK_PARTNER, encoding="utf-8")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


def load(engine: Engine, system: str, tables: dict[str, list[dict[str, Any]]]) -> None:
    ctx = LoadContext(system, "edi", "r1", "b1", "test", "1", NOW)
    arrow = {entity: arrow_rows(entity, rows) for entity, rows in tables.items()}
    with engine.begin() as conn:
        load_batch(conn, arrow, ctx, Ownership({}))


def meta(key: str) -> dict[str, Any]:
    return {"_external_id": key, "_updated_at": NOW - dt.timedelta(hours=1)}


def order(number: str, **more: Any) -> dict[str, Any]:
    row = {"order_number": number, "ordered_at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)}
    row |= {"ship_to_name": "ACME Store 42", "ship_to_city": "Springfield", "currency": "USD"}
    return row | meta(number) | more


def order_line(number: str, no: int, sku: str, ordered: int, **more: Any) -> dict[str, Any]:
    row = {"order_number": number, "line_no": no, "sku": sku, "qty_ordered": Decimal(ordered)}
    return row | meta(f"{number}/{no}") | more


@pytest.fixture
def store(engine: Engine) -> Engine:
    """Two ACME POs, one shipped by UPS; an order from the web shop; stock at DC1."""
    load(
        engine,
        "acme_retail",
        {
            "sales_order": [order("PO-1"), order("PO-2")],
            "order_line": [
                order_line("PO-1", 1, "W-1", 10, unit_price=Decimal("2.50")),
                order_line("PO-1", 2, "W-2", 4, qty_cancelled=Decimal(4)),
                order_line("PO-2", 1, "W-1", 3),
            ],
            "shipment": [
                {"carrier": "ups", "tracking_number": "1Z1", "order_number": "PO-1"}
                | {"shipped_at": NOW, "service": "Ground"}
                | meta("1Z1")
            ],
            "shipment_line": [
                {"carrier": "ups", "tracking_number": "1Z1", "line_no": 1, "order_number": "PO-1"}
                | {"sku": "W-1", "qty": Decimal(10)}
                | meta("1Z1/1")
            ],
        },
    )
    load(
        engine,
        "shop",
        {
            "sales_order": [order("1001", ship_method="UPS Ground")],
            "order_line": [order_line("1001", 1, "W-9", 2)],
        },
    )
    snap = [{"sku": "W-1", "location_code": "DC1", "on_hand": Decimal(7), "as_of": NOW}]
    load(engine, "wms", {"inventory_snapshot": [r | meta("W-1@DC1") for r in snap]})
    return engine


def sets_of(path: Path) -> list[Any]:
    doc = read_document(path)
    assert doc.error is None and not doc.interchanges[0].interchange.issues
    txs = [t for g in doc.interchanges[0].groups for t in g.transactions]
    for tx in txs:
        problems = validate(tx, load_schema(tx.set_id, tx.group.version)).problems
        assert problems == [], [p.describe() for p in problems]
    return txs


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table(model))).scalar_one())


def test_855s_for_two_pos_go_as_one_interchange_and_are_delivered(
    project: Path, store: Engine
) -> None:
    report = send(store, "acme_retail", "855", ["PO-1", "PO-2"], now=NOW)
    assert report.ok and report.references == ["PO-1", "PO-2"]
    assert report.isa_control == "000000001"
    [delivered] = report.delivered
    assert Path(delivered).parent == project / "acme_out"
    assert Path(delivered).read_bytes() == Path(report.file).read_bytes()
    txs = sets_of(Path(delivered))
    assert [(t.set_id, t.control) for t in txs] == [("855", "0001"), ("855", "0002")]
    bak = [next(s.elements for s in t.segments if s.tag == "BAK") for t in txs]
    assert [(b[1], b[2]) for b in bak] == [("AC", "PO-1"), ("AD", "PO-2")]
    acks = [s.elements[:2] for s in txs[0].segments if s.tag == "ACK"]
    assert acks == [["IA", "10"], ["IR", "4"]]
    with store.connect() as conn:
        ix = conn.execute(select(table(EdiInterchange))).mappings().one()
        refs = conn.execute(select(table(EdiTransaction).c.reference)).scalars().all()
    assert (ix["direction"], ix["status"], ix["partner"]) == ("out", "sent", "acme_retail")
    assert ix["ack_due_at"] == NOW + dt.timedelta(hours=24)
    assert sorted(refs) == ["PO-1", "PO-2"]


def test_856_by_tracking_or_order_number(project: Path, store: Engine) -> None:
    if "implementation" not in Document.__dataclass_fields__:
        with pytest.raises(GenerateError, match="ST03 is missing"):
            send(store, "acme_retail", "856", ["1Z1"], now=NOW)
        assert count(store, EdiInterchange) == 0  # nothing queued
        return
    by_tracking = send(store, "acme_retail", "856", ["1Z1"], now=NOW)
    by_order = send(store, "acme_retail", "856", ["PO-1"], now=NOW)
    for report in (by_tracking, by_order):
        [tx] = sets_of(Path(report.delivered[-1]))
        assert tx.implementation == "004010VICS"
        assert [s.elements[0] for s in tx.segments if s.tag == "PRF"] == ["PO-1"]
    with pytest.raises(MissingKey, match="order 'PO-2' has no shipment"):
        send(store, "acme_retail", "856", ["PO-2"], now=NOW)


def test_810_for_a_shipment(project: Path, store: Engine) -> None:
    report = send(store, "acme_retail", "810", ["PO-1"], now=NOW)  # its one shipment
    [tx] = sets_of(Path(report.delivered[0]))
    assert [s.elements for s in tx.segments if s.tag in ("BIG", "TDS")] == [
        ["20261203", "1Z1", "20261201", "PO-1"], ["2500"]
    ]  # fmt: skip


def test_940_to_the_3pl_and_846_to_a_stockist(project: Path, store: Engine) -> None:
    report = send(store, "harborline_3pl", "940", ["1001"], now=NOW)
    [tx] = sets_of(Path(report.delivered[0]))
    assert tx.group.version == "005010" and tx.group.functional_id == "OW"
    w01 = [s.elements for s in tx.segments if s.tag == "W01"]
    assert w01 == [["2", "EA", "", "VN", "W-9"]]
    stock = send(store, "stockist", "846", ["DC1"], now=NOW)
    [tx] = sets_of(Path(stock.delivered[0]))
    assert [s.elements for s in tx.segments if s.tag == "QTY"] == [
        ["33", "7", "EA"],
        ["17", "7", "EA"],
    ]
    with store.connect() as conn:
        due = conn.execute(
            select(table(EdiInterchange).c.ack_due_at).where(
                table(EdiInterchange).c.partner == "stockist"
            )
        ).scalar_one()
    assert due is None  # the stockist sends no 997


def test_a_missing_key_or_set_queues_nothing(project: Path, store: Engine) -> None:
    with pytest.raises(MissingKey, match="no sales_order with order number 'PO-404'"):
        send(store, "acme_retail", "855", ["PO-1", "PO-404"], now=NOW)
    with pytest.raises(ConfigError, match="does not receive 940"):
        send(store, "acme_retail", "940", ["PO-1"], now=NOW)
    with pytest.raises(ConfigError, match="unknown partner 'nobody'"):
        send(store, "nobody", "855", ["PO-1"], now=NOW)
    with pytest.raises(MissingKey, match="no inventory_position rows for location 'DC9'"):
        send(store, "stockist", "846", ["DC9"], now=NOW)
    assert count(store, EdiInterchange) == 0
    assert count(store, EdiControlNumber) == 0  # the numbers rolled back with the queue
    assert not (project / "acme_out").exists()


def test_an_ambiguous_order_number_is_named_and_a_scoped_key_picks_one(
    project: Path, store: Engine
) -> None:
    load(
        store,
        "other",
        {"sales_order": [order("PO-2")], "order_line": [order_line("PO-2", 1, "W-1", 1)]},
    )
    report = send(store, "acme_retail", "855", ["PO-2"], now=NOW)  # ACME's own PO wins
    assert report.references == ["PO-2"]
    with pytest.raises(MissingKey, match="ambiguous: it exists for order_origin acme_retail"):
        send(store, "harborline_3pl", "940", ["PO-2"], now=NOW)
    scoped = send(store, "harborline_3pl", "940", ["other:PO-2"], now=NOW)
    assert scoped.references == ["PO-2"]


def test_a_failed_delivery_stays_pending_and_goes_with_the_next_send(
    project: Path, store: Engine
) -> None:
    (project / "acme_out").write_text("not a folder")
    failed = send(store, "acme_retail", "855", ["PO-1"], now=NOW)
    assert not failed.ok and "not delivered" in str(failed.error) and failed.delivered == []
    with store.connect() as conn:
        status = conn.execute(select(table(EdiInterchange).c.status)).scalars().all()
    assert status == ["pending"]
    (project / "acme_out").unlink()
    again = send(store, "acme_retail", "855", ["PO-2"], now=NOW)
    assert again.ok and [Path(p).name for p in again.delivered] == [
        Path(failed.file).name,
        Path(again.file).name,
    ]


def test_a_po_from_the_inbox_is_acknowledged_by_an_855(project: Path, engine: Engine) -> None:
    """The real pipeline: ACME's 850s through its inbox into the store, then the 855."""
    from omshub.edi.chain import chain
    from omshub.pipeline import run_source

    shutil.copy(ROOT / "mappings/edi/samples/po_850.x12", project / "acme_in/po.x12")
    run = run_source("edi_acme_retail", engine=engine)
    assert run.ok, run.errors
    report = send(engine, "acme_retail", "855", ["4500012345", "4500012299"])  # after the run
    assert report.ok
    delivered = sorted(p.name for p in (project / "acme_out").iterdir())
    assert [n[:4] for n in delivered] == ["855_", "997_"]  # the inbox's 997, then our 855
    assert Path(report.delivered[-1]).name == delivered[0]
    txs = sets_of(Path(report.delivered[-1]))
    bak = [next(s.elements for s in t.segments if s.tag == "BAK") for t in txs]
    assert [(b[1], b[2], b[3]) for b in bak] == [
        ("AD", "4500012345", "20261201"),
        ("RJ", "4500012299", "20261202"),  # BEG01 01: the PO was cancelled
    ]
    with engine.connect() as conn:
        docs = chain(conn, "4500012345")
    assert [(e.direction, e.set_id, e.status, e.ack, e.outstanding) for e in docs] == [
        ("in", "850", "loaded", "accepted", False),  # the inbox stored its PO number
        ("out", "855", "sent", "none", True),
    ]
