"""`stats()`: the monitoring contract, from rows written straight into the run tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from projects import write_source
from sqlalchemy import Engine, insert

from oms.models import LandedBatch, RunStat, SyncRun, table
from omshub.report import last_runs, stats

sr, rs, lb = table(SyncRun), table(RunStat), table(LandedBatch)
T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
COUNTS = ("extracted", "loaded", "changed", "stale", "quarantined", "failed")


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def add_run(engine: Engine, run_id: str, source: str, status: str, minute: int, **kw: Any) -> None:
    values = {"trigger": "cli", "started_at": at(minute), "finished_at": at(minute + 1), **kw}
    with engine.begin() as conn:
        conn.execute(insert(sr).values(run_id=run_id, source=source, status=status, **values))


def add_stat(engine: Engine, run_id: str, batch: str, entity: str, status: str, *n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(rs).values(
                run_id=run_id,
                source=batch.split(".")[0],
                stream="orders",
                batch_id=batch,
                entity=entity,
                status=status,
                **dict(zip(COUNTS, n, strict=True)),
            )
        )


def add_batch(engine: Engine, bid: str, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(lb).values(
                batch_id=bid,
                source=bid.split(".")[0],
                stream="orders",
                uri="x",
                format="json",
                size_bytes=1,
                checksum=bid.ljust(64, "0"),
                status=status,
            )
        )


def test_an_empty_store_lists_every_configured_source(engine: Engine) -> None:
    data = stats(engine)
    assert {"shopify", "sap_erp", "wms_3pl"} <= set(data["sources"])
    shop = data["sources"]["shopify"]
    assert shop == {
        "configured": True,
        "config_error": None,
        "last_run": None,
        "last_success": None,
        "attention": {"failed": 0, "dead": 0},
    }
    assert data["last_runs"] == [] and data["entities"]["sales_order"] == {}


def test_last_run_and_last_success_whatever_happened_since(engine: Engine) -> None:
    add_run(engine, "r1", "shopify", "success", 0)
    add_stat(engine, "r1", "shopify.a", "sales_order", "success", 5, 5, 5, 0, 0, 0)
    add_run(engine, "r2", "shopify", "partial", 10, message="shopify/orders b.json:3: bad")
    add_stat(engine, "r2", "shopify.b", "sales_order", "failed", 4, 0, 0, 0, 1, 3)
    add_stat(engine, "r2", "shopify.c", "sales_order", "success", 2, 1, 1, 1, 0, 0)
    add_stat(engine, "r2", "shopify.d", "*", "failed", 0, 0, 0, 0, 0, 0)  # never parsed
    add_batch(engine, "shopify.b", "failed")
    add_batch(engine, "shopify.c", "loaded")
    add_batch(engine, "shopify.d", "dead")
    add_run(engine, "r3", "shopify", "success", 20, trigger="replay")

    shop = stats(engine)["sources"]["shopify"]
    last = shop["last_run"]
    assert last["run_id"] == "r3" and last["trigger"] == "replay"  # any trigger
    add_run(engine, "r4", "shopify", "failed", 30, message="extract failed: host down")
    shop = stats(engine)["sources"]["shopify"]
    assert shop["last_run"] == {
        "run_id": "r4",
        "status": "failed",
        "trigger": "cli",
        "started_at": "2026-11-20T08:30:00+00:00",
        "finished_at": "2026-11-20T08:31:00+00:00",
        "message": "extract failed: host down",
        "entities": {},  # failed at extraction: no batch, still listed
        "batches": {},
    }
    assert shop["last_success"] == {
        "run_id": "r3",
        "started_at": "2026-11-20T08:20:00+00:00",
        "finished_at": "2026-11-20T08:21:00+00:00",
    }
    assert shop["attention"] == {"failed": 1, "dead": 1}


def test_counts_of_a_partial_run_add_up(engine: Engine) -> None:
    add_run(engine, "r2", "shopify", "partial", 10, message="b.json:3: bad")
    add_stat(engine, "r2", "shopify.b", "sales_order", "failed", 4, 0, 0, 0, 1, 3)
    add_stat(engine, "r2", "shopify.c", "sales_order", "success", 2, 1, 1, 1, 0, 0)
    add_stat(engine, "r2", "shopify.d", "*", "failed", 0, 0, 0, 0, 0, 0)
    add_batch(engine, "shopify.b", "failed")
    add_batch(engine, "shopify.c", "loaded")
    add_batch(engine, "shopify.d", "dead")
    last = stats(engine)["sources"]["shopify"]["last_run"]
    assert last["status"] == "partial" and last["message"] == "b.json:3: bad"
    c = last["entities"]["sales_order"]
    assert c == {
        "extracted": 6,
        "loaded": 1,
        "changed": 1,
        "stale": 1,
        "quarantined": 1,
        "failed": 3,
    }
    assert c["extracted"] == c["loaded"] + c["stale"] + c["quarantined"] + c["failed"]
    assert last["batches"] == {"loaded": 1, "failed": 1, "dead": 1}


def test_a_run_that_found_nothing_new_and_an_unconfigured_source(engine: Engine) -> None:
    add_run(engine, "r1", "sap_erp", "success", 0)
    add_run(engine, "old", "retired_pos", "success", 0)
    data = stats(engine)["sources"]
    assert data["sap_erp"]["last_run"]["entities"] == {}
    assert data["sap_erp"]["last_success"]["run_id"] == "r1"
    assert data["retired_pos"]["configured"] is False


def test_legacy_last_runs_skip_replays_and_mark_failures(engine: Engine) -> None:
    add_run(engine, "r1", "shopify", "partial", 0)
    add_stat(engine, "r1", "shopify.a", "sales_order", "failed", 2, 0, 0, 0, 0, 2)
    add_stat(engine, "r1", "shopify.a", "order_line", "success", 3, 3, 3, 0, 0, 0)
    add_run(engine, "r2", "shopify", "success", 10, trigger="retry")
    rows = {r["entity"]: r for r in last_runs(engine)}
    assert rows["sales_order"]["status"] == "failed" and rows["sales_order"]["failed"] == 2
    assert rows["order_line"]["status"] == "partial" and rows["order_line"]["run_id"] == "r1"


def test_a_source_file_that_does_not_validate_is_listed_with_its_error(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = write_source(tmp_path / "proj")
    (home / "config/sources/broken.yaml").write_text("name: broken\nsystem: x\nkind: nope\n")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    data = stats(engine)["sources"]
    assert set(data) == {"shop", "broken"}
    assert data["shop"]["config_error"] is None
    assert data["broken"]["configured"] is True
    assert "broken.yaml:3 kind" in data["broken"]["config_error"]
