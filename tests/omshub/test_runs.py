"""Runs and batches as state machines: failures recorded, isolated, retried, parked; runs end."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from projects import drop, shop_order, use_project
from sqlalchemy import Engine, func, insert, select

from oms.models import LandedBatch, RunStat, SalesOrder, SyncRun
from omshub import pipeline

lb, rs, sr, so = LandedBatch.__table__, RunStat.__table__, SyncRun.__table__, SalesOrder.__table__


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> Path:
    return use_project(tmp_path, monkeypatch, incremental=True)


def orders(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(so.c.order_number)).scalars())


def batches(engine: Engine) -> dict[str, tuple[str, int, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(lb.c.original_name, lb.c.status, lb.c.attempts, lb.c.message))
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_one_poisoned_file_fails_its_batch_only_then_is_retried_then_parked(
    project: Path, engine: Engine
) -> None:
    drop(project, "a.json", [shop_order(1, "A1"), shop_order(2, "A2")])
    (project / "drop" / "b.json").write_text('{"orders": [{"id": 3, "number": "B3"}, ')
    drop(project, "c.json", [shop_order(4, "C4")])

    first = pipeline.run_source("shop", engine=engine)
    assert first.status == "partial" and not first.ok
    assert orders(engine) == ["A1", "A2", "C4"]  # the files before and after it loaded
    status, attempts, message = batches(engine)["b.json"]
    assert (status, attempts) == ("failed", 1)
    assert message is not None and message.startswith("shop/orders b.json: ")
    assert "b.json:1" in message  # the file and line
    assert first.summary is not None and first.summary.batches == {"loaded": 2, "failed": 1}

    # the next runs retry only the failed batch, until max_batch_attempts (3) parks it
    second = pipeline.run_source("shop", engine=engine)
    assert [e.split(":")[0] for e in second.errors] == [first.errors[0].split(":")[0]]
    assert second.status == "failed" and second.batches == []
    pipeline.run_source("shop", engine=engine)
    assert batches(engine)["b.json"][:2] == ("dead", 3)
    assert "omshub batches retry" in (batches(engine)["b.json"][2] or "")
    fourth = pipeline.run_source("shop", engine=engine)
    assert fourth.status == "success" and fourth.errors == []  # dead batches are left alone


def test_counts_add_up_and_the_run_summary_tells_the_truth(project: Path, engine: Engine) -> None:
    drop(
        project,
        "a.json",
        [
            shop_order(1, "A1", updated_at="2026-11-20T10:00:00Z"),
            shop_order(2, "A2", status="weird"),
            shop_order(3, "A3", updated_at="2026-11-20T10:00:00Z"),
        ],
    )
    (project / "drop" / "b.json").write_text("not json")
    report = pipeline.run_source("shop", engine=engine)
    with engine.connect() as conn:
        stats = conn.execute(select(rs).where(rs.c.run_id == report.run_id)).mappings().all()
    for s in stats:
        assert s["extracted"] == s["loaded"] + s["stale"] + s["quarantined"] + s["failed"], s
    assert report.summary is not None
    assert report.summary.entities == {
        "sales_order": {
            "extracted": 3,
            "loaded": 2,
            "changed": 2,
            "stale": 0,
            "quarantined": 1,
            "failed": 0,
        }
    }
    assert report.summary.status == "partial"
    assert report.summary.message is not None and "b.json" in report.summary.message
    with engine.connect() as conn:
        run = conn.execute(select(sr).where(sr.c.run_id == report.run_id)).mappings().one()
    assert run["status"] == "partial" and run["finished_at"] is not None


def test_same_content_twice_in_one_run_is_one_batch(project: Path, engine: Engine) -> None:
    drop(project, "a.json", [shop_order(1, "A1")])
    drop(project, "a-copy.json", [shop_order(1, "A1")])
    report = pipeline.run_source("shop", engine=engine)
    assert report.ok and len(report.batches) == 1
    assert report.summary is not None
    assert report.summary.entities["sales_order"]["extracted"] == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lb)).scalar() == 1


def test_a_config_error_fails_batches_without_using_up_their_attempts(
    project: Path, engine: Engine
) -> None:
    drop(project, "a.json", [shop_order(1, "A1")])
    mapping = project / "mappings/shop/orders.yaml"
    good = mapping.read_text()
    mapping.write_text(good.replace("code: shopify_financial_status", "code: no_such_list"))
    for _ in range(4):
        report = pipeline.run_source("shop", engine=engine)
        assert report.status == "failed"
        assert "unknown code list 'no_such_list'" in report.errors[0]
    assert batches(engine)["a.json"][:2] == ("failed", 0)
    mapping.write_text(good)
    assert pipeline.run_source("shop", engine=engine).ok
    assert orders(engine) == ["A1"]


def _open_run(engine: Engine, run_id: str, **values: object) -> None:
    at = dt.datetime.now(dt.UTC)
    row = {"started_at": at, "heartbeat_at": at, **values}
    with engine.begin() as conn:
        conn.execute(insert(sr).values(run_id=run_id, source="shop", status="extracted", **row))


def _status(engine: Engine, run_id: str) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(select(sr.c.status, sr.c.message).where(sr.c.run_id == run_id)).one()
    return row[0], row[1]


def test_silent_and_orphaned_runs_are_abandoned_live_ones_are_not(
    project: Path, engine: Engine
) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    _open_run(engine, "silent", trigger="airflow", heartbeat_at=old, started_at=old)
    _open_run(engine, "alive", trigger="cli", host=socket.gethostname(), pid=os.getpid())
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    _open_run(engine, "orphan", trigger="cli", host=socket.gethostname(), pid=int(dead.stdout))
    pipeline.extract("shop", "next", "cli", engine)
    status, message = _status(engine, "silent")
    assert status == "abandoned" and message is not None and "no heartbeat since" in message
    status, message = _status(engine, "orphan")
    assert status == "abandoned" and message is not None and "is gone" in message
    assert "picked up by run next" in message
    assert _status(engine, "alive")[0] == "extracted"


def test_a_killed_run_is_abandoned_and_the_next_run_loads_its_batches(
    project: Path, engine: Engine, store_url: str
) -> None:
    for f in range(6):
        drop(project, f"f{f}.json", [shop_order(f * 10_000 + i, f"F{f}-{i}") for i in range(2000)])
    env = {**os.environ, "OMSHUB_HOME": str(project), "OMSHUB_DATABASE_URL": store_url}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from omshub.cli import app; app()", "run", "shop"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        with engine.connect() as conn:
            if conn.execute(select(sr.c.status)).scalar() == "extracted":
                break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with engine.connect() as conn:
        killed = conn.execute(select(sr.c.run_id)).scalar_one()
        left = conn.execute(select(func.count()).where(lb.c.status == "landed")).scalar()
    assert left >= 1, "the killed run had already finished: make the files bigger"

    report = pipeline.run_source("shop", engine=engine)
    assert report.ok
    status, message = _status(engine, killed)
    assert status == "abandoned" and message is not None and "is gone" in message
    assert len(orders(engine)) == 6 * 2000
    with engine.connect() as conn:
        assert set(conn.execute(select(lb.c.status)).scalars()) == {"loaded"}
        done_now = conn.execute(
            select(func.count()).where(lb.c.last_run_id == report.run_id)
        ).scalar()
    assert done_now == left


def test_task_retries_within_one_run_count_as_one_attempt(project: Path, engine: Engine) -> None:
    from oms.errors import BatchFailed

    (project / "drop" / "b.json").write_text("not json")
    run_id = pipeline.new_run_id()
    [batch] = pipeline.extract("shop", run_id, engine=engine)
    for _ in range(3):  # as Airflow's task retries would
        with pytest.raises(BatchFailed, match=r"shop/orders b.json: .*b.json:1"):
            pipeline.process_batch(batch, run_id, engine)
    assert batches(engine)["b.json"][:2] == ("failed", 1)


def test_a_nul_byte_is_refused_and_quarantined_on_both_backends(
    project: Path, engine: Engine
) -> None:
    from oms.models import Quarantine

    (project / "drop" / "a.json").write_text(
        '{"orders": [{"id": "A\\u00001", "number": "A1", "status": "paid", "total": "1"},'
        ' {"id": 2, "number": "A2", "status": "paid", "total": "2"}]}'
    )
    report = pipeline.run_source("shop", engine=engine)
    assert report.ok, report.errors
    assert orders(engine) == ["A2"]
    q = Quarantine.__table__
    with engine.connect() as conn:
        key, reasons = conn.execute(select(q.c.record_key, q.c.reasons)).one()
    assert key == "A\\x001"
    assert "a.json: record 1: NUL byte" in reasons
