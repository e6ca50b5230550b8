"""Progress lines of a long batch: at most one per interval, with records so far and pace."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from projects import drop, shop_order, use_project

from omshub import pipeline
from omshub.ticker import Ticker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_only_when_the_interval_passed(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    ticker = Ticker("shop/orders a.json", every=10, clock=clock)
    caplog.set_level(logging.INFO, "omshub.pipeline")
    clock.now += 4
    assert not ticker.tick(50_000)  # a short batch logs nothing extra
    clock.now += 6
    assert ticker.tick(100_000)
    clock.now += 9
    assert not ticker.tick(150_000)  # 9 s since the last line
    clock.now += 10
    assert ticker.tick(250_000)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "shop/orders a.json: 100,000 records so far (10,000/s)",
        "shop/orders a.json: 250,000 records so far (8,621/s)",
    ]


def test_a_batch_of_many_chunks_reports_its_progress(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_store: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from oms.db import get_engine

    project = use_project(tmp_path, monkeypatch)
    orders = [shop_order(i, f"P{i}", updated_at="2026-11-20T10:00:00Z") for i in range(1, 8)]
    drop(project, "many.json", orders)
    monkeypatch.setenv("OMSHUB_CHUNK_RECORDS", "3")  # 3 chunks: 3, 3, 1 records
    monkeypatch.setenv("OMSHUB_PROGRESS_SECONDS", "0")
    caplog.set_level(logging.INFO, "omshub.pipeline")
    assert pipeline.run_source("shop", engine=get_engine(sqlite_store)).ok
    progress = [r.getMessage() for r in caplog.records if "records so far" in r.getMessage()]
    counts = [m.split(": ")[1].split(" records")[0] for m in progress]
    assert counts == ["3", "6", "7"], progress
    assert all(m.startswith("shop/") and "many.json" in m for m in progress)
