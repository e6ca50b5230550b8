"""Loads under concurrency (DESIGN.md §4, "Under concurrency too"), with real processes.

Batches are loaded as the pipeline loads them (`tests/loadworkers.py`): in
`write_transaction`, under `source_xact_lock` and `lock_rows`, by spawned processes that
meet at a barrier so their loads really overlap.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import loadworkers
import pandas as pd
import pgserver
import pytest
from loadworkers import BASE, total, updated
from projects import drop, shop_order, write_source
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from oms.db import get_engine, upgrade
from oms.errors import SourceBusy, StoreBusy
from oms.loader import LoadContext, Loader
from oms.locks import (
    BUCKETS,
    bucket,
    lock_entities,
    lock_rows,
    source_run_lock,
    source_xact_lock,
    write_transaction,
)
from oms.models import BUSINESS_TABLES, Binding, SalesOrder, table
from oms.rowids import batch_row_ids
from omshub.pipeline import run_source

SPAWN = mp.get_context("spawn")
ORDERS = 20_000
ROUNDS = 10
WAITING = "another run of shop is in progress; waiting"


@contextmanager
def workers(url: str, roles: tuple[str, ...]) -> Iterator[tuple[dict[str, Any], Any, Any]]:
    """One spawned loader process per role, fed jobs; they start each job together."""
    barrier = SPAWN.Barrier(len(roles))
    jobs = {role: SPAWN.Queue() for role in roles}
    results = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=loadworkers.serve, args=(url, jobs[r], results, barrier))
        for r in roles
    ]
    for p in procs:
        p.start()
    try:
        yield jobs, results, procs
    finally:
        for q in jobs.values():
            q.put(None)
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()


def run_round(jobs: dict[str, Any], results: Any, batch: list[dict[str, Any]]) -> dict[str, Any]:
    for job in batch:
        jobs[job["role"]].put(job)
    out = {}
    for _ in batch:
        res = results.get(timeout=120)
        assert "error" not in res, res
        out[res["role"]] = res
    return out


def orders(engine: Engine) -> dict[str, dict[str, Any]]:
    t = SalesOrder.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.order_origin == "shop")).mappings()
        return {r["order_number"]: dict(r) for r in rows}


def test_newest_wins_when_older_and_newer_batches_of_20k_orders_race(engine: Engine) -> None:
    """10 rounds per backend: whichever commits first, every order ends with the newer batch."""
    started = time.monotonic()
    older_first = 0
    with workers(engine.url.render_as_string(False), ("older", "newer")) as (jobs, results, _):
        for k in range(1, ROUNDS + 1):
            # alternate the head start, so the older batch commits first in half the rounds
            head = {"older": 0.0, "newer": 0.05} if k % 2 else {"older": 0.05, "newer": 0.0}
            batch = [
                {"source": "shop", "system": "shop", "kind": "channel", "n": ORDERS, "round": k}
                | {"role": role, "delay": head[role]}
                for role in ("older", "newer")
            ]
            res = run_round(jobs, results, batch)
            older, newer = res["older"], res["newer"]
            older_first += older["committed_at"] < newer["committed_at"]
            # the one that loaded second saw the first's commit: stale, or newer over older
            if older["committed_at"] < newer["committed_at"]:
                assert newer["inserted"] + newer["updated"] == ORDERS, res
            else:
                assert older["stale"] == ORDERS, res
            stored = orders(engine)
            assert len(stored) == ORDERS
            wrong = [
                n
                for i, (n, row) in enumerate(sorted(stored.items()))
                if row["grand_total"] != total(i, k, "0.50")
                or row["source_updated_at"] != updated(k, "newer")
                or row["payment_status"] != f"newer-{k}"
            ]
            assert wrong == [], f"round {k}: {len(wrong)} orders kept the older batch"
    print(
        f"\n{engine.dialect.name}: {ROUNDS} rounds of {ORDERS} orders in "
        f"{time.monotonic() - started:.1f} s; the older batch committed first {older_first}x"
    )
    assert 0 < older_first < ROUNDS  # both orders of commit were exercised


def test_two_systems_writing_the_same_orders_keep_each_others_fields(engine: Engine) -> None:
    """A shop and its ERP load the same 5,000 orders at once: inserts, then updates.

    No unique violation when both insert a new order, no lost update of the other's
    fields, and the ERP's total wins (it owns it) whichever commits first.
    """
    race_two_systems(engine, n=5_000, rounds=3, lock_up_front=True)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_row_locks_hold_for_a_caller_that_did_not_lock_up_front(engine: Engine) -> None:
    """`SqlWriter.fetch` reads rows under their locks: the safety net alone is enough."""
    race_two_systems(engine, n=3_000, rounds=2, lock_up_front=False)


def race_two_systems(engine: Engine, n: int, rounds: int, lock_up_front: bool) -> None:
    with workers(engine.url.render_as_string(False), ("shop", "erp")) as (jobs, results, _):
        for k in range(1, rounds + 1):
            common = {"n": n, "round": k, "delay": 0.0, "lock_up_front": lock_up_front}
            batch = [
                {"source": "shop", "system": "shop", "kind": "channel", "role": "shop"} | common,
                {"source": "erp", "system": "erp", "kind": "erp", "role": "erp"} | common,
            ]
            run_round(jobs, results, batch)
            stored = orders(engine)
            assert len(stored) == n
            for i, (number, row) in enumerate(sorted(stored.items())):
                assert (row["payment_status"], row["status"], row["grand_total"]) == (
                    f"paid-{k}",
                    f"erp-{k}",
                    total(i, k, "0.50"),
                ), f"round {k}, order {number}"


def test_the_same_batch_loaded_twice_at_once_leaves_one_loads_store(engine: Engine) -> None:
    """Two runs of one source together: both finish; the second changes nothing."""
    n = 5_000
    with workers(engine.url.render_as_string(False), ("first", "second")) as (jobs, results, _):
        batch = [  # the very same batch, twice
            {"source": "shop", "system": "shop", "kind": "channel", "n": n, "round": 1}
            | {"role": role, "variant": "newer"}
            for role in ("first", "second")
        ]
        res = run_round(jobs, results, batch)
    counts = sorted((r["inserted"], r["updated"], r["unchanged"], r["stale"]) for r in res.values())
    assert counts == [(0, 0, n, 0), (n, 0, 0, 0)], res
    stored = orders(engine)
    assert len(stored) == n
    assert len({row["last_run_id"] for row in stored.values()}) == 1


# --- source locks --------------------------------------------------------------------------


@contextmanager
def holder(url: str, source: str = "shop") -> Iterator[tuple[Any, Callable[[], None]]]:
    """A spawned process holding `source`'s run lock until released (or killed)."""
    acquired = SPAWN.Event()
    keep, release = SPAWN.Pipe()
    proc = SPAWN.Process(target=loadworkers.hold_run_lock, args=(url, source, acquired, keep))
    proc.start()

    def let_go() -> None:
        with contextlib.suppress(OSError):
            release.send(None)

    try:
        assert acquired.wait(60), "the holder never got the lock"
        yield proc, let_go
    finally:
        let_go()
        proc.join(30)


