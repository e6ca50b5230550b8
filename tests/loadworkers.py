"""Loads run in separate processes by tests/oms/test_concurrency.py.

Children are spawned (a fresh interpreter, as Airflow workers and CLI runs are): they
import this module by name (tests/ is on the sys.path they inherit), so it holds only
top-level functions. A batch is loaded the way the pipeline loads one: in
`write_transaction`, under `source_xact_lock` and `lock_rows`.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from multiprocessing.connection import Connection
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

import pandas as pd

from oms.db import get_engine
from oms.loader import LoadContext, Loader
from oms.locks import lock_rows, source_run_lock, source_xact_lock, write_transaction
from oms.ownership import Ownership
from oms.rowids import batch_row_ids

BASE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
#: the ERP owns order totals; a channel fills them only until the ERP has set one
OWNERSHIP = Ownership({"sales_order": {"grand_total": ("erp",)}})


def total(i: int, round_: int, cents: str) -> Decimal:
    return Decimal(i) + Decimal(1000 * round_) + Decimal(cents)


def updated(round_: int, role: str) -> dt.datetime:
    """Round k's newer batch is k hours after BASE, its older one 30 minutes before that."""
    return BASE + dt.timedelta(hours=round_, minutes=-30 if role == "older" else 0)


def order_frame(job: dict[str, Any]) -> pd.DataFrame:
    """The orders one job sends: #000000.. with values that tell who sent them, and when."""
    n, k, role = job["n"], job["round"], job.get("variant", job["role"])
    numbers = [f"{i:06d}" for i in range(n)]
    data: dict[str, list[Any]] = {"order_number": numbers}
    if role in ("older", "newer"):
        data["grand_total"] = [total(i, k, "0.25" if role == "older" else "0.50") for i in range(n)]
        data["payment_status"] = [f"{role}-{k}"] * n
    elif role == "shop":
        data["grand_total"] = [total(i, k, "0.75") for i in range(n)]
        data["payment_status"] = [f"paid-{k}"] * n
    else:  # the ERP quotes the shop's orders: it names their origin
        data["order_origin"] = ["shop"] * n
        data["grand_total"] = [total(i, k, "0.50") for i in range(n)]
        data["status"] = [f"erp-{k}"] * n
    data["_external_id"] = [f"{job['system']}-{i}" for i in range(n)]
    data["_updated_at"] = [updated(k, role)] * n
    data["_record"] = list(range(n))
    return pd.DataFrame(data, dtype=object)


def load_job(url: str, job: dict[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """Load one batch as the pipeline does; return its counts and how long it took."""
    engine = get_engine(url)
    frames = {"sales_order": frame}
    ctx = LoadContext(
        job["system"],
        job.get("kind"),
        f"run-{job['role']}-{job['round']}",
        f"batch-{job['role']}-{job['round']}",
        f"{job['system']}.orders",
        "1",
        dt.datetime.now(dt.UTC),
    )
    started = time.monotonic()
    with write_transaction(engine) as conn:
        source_xact_lock(conn, job["source"])
        locked = time.monotonic()
        if job.get("lock_up_front", True):
            lock_rows(conn, batch_row_ids(frames, job["system"]))
        result = Loader(OWNERSHIP).load(conn, "sales_order", frame, ctx)
    done = time.monotonic()
    return {
        "role": job["role"],
        "round": job["round"],
        "inserted": result.inserted,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "stale": result.stale,
        "wait_s": round(locked - started, 3),
        "load_s": round(done - locked, 3),
        "committed_at": time.time(),
    }


def serve(url: str, jobs: Queue[Any], results: Queue[Any], barrier: Barrier) -> None:
    """Take jobs until None: build the batch, meet the other worker, start after `delay`."""
    get_engine(url).connect().close()
    while (job := jobs.get()) is not None:
        frame = order_frame(job)
        barrier.wait(timeout=120)
        time.sleep(job.get("delay", 0.0))
        try:
            results.put(load_job(url, job, frame))
        except Exception as e:  # reported to the test, which fails with it
            results.put({"role": job["role"], "round": job["round"], "error": f"{type(e)}: {e}"})


def hold_run_lock(url: str, source: str, acquired: Event, release: Connection) -> None:
    """Hold a source's run lock until told on `release` (or until this process is killed).

    A pipe, not an Event: setting an Event whose waiter was killed blocks for ever.
    """
    with source_run_lock(get_engine(url), source, wait=False):
        acquired.set()
        release.poll(120)
