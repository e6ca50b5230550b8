"""Acceptance through omshub.pipeline: 10,000 orders over 100 pages with three 429s and a
500 load exactly once; a re-run loads nothing new; a run cut off half-way resumes.

The full 10,000 run on SQLite; on PostgreSQL the same test on 2,000 orders (20 pages: its
load is ~5x slower per batch, and the logic under test does not depend on the store).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from resthelp import SHOP_TOKEN
from restproject import use_project
from sqlalchemy import Engine, func, select

from demo.emulators import ShopifyEmulator, connection_uri, generate_orders
from oms.models import Binding, LandedBatch, SalesOrder
from omshub import pipeline
from omshub.extract import watermark

SCALE = {"sqlite": 10_000, "postgresql": 2_000}


@pytest.fixture
def orders(store_url: str) -> list[dict]:
    return generate_orders(SCALE["sqlite" if store_url.startswith("sqlite") else "postgresql"])


@pytest.fixture
def shop(
    orders: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ShopifyEmulator]:
    with ShopifyEmulator(orders, token=SHOP_TOKEN) as emu:
        use_project(tmp_path, monkeypatch)
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_API", connection_uri(emu.base_url, "", SHOP_TOKEN))
        yield emu


def counts(engine: Engine) -> tuple[int, int, int]:
    so, b = SalesOrder.__table__, Binding.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(so)).scalar_one()
        ids = conn.execute(
            select(func.count(func.distinct(b.c.external_id))).where(b.c.system == "shop")
        ).scalar_one()
        bindings = conn.execute(
            select(func.count()).select_from(b).where(b.c.system == "shop")
        ).scalar_one()
    return rows, ids, bindings


def changed(report: pipeline.RunReport) -> int:
    return sum(e["changed"] for b in report.batches for e in b["entities"].values())


def first_bound(emu: ShopifyEmulator) -> str:
    return [r for r in emu.sent("orders") if "page_info" not in r.query][-1].query["updated_at_min"]


def newest(orders: list[dict]) -> str:
    return max(o["updated_at"] for o in orders)


def less_overlap(value: str) -> str:
    """What the transport sends for a watermark: 300 s earlier, `...Z`."""
    when = dt.datetime.fromisoformat(value) - dt.timedelta(seconds=300)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_10000_records_with_429s_and_a_500_load_once_and_a_rerun_loads_nothing(
    shop: ShopifyEmulator, orders: list[dict], engine: Engine
) -> None:
    n = len(orders)
    pages = n // 100
    shop.throttle_pages = {pages // 10, pages * 4 // 10, pages * 7 // 10}
    shop.error_pages = {pages // 2 + 5}
    report = pipeline.run_source("shop", engine=engine)
    assert report.ok, report.errors
    assert counts(engine) == (n, n, n)
    assert shop.hits["429"] == 3 and shop.hits["500"] == 1
    assert shop.hits["orders"] == pages + 4
    with engine.connect() as conn:
        lb = LandedBatch.__table__
        assert conn.execute(select(func.count()).select_from(lb)).scalar_one() == pages
    assert watermark(engine, "shop", "orders") == newest(orders)

    again = pipeline.run_source("shop", engine=engine)
    assert again.ok, again.errors
    assert changed(again) == 0 and counts(engine) == (n, n, n)
    assert first_bound(shop) == less_overlap(newest(orders))
    assert watermark(engine, "shop", "orders") == newest(orders)


def test_a_run_cut_off_half_way_fails_then_the_next_resumes_from_the_watermark(
    shop: ShopifyEmulator, orders: list[dict], engine: Engine
) -> None:
    n = len(orders)
    half = n // 200  # the first page that fails
    shop.fail_from_page = half  # past the retry cap: the run cannot finish
    cut = pipeline.run_source("shop", engine=engine)
    assert not cut.ok and cut.status == "failed"
    done = (half - 1) * 100
    assert counts(engine) == (done, done, done)
    assert watermark(engine, "shop", "orders") == newest(orders[:done])

    shop.fail_from_page = None
    resumed = pipeline.run_source("shop", engine=engine)
    assert resumed.ok, resumed.errors
    assert first_bound(shop) == less_overlap(newest(orders[:done]))  # resumed from the mark
    assert counts(engine) == (n, n, n)
    assert watermark(engine, "shop", "orders") == newest(orders)


def test_backfill_window_reloads_without_moving_the_watermark(
    shop: ShopifyEmulator, engine: Engine
) -> None:
    shop.orders = shop.orders[:300]
    shop._keys = shop._keys[:300]
    assert pipeline.run_source("shop", engine=engine).ok
    mark = watermark(engine, "shop", "orders")
    start = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.UTC)
    end = dt.datetime(2026, 1, 1, 0, 20, tzinfo=dt.UTC)
    report = pipeline.run_source("shop", engine=engine, trigger="backfill", window=(start, end))
    assert report.ok, report.errors
    sent = [r for r in shop.sent("orders") if "page_info" not in r.query][-1].query
    assert (sent["updated_at_min"], sent["updated_at_max"]) == (
        "2026-01-01T00:10:00Z",
        "2026-01-01T00:20:00Z",
    )
    assert sum(b["records"] for b in report.batches) == 33  # minutes 10..20, three a minute
    assert changed(report) == 0
    assert watermark(engine, "shop", "orders") == mark