def test_a_second_run_waits_with_a_message_or_is_refused(engine: Engine) -> None:
    url = engine.url.render_as_string(False)
    with holder(url) as (_proc, let_go):
        with (
            pytest.raises(SourceBusy, match="another run of shop is in progress"),
            source_run_lock(engine, "shop", wait=False),
        ):
            pass
        with source_run_lock(engine, "erp", wait=False):  # other sources are free
            pass
        messages: list[str] = []
        threading.Timer(1.0, let_go).start()
        started = time.monotonic()
        with source_run_lock(engine, "shop", wait=True, on_wait=messages.append):
            waited = time.monotonic() - started
    assert messages == [WAITING]
    assert waited >= 0.9


def test_a_run_lock_dies_with_its_process(engine: Engine) -> None:
    with holder(engine.url.render_as_string(False)) as (proc, _release):
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        deadline = time.monotonic() + 10
        while True:  # PostgreSQL ends the dead client's session a moment later
            try:
                with source_run_lock(engine, "shop", wait=False):
                    break
            except SourceBusy:
                assert time.monotonic() < deadline, "the lock outlived its holder"
                time.sleep(0.1)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_batch_of_a_source_waits_for_a_run_of_it(engine: Engine) -> None:
    """An Airflow batch of `shop` waits while a CLI run of `shop` holds it; no self-wait."""
    with holder(engine.url.render_as_string(False)) as (_proc, let_go):
        threading.Timer(1.0, let_go).start()
        started = time.monotonic()
        with write_transaction(engine) as conn:
            source_xact_lock(conn, "shop")
            waited = time.monotonic() - started
    assert waited >= 0.9
    with source_run_lock(engine, "shop"), write_transaction(engine) as conn:
        started = time.monotonic()
        source_xact_lock(conn, "shop")  # the run's own batches do not wait for the run
        assert time.monotonic() - started < 0.5


