"""A real pipeline run hands the landed batch to the mapping: `$delivery.` values (file
name, landed time, source, stream, batch) and an `updated_at` picked from nested lines
drive the stored rows and the watermark."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest
from projects import drop, shop_order, use_project
from sqlalchemy import select

from oms.models import Base, LandedBatch, SalesOrder
from omshub import pipeline

MAPPING = """\
mapping: shop.orders
version: 2
entity: sales_order
external_id: id
updated_at: {path: lines.updated_at, pick: max}
fields:
  order_number: {path: number, required: true}
  ship_to_name: {expr: "concat(at('$delivery.source'), '/', at('$delivery.stream'))"}
  ship_method: {path: $delivery.file_name, transforms: [{regex: ['^(\\w+)_', 1]}]}
  location_code: $delivery.batch_id
  ordered_at: {coalesce: [placed, $delivery.landed_at]}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str) -> Path:
    home = use_project(tmp_path, monkeypatch)
    (home / "mappings/shop/orders.yaml").write_text(textwrap.dedent(MAPPING))
    return home


def test_a_batch_maps_with_its_delivery_values_and_nested_update_times(
    project: Path, sqlite_store: str
) -> None:
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    first = shop_order(1, "A1")
    first["lines"] = [
        {"updated_at": "2026-11-20T12:00:00+02:00"},  # 10:00 UTC
        {"updated_at": "2026-11-20T09:30:00Z"},
    ]
    second = shop_order(2, "A2")
    second["placed"] = "2026-11-01T08:00:00Z"
    second["lines"] = [{"updated_at": "2026-11-19T00:00:00Z"}]
    drop(project, "eu_orders.json", [first, second])
    assert pipeline.run_source("shop", engine=engine).ok
    so, lb = SalesOrder.__table__, LandedBatch.__table__
    with engine.connect() as conn:
        batch = conn.execute(select(lb.c.batch_id, lb.c.landed_at)).one()
        rows = {
            r.order_number: r
            for r in conn.execute(
                select(
                    so.c.order_number,
                    so.c.ship_to_name,
                    so.c.ship_method,
                    so.c.location_code,
                    so.c.ordered_at,
                    so.c.source_updated_at,
                )
            )
        }
        wm = conn.execute(select(Base.metadata.tables["watermark"].c.cursor_value)).scalar()
    a1, a2 = rows["A1"], rows["A2"]
    assert (a1.ship_to_name, a1.ship_method, a1.location_code) == (
        "shop/orders",
        "eu",
        batch.batch_id,
    )
    landed = batch.landed_at.replace(tzinfo=batch.landed_at.tzinfo or dt.UTC)
    assert a1.ordered_at.replace(tzinfo=a1.ordered_at.tzinfo or dt.UTC) == landed
    assert a2.ordered_at.replace(tzinfo=None) == dt.datetime(2026, 11, 1, 8)
    assert a1.source_updated_at.replace(tzinfo=None) == dt.datetime(2026, 11, 20, 10)
    assert wm == "2026-11-20T10:00:00+00:00"
    assert json.loads(json.dumps(wm))  # the watermark is plain ISO text


def test_json_records_keep_the_keys_their_first_record_lacks() -> None:
    """The columnar path's table has every record's keys (it once had the first's only)."""
    from transforms.arrowshape import records_table as _as_table

    table = _as_table([{"a": 1}, {"a": 2, "b": "x", "c": {"d": 1}}, {"c": {"e": "y"}}])
    assert table is not None
    assert table.to_pylist() == [
        {"a": 1, "b": None, "c": None},
        {"a": 2, "b": "x", "c": {"d": 1, "e": None}},
        {"a": None, "b": None, "c": {"d": None, "e": "y"}},
    ]
    assert _as_table([{}, {}]) is None  # no columns: the per-record path


def test_a_raw_cursor_may_be_a_nested_path_and_a_list_gives_its_newest() -> None:
    from omshub.watermark import newest

    records = [
        {"lines": [{"at": "2026-11-20T12:00:00+02:00"}, {"at": "2026-11-20T09:00:00Z"}]},
        {"lines": [{"at": "not a time"}, {"at": None}]},
        {"lines": {"at": "2026-11-19T00:00:00Z"}},
        "not a record",
    ]
    assert newest(records, "lines.at") == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    assert newest(records, "missing.at") is None
