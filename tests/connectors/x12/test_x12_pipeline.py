"""X12 end to end: partner files land through a folder source, the `x12` format and the
edi mappings into the store (SQLite and PostgreSQL); a set with a broken envelope is
quarantined with its reason while the rest of the file loads; a 3PL's 945 quoting the
retailer's PO numbers attaches its shipments to the retailer's orders."""

from __future__ import annotations

import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12sets import st, x12

from oms.models import OrderLine, Quarantine, SalesOrder, Shipment, ShipmentLine
from omshub import pipeline

ROOT = Path(__file__).resolve().parents[3]
SOURCE = """\
name: {name}
system: {system}
kind: {kind}
connector: {{type: local_folder, path: {folder}}}
mode: full
retries: 0
reject_threshold: 0.9
streams:
  - name: {stream}
    pattern: "*.x12"
    format: {{type: x12, sets: ["{set_id}"], order_origin: acme_retail}}
    mapping: edi/{mapping}.yaml
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "proj"
    edi = shutil.ignore_patterns("samples", "golden")
    shutil.copytree(ROOT / "mappings/edi", home / "mappings/edi", ignore=edi)
    codes = home / "config/codes"
    codes.mkdir(parents=True)
    shutil.copy(ROOT / "config/codes/carrier.yaml", codes)
    sources = {
        "acme_retail": ("acme_retail", "edi", "acme", "orders", "850", "po_850"),
        "harborline": ("harborline", "3pl", "harborline", "shipments", "945", "whse_945"),
    }
    (home / "config/sources").mkdir()
    for name, (system, kind, folder, stream, set_id, mapping) in sources.items():
        (home / folder).mkdir()
        (home / f"config/sources/{name}.yaml").write_text(
            SOURCE.format(
                name=name, system=system, kind=kind, folder=folder, stream=stream,
                set_id=set_id, mapping=mapping,
            )
        )  # fmt: skip
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


BROKEN = st(["BEG*00*SA*4500099999**20261202", "PO1*1*1*EA*1**VN*X"], control="0009")
BROKEN[-1] = "SE*9*0009"  # the set has 4 segments


def test_orders_and_warehouse_advices_load(project: Path, engine: Engine) -> None:
    samples = ROOT / "mappings/edi/samples"
    shutil.copy(samples / "po_850.x12", project / "acme/po_850.x12")
    (project / "acme/broken.x12").write_bytes(
        x12(BROKEN, st(["BEG*00*SA*4500077777**20261202", "PO1*1*2*EA*3**VN*Y"], control="0010"))
    )
    report = pipeline.run_source("acme_retail", engine=engine)
    assert report.ok, report.errors
    with engine.connect() as conn:
        orders = dict(conn.execute(select(SalesOrder.order_number, SalesOrder.order_origin)).all())
        lines = conn.execute(select(OrderLine.order_number, OrderLine.sku)).all()
        quarantined = conn.execute(select(Quarantine.reasons)).scalars().all()
    assert orders == {
        n: "acme_retail" for n in ("4500012345", "4500012346", "4500012299", "4500077777")
    }
    assert len(lines) == 5
    assert (
        len(quarantined) == 1 and "ST 0009" in str(quarantined[0]) and "SE01" in str(quarantined[0])
    )

    shutil.copy(samples / "whse_945.x12", project / "harborline/whse_945.x12")
    report = pipeline.run_source("harborline", engine=engine)
    assert report.ok, report.errors
    with engine.connect() as conn:
        shipments = conn.execute(
            select(
                Shipment.carrier, Shipment.tracking_number, Shipment.order_number, Shipment.order_id
            )
        ).all()
        shipped = conn.execute(
            select(ShipmentLine.order_number, ShipmentLine.sku, ShipmentLine.qty)
        ).all()
        order_ids = dict(conn.execute(select(SalesOrder.order_number, SalesOrder.id)).all())
    assert sorted((c, t, o) for c, t, o, _ in shipments) == [
        ("fedex", "794612345678", "4500012346"),
        ("ups", "1Z999AA10123456784", "4500012345"),
    ]
    # the 945 names the retailer's orders (order_origin acme_retail): the same canonical rows
    assert all(i is not None and i == order_ids[o or ""] for _, _, o, i in shipments)
    assert sorted((o or "", s or "", q) for o, s, q in shipped) == [
        ("4500012345", "GAD-200", Decimal(5)),
        ("4500012345", "WID-100", Decimal(12)),
        ("4500012346", "CHAIR-9", Decimal(1)),
    ]
