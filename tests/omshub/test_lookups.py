"""Look-ups through a source run: Square's inventory counts find their SKU in the catalog
stream landed by the same run; a variation the catalogue lacks is quarantined with the
look-up named; a mapping may instead ask the store (the catalog's product_alias bindings)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select

from oms.models import InventoryPosition, LandedBatch, Quarantine
from omshub import pipeline


def _counts_file(home: Path) -> Path:
    return next((home / "demo/systems/square_pos").glob("inventory_counts_*.json"))


def test_square_counts_find_their_sku_through_the_catalog_stream(
    engine: Engine, shipped_project: Path
) -> None:
    counts = _counts_file(shipped_project)
    doc = json.loads(counts.read_text())
    doc["counts"][0]["catalog_object_id"] = "NOT-IN-CATALOG"
    counts.write_text(json.dumps(doc))
    report = pipeline.run_source("square_pos", engine=engine)
    assert report.ok, report.errors
    with engine.connect() as conn:
        skus = {r.sku for r in conn.execute(select(InventoryPosition.__table__))}
        reasons = [
            q.reasons for q in conn.execute(select(Quarantine.__table__)) if q.stream == "inventory"
        ]
        streams = {r.stream for r in conn.execute(select(LandedBatch.__table__))}
    assert {"catalog", "inventory", "orders"} <= streams
    in_stock = [c for c in doc["counts"][1:] if c["state"] == "IN_STOCK"]
    assert len(skus) == len(in_stock) and all(s.startswith("NW-") for s in skus)
    assert len(reasons) == 1
    assert "lookup stream catalog: no entry for 'NOT-IN-CATALOG'" in str(reasons[0])


def test_a_binding_lookup_reads_the_aliases_the_catalog_loaded(
    engine: Engine, shipped_project: Path
) -> None:
    inv = shipped_project / "mappings/square/inventory.yaml"
    text = inv.read_text()
    stream_lookup = (
        "lookup: {stream: catalog, path: item_data.variations, key: id,"
        " value: item_variation_data.sku}"
    )
    assert stream_lookup in text
    inv.write_text(text.replace(stream_lookup, "lookup: {binding: product_alias, value: sku}"))
    report = pipeline.run_source("square_pos", engine=engine, streams=["catalog"])
    assert report.ok, report.errors
    report = pipeline.run_source("square_pos", engine=engine, streams=["inventory"])
    assert report.ok, report.errors
    with engine.connect() as conn:
        skus = {r.sku for r in conn.execute(select(InventoryPosition.__table__))}
    doc = json.loads(_counts_file(shipped_project).read_text())
    assert len(skus) == len(
        {c["catalog_object_id"] for c in doc["counts"] if c["state"] == "IN_STOCK"}
    )
