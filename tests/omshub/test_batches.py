"""Operator control over batches, against the tables: list with true totals, show, discard
(kept, with who and why), reset for retry (all or nothing), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from oms.models import LandedBatch, Quarantine, RunStat, table
from omshub.batches import (
    InvalidRequest,
    check_retry,
    discard_batch,
    get_batch,
    list_batches,
    reset_for_retry,
)

lb, rs, q = table(LandedBatch), table(RunStat), table(Quarantine)
T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)


def add_batch(engine: Engine, bid: str, status: str, minutes: int = 0, **kw: Any) -> None:
    values: dict[str, Any] = {
        "batch_id": bid,
        "source": bid.split(".")[0],
        "stream": "orders",
        "uri": f"/landing/{bid}",
        "original_name": f"{bid}.json",
        "format": "json",
        "size_bytes": 10,
        "checksum": bid.ljust(64, "0")[:64],
        "landed_at": T0 + dt.timedelta(minutes=minutes),
        "status": status,
        **kw,
    }
    with engine.begin() as conn:
        conn.execute(insert(lb).values(**values))


def add_quarantine(engine: Engine, bid: str, n: int, status: str = "open") -> None:
    rows = [
        {
            "batch_id": bid,
            "source": bid.split(".")[0],
            "system": "shop",
            "stream": "orders",
            "record_index": i,
            "mapping_name": "shop.orders",
            "mapping_version": "1",
            "raw_record": "{}",
            "reasons": "[]",
            "status": status,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(q), rows)


def row(engine: Engine, bid: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(select(lb).where(lb.c.batch_id == bid)).mappings().one())


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    add_batch(engine, "shop.a", "loaded", 1, loaded_at=T0)
    add_batch(engine, "shop.b", "failed", 2, attempts=1, message="shop/orders b.json:1: bad")
    add_batch(engine, "shop.c", "dead", 3, attempts=3, message="shop/orders c.json: bad")
    add_batch(engine, "shop.d", "landed", 4)
    add_batch(engine, "erp.e", "failed", 5, attempts=2, error_kind="data")
    add_batch(engine, "erp.f", "loaded", 6)
    add_batch(engine, "erp.g", "discarded", 7, discarded_by="ann", discarded_reason="dup")
    return engine


def test_list_pages_show_the_true_total_newest_first(seeded: Engine) -> None:
    rows, total = list_batches(seeded, limit=2)
    assert total == 7 and [r["batch_id"] for r in rows] == ["erp.g", "erp.f"]
    rows, total = list_batches(seeded, limit=2, offset=6)
    assert total == 7 and [r["batch_id"] for r in rows] == ["shop.a"]
    rows, total = list_batches(seeded, status="failed")
    assert total == 2 and {r["batch_id"] for r in rows} == {"shop.b", "erp.e"}
    rows, total = list_batches(seeded, source="shop", status="all", limit=1)
    assert total == 4 and len(rows) == 1
    assert rows[0]["landed_at"] == "2026-11-20T08:04:00+00:00"  # ISO 8601, UTC


def test_list_refuses_a_bogus_status_and_bad_paging(seeded: Engine) -> None:
    with pytest.raises(InvalidRequest, match=r"unknown status 'broken'.*landed, loaded"):
        list_batches(seeded, status="broken")
    with pytest.raises(InvalidRequest, match=r"limit must be >= 1"):
        list_batches(seeded, limit=0)


def test_show_has_every_run_of_the_batch_and_its_open_quarantine(seeded: Engine) -> None:
    with seeded.begin() as conn:
        for run, status in (("r1", "failed"), ("r2", "success")):
            conn.execute(
                insert(rs).values(
                    run_id=run,
                    source="shop",
                    stream="orders",
                    batch_id="shop.b",
                    entity="sales_order",
                    extracted=3,
                    loaded=2 if status == "success" else 0,
                    quarantined=1,
                    failed=0 if status == "success" else 2,
                    status=status,
                    finished_at=T0,
                )
            )
    add_quarantine(seeded, "shop.b", 2)
    add_quarantine(seeded, "shop.b", 1, status="replayed")
    b = get_batch(seeded, "shop.b")
    assert b["status"] == "failed" and b["message"] == "shop/orders b.json:1: bad"
    assert [(r["run_id"], r["status"], r["failed"]) for r in b["runs"]] == [
        ("r1", "failed", 2),
        ("r2", "success", 0),
    ]
    assert b["open_quarantine"] == 2
    with pytest.raises(InvalidRequest, match=r"no batch 'shop.zz'"):
        get_batch(seeded, "shop.zz")


def test_discard_keeps_the_row_with_who_why_when_and_closes_its_quarantine(
    seeded: Engine,
) -> None:
    add_quarantine(seeded, "shop.b", 3)
    b = discard_batch(seeded, "shop.b", "  duplicate of the 21st's export ", "ann")
    assert b["dismissed"] == 3 and b["open_quarantine"] == 0
    kept = row(seeded, "shop.b")
    assert kept["status"] == "discarded"
    assert (kept["discarded_by"], kept["discarded_reason"]) == (
        "ann",
        "duplicate of the 21st's export",
    )
    assert kept["discarded_at"] is not None
    assert kept["message"] == "shop/orders b.json:1: bad"  # the failure stays readable
    assert kept["attempts"] == 1
    with seeded.connect() as conn:
        closed = conn.execute(select(q.c.status, q.c.resolved_by_run)).all()
    assert closed == [("dismissed", "discard:ann")] * 3


@pytest.mark.parametrize(
    ("bid", "reason", "message"),
    [
        ("shop.a", "x", r"shop.a is loaded: its rows are in the store"),
        ("erp.g", "x", r"already discarded by ann at .*: dup"),
        ("shop.zz", "x", r"no batch 'shop.zz'"),
        ("shop.b", "  ", "a discard needs a reason"),
    ],
)
def test_discard_refusals_name_the_reason_and_change_nothing(
    seeded: Engine, bid: str, reason: str, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        discard_batch(seeded, bid, reason, "bob")
    assert row(seeded, "shop.b")["status"] == "failed"
    assert row(seeded, "erp.g")["discarded_by"] == "ann"


def test_reset_for_retry_puts_failed_and_dead_batches_back(seeded: Engine) -> None:
    for bid in ("shop.b", "shop.c", "shop.d"):
        assert reset_for_retry(seeded, bid)["status"] == "landed"
    dead = row(seeded, "shop.c")
    assert (dead["status"], dead["attempts"]) == ("landed", 0)
    assert dead["message"] == "shop/orders c.json: bad"  # until the retry replaces it


def test_retry_refuses_loaded_and_discarded_unless_forced(seeded: Engine) -> None:
    with pytest.raises(InvalidRequest, match=r"shop.a is loaded: nothing to retry.*replay --batch"):
        reset_for_retry(seeded, "shop.a")
    with pytest.raises(InvalidRequest, match=r"erp.g was discarded by ann .dup.; .*--force"):
        reset_for_retry(seeded, "erp.g")
    undone = reset_for_retry(seeded, "erp.g", force=True)
    assert undone["status"] == "landed"
    assert (undone["discarded_by"], undone["discarded_reason"]) == ("ann", "dup")  # history


def test_check_retry_is_all_or_nothing(seeded: Engine) -> None:
    with pytest.raises(InvalidRequest, match=r"shop.a is loaded"):
        check_retry(seeded, ["shop.b", "shop.a"])
    with pytest.raises(InvalidRequest, match=r"no batch 'nope'"):
        check_retry(seeded, ["shop.b", "nope"])
    assert row(seeded, "shop.b")["status"] == "failed"
    check_retry(seeded, ["shop.b", "shop.c", "erp.g"], force=True)