# --- row locks and the SQLite write lock ---------------------------------------------------


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_lock_rows_blocks_only_batches_touching_the_same_rows(engine: Engine) -> None:
    other = next(f"id-{i}" for i in range(1000) if bucket(f"id-{i}") != bucket("id-a"))
    with write_transaction(engine) as conn:
        assert lock_rows(conn, {"sales_order": ["id-a"]}) == 1
        with write_transaction(engine) as second:
            second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            assert lock_rows(second, {"sales_order": [other], "order_line": ["id-a"]}) == 2
            with pytest.raises(OperationalError, match="lock timeout"):
                lock_rows(second, {"sales_order": ["id-a"]})


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_lock_entities_covers_the_rows_a_chunked_batch_may_write(engine: Engine) -> None:
    """Shipment lines write their own rows and derive their order lines' quantities."""
    with write_transaction(engine) as conn:
        assert lock_entities(conn, ["shipment_line"]) == 2 * BUCKETS
        assert lock_rows(conn, {"order_line": ["id-a"]}) == 1  # already held: no wait
        with write_transaction(engine) as second:
            second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            assert lock_rows(second, {"sales_order": ["id-a"]}) == 1
            with pytest.raises(OperationalError, match="lock timeout"):
                lock_rows(second, {"order_line": ["id-b"]})


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_sqlite_write_transactions_take_the_write_lock_at_begin(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        conn.execute(select(SalesOrder.__table__.c.id)).all()  # a read only
        started = time.monotonic()
        with (
            pytest.raises(StoreBusy, match=r"stayed locked by another writer for 0\.5 s"),
            write_transaction(engine, wait_seconds=0.5),
        ):
            pass
        assert 0.4 < time.monotonic() - started < 5
    with write_transaction(engine, wait_seconds=0.5):  # free again after commit
        pass


def test_batch_row_ids_are_the_ids_the_loader_writes(engine: Engine) -> None:
    """The up-front locks cover exactly the rows a load writes, identity filled as it is."""
    at = BASE
    frames = {
        "sales_order": pd.DataFrame(
            [
                {"order_number": "1001", "customer_email": "A@x.com", "grand_total": Decimal(5)}
                | {"_external_id": "o1", "_updated_at": at, "_record": 0},
                {"order_number": "1002", "customer_email": None, "grand_total": Decimal(7)}
                | {"_external_id": "o2", "_updated_at": at, "_record": 1},
            ],
            dtype=object,
        ),
        "order_line": pd.DataFrame(
            [
                {"order_number": "1001", "line_no": 1, "sku": "S1", "qty_ordered": Decimal(1)}
                | {"_external_id": "l1", "_updated_at": at, "_record": 0},
            ],
            dtype=object,
        ),
    }
    ids = batch_row_ids(frames, "shop")
    ctx = LoadContext("shop", "channel", "r1", "b1", "shop.orders", "1", at)
    with write_transaction(engine) as conn:
        lock_rows(conn, ids)
        for entity, frame in frames.items():
            Loader().load(conn, entity, frame, ctx)
    with engine.connect() as conn:
        for entity in ("sales_order", "order_line"):
            t = BUSINESS_TABLES[entity].__table__  # type: ignore[attr-defined]
            assert sorted(conn.execute(select(t.c.id)).scalars()) == ids[entity]


# --- whole runs through the CLI ------------------------------------------------------------

OMSHUB = Path(sys.executable).parent / "omshub"
RUN_NAMING = {"last_run_id", "last_batch_id", "created_run_id", "created_batch_id"}
PROVENANCE = RUN_NAMING | {"created_at", "updated_at", "bound_at"}


def store_state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Orders and bindings, without the columns that name a run or a wall-clock time."""
    engine = create_engine(url, poolclass=NullPool)
    out = {}
    with engine.connect() as conn:
        for t in (table(SalesOrder), table(Binding)):
            cols = [c for c in t.columns if c.name not in PROVENANCE and c.name != "id"]
            out[t.name] = sorted(tuple(r) for r in conn.execute(select(*cols)))
    engine.dispose()
    return out


def run_cli(home: Path, url: str, landing: Path, *args: str) -> subprocess.Popen[str]:
    env = os.environ | {
        "OMSHUB_HOME": str(home),
        "OMSHUB_DATABASE_URL": url,
        "OMSHUB_LANDING_DIR": str(landing),
        "OMSHUB_LOG_DIR": str(home / "logs"),
    }
    return subprocess.Popen(
        [str(OMSHUB), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_cli_runs_of_one_source_started_together_leave_one_runs_store(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both exit 0 (the later one waits, saying so); the store is a single run's."""
    home = write_source(tmp_path / "proj")
    orders_ = [
        shop_order(i, f"A{i:05d}", total=f"{i}.25", updated_at="2026-11-20T10:00:00Z")
        for i in range(500)
    ]
    drop(home, "orders.json", orders_)
    runs = [run_cli(home, store_url, tmp_path / "landing", "run", "shop") for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in runs]
    for p, (out, err) in zip(runs, outs, strict=True):
        assert p.returncode == 0, (out, err)
        assert "Traceback" not in out + err
    # usually one waits for the other; when start-up times differ by more than a run, none
    assert sum("another run of shop is in progress; waiting" in err for _, err in outs) <= 1

    reference = pgserver.create_database() if "postgresql" in store_url else None
    ref_url = reference or f"sqlite:///{tmp_path / 'reference.db'}"
    try:
        upgrade(ref_url)
        monkeypatch.setenv("OMSHUB_HOME", str(home))
        monkeypatch.setenv("OMSHUB_LANDING_DIR", str(tmp_path / "ref-landing"))
        assert run_source("shop", engine=get_engine(ref_url)).ok
        assert store_state(store_url) == store_state(ref_url)
    finally:
        if reference:
            get_engine(reference).dispose()
            pgserver.drop_database(reference)
