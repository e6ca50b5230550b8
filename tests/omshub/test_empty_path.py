"""A record a mapping's root `path:` reads nothing from is quarantined, never dropped.

`path: variants` maps each variant of a product record to a row; a record whose
`variants` is `[]`, null or absent gave no row and no error, so it vanished: not in the
store, not in the quarantine, the batch `loaded`. Now it is kept with why, on both
mapping engines (the columnar one, and the per-record one for records no Arrow table
holds), while the batch's good records load; `on_empty: skip` and a root `filter:` say
an empty record is intended, so nothing is flagged for them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from oms.models import LandedBatch, Product, Quarantine
from omshub import pipeline
from transforms.arrowshape import records_table
from transforms.compiler import compile_mapping
from transforms.errors import MappingError

SOURCE = """\
name: catalog
system: shop
kind: channel
connector: {type: local_folder, path: drop}
mode: full
retries: 0
reject_threshold: 1.0
streams:
  - name: products
    pattern: "*.json"
    format: {type: json, records_path: products}
    mapping: shop/products.yaml
"""
MAPPING = """\
mapping: shop.products
version: 1
entity: product
path: variants
external_id: id
fields:
  sku: {path: sku, required: true}
  name: {expr: "join(' - ', _parent.title, title)"}
"""
RECORDS: list[dict[str, Any]] = [
    {"id": 1, "title": "Mug", "variants": [{"id": 11, "sku": "MUG-1", "title": "red"}]},
    {"id": 2, "title": "Cup", "variants": []},
    {"id": 3, "title": "Pot"},
    {"id": 4, "title": "Jar", "variants": None},
]
#: a field that is an object in one record and a list in another: no Arrow table holds
#: both, so the chunk takes the per-record path
PER_RECORD: dict[int, dict[str, Any]] = {0: {"tags": {"a": 1}}, 1: {"tags": [1]}}


def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapping: str, shape: str) -> Path:
    home = tmp_path / "proj"
    for sub in ("config/sources", "mappings/shop", "drop"):
        (home / sub).mkdir(parents=True)
    (home / "config/sources/catalog.yaml").write_text(SOURCE)
    (home / "mappings/shop/products.yaml").write_text(mapping)
    records = [dict(r) for r in RECORDS]
    if shape == "per-record":
        for i, extra in PER_RECORD.items():
            records[i].update(extra)
    (home / "drop/products.json").write_text(json.dumps({"products": records}))
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


def skus(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(r[0] for r in conn.execute(select(Product.__table__.c.sku)))


def entries(engine: Engine) -> list[Any]:
    q = Quarantine.__table__
    with engine.connect() as conn:
        return list(conn.execute(select(q).order_by(q.c.record_index)).all())


def why(index: int) -> str:
    return (
        f"products.json: record {index + 1}: the mapping mappings/shop/products.yaml read no"
        " record (path variants): nothing loaded"
    )


@pytest.mark.parametrize("shape", ["columnar", "per-record"])
def test_records_the_path_reads_nothing_from_are_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine, shape: str
) -> None:
    project(tmp_path, monkeypatch, MAPPING, shape)
    for _run in range(2):  # a re-run re-judges them: the same open entries, no duplicates
        report = pipeline.run_source("catalog", engine=engine)
        assert report.ok, report.errors
        [batch] = report.batches
        assert (batch["status"], batch["records"], batch["quarantined_records"]) == (
            "success",
            4,
            3,
        )
        assert skus(engine) == ["MUG-1"]
        kept = entries(engine)
        assert [(e.record_index, e.record_key, e.status) for e in kept] == [
            (1, "2", "open"),
            (2, "3", "open"),
            (3, "4", "open"),
        ]
        for e in kept:
            [reason] = json.loads(e.reasons)
            assert reason == {
                "entity": "product",
                "field": "",
                "rule": "path",
                "message": why(e.record_index),
            }
            assert e.mapping_name == "shop.products"
            assert json.loads(e.raw_record)["id"] == e.record_index + 1
    with engine.connect() as conn:
        assert {r.status for r in conn.execute(select(LandedBatch.__table__))} == {"loaded"}


@pytest.mark.parametrize(
    "opt_out",
    ["on_empty: skip\n", "filter: \"title != 'none'\"\n"],
    ids=["on_empty-skip", "root-filter"],
)
def test_a_mapping_that_says_empty_is_fine_flags_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str, opt_out: str
) -> None:
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    project(tmp_path, monkeypatch, MAPPING + opt_out, "columnar")
    report = pipeline.run_source("catalog", engine=engine)
    assert report.ok, report.errors
    assert report.batches[0]["quarantined_records"] == 0
    assert skus(engine) == ["MUG-1"]
    assert entries(engine) == []


def test_both_engines_list_the_same_unread_records(tmp_path: Path) -> None:
    path = tmp_path / "products.yaml"
    path.write_text(MAPPING)
    mapping = compile_mapping(path, {})
    table = records_table(RECORDS)
    assert table is not None
    assert mapping.apply(RECORDS).unread == [1, 2, 3]
    assert mapping.apply_table(table).unread == [1, 2, 3]
    flat = compile_mapping(write(tmp_path, MAPPING.replace("path: variants\n", "")), {})
    assert flat.apply_table(table).unread == [] and flat.apply(RECORDS).unread == []


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def test_on_empty_without_a_root_path_is_an_error_naming_the_line(tmp_path: Path) -> None:
    text = MAPPING.replace("path: variants\n", "") + "on_empty: skip\n"
    with pytest.raises(MappingError) as err:
        compile_mapping(write(tmp_path, text), {})
    assert err.value.line == text.splitlines().index("on_empty: skip") + 1
    assert "`on_empty` needs a root `path`" in str(err.value)
