"""The source DAGs on a real CeleryExecutor cluster: two workers, Redis, PostgreSQL.

1. An undisturbed DAG run spreads its tasks over both workers and leaves the store exactly
   as the same data loaded in one process (`run_source`) leaves a store of its own.
2. `kill -9` of the worker (every process of it) that is in the middle of a batch: its
   transaction holds the source's lock and has written rows, and cannot commit because
   the test holds the landed batches' rows locked (as any other transaction might), so
   the kill lands before the commit however fast loading gets. Airflow notices the silent
   task within the shortened heartbeat timeout, retries it on the surviving worker, the
   run succeeds, and the store is again the one-process store: the killed transaction
   left nothing behind, the retry loaded the batch once.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

import psutil
import psycopg
import pytest
from cluster import (
    HEARTBEAT_TIMEOUT_S,
    WORKERS,
    Cluster,
    ClusterError,
    driver_url,
    kill_tree,
    tree,
    wait_for,
)
from clusterdata import (
    DAG_ID,
    FILES,
    ORDERS_PER_FILE,
    SOURCE,
    batch_states,
    business_rows,
    change_log,
)

pytestmark = [pytest.mark.airflow, pytest.mark.postgres]
#: a ceiling for a loaded CI machine; a quiet 2-core machine needs about a third
RUN_TIMEOUT_S = 300


def fresh_store(url: str) -> None:
    """Empty the cluster's store (every table gone, then migrated again)."""
    from oms.db import get_engine, upgrade

    get_engine(url).dispose()
    with psycopg.connect(driver_url(url, "postgresql"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade(url)


@contextlib.contextmanager
def explained(cluster: Cluster, run_id: str) -> Iterator[None]:
    """On failure, add every try, the processes' logs and the task logs to the message."""
    try:
        yield
    except (AssertionError, ClusterError) as e:
        tries = "\n".join(str(t) for t in cluster.tries(DAG_ID, run_id))
        raise AssertionError(
            f"{e}\n--- tries\n{tries}\n--- processes\n{cluster.logs()}\n"
            f"--- task logs\n{cluster.task_logs(DAG_ID, run_id)}\n--- failure: {e}"
        ) from e


def assert_same_store(cluster: Cluster, reference: dict[str, Any]) -> None:
    from oms.db import get_engine

    engine = get_engine(cluster.store_url)
    rows = business_rows(engine)
    for table, expected in reference["rows"].items():
        if rows[table] != expected:
            only_here = sorted(set(rows[table]) - set(expected), key=str)[:3]
            only_there = sorted(set(expected) - set(rows[table]), key=str)[:3]
            raise AssertionError(
                f"{table}: {len(rows[table])} rows on the cluster, {len(expected)} in one "
                f"process; only on the cluster: {only_here}; only in one process: {only_there}"
            )
    assert len(rows["sales_order"]) == FILES * ORDERS_PER_FILE, "not every order was loaded"
    assert change_log(engine) == reference["changes"], "the change logs differ"
    assert batch_states(engine) == reference["batches"]
    assert {s for s, _ in reference["batches"].values()} == {"loaded"}


def ensure_workers(cluster: Cluster) -> None:
    """Both workers up (a previous test may have killed one)."""
    for name in WORKERS:
        if cluster.procs[name].popen.poll() is not None:
            log = cluster.start_worker(name).log
            wait_for(f"worker {name} ready again", lambda: b" ready." in log.read_bytes(), 60)


def test_source_dag_spreads_over_both_workers_and_loads_what_one_process_does(
    cluster: Cluster, reference: dict[str, Any]
) -> None:
    ensure_workers(cluster)
    fresh_store(cluster.store_url)
    run_id = f"plain__{secrets.token_hex(4)}"
    t0 = time.monotonic()
    cluster.trigger(DAG_ID, run_id)
    with explained(cluster, run_id):
        state = cluster.wait_run(DAG_ID, run_id, RUN_TIMEOUT_S)
        print(
            f"cluster run: {time.monotonic() - t0:.1f} s; in one process {reference['seconds']:.1f} s"
        )
        assert state == "success"
        tries = cluster.tries(DAG_ID, run_id)
        assert {t["state"] for t in tries} == {"success"}
        assert [t["try_number"] for t in tries] == [1] * len(tries), "nothing was retried"
        loads = [t for t in tries if t["task_id"] == "map_validate_load"]
        assert len(loads) == FILES, "one mapped task per landed file"
        assert {t["hostname"] for t in tries} == set(WORKERS), "tasks ran on both workers"
        assert_same_store(cluster, reference)


def test_kill_9_of_a_worker_mid_batch_is_retried_elsewhere_and_loses_nothing(
    cluster: Cluster, reference: dict[str, Any]
) -> None:
    ensure_workers(cluster)
    fresh_store(cluster.store_url)
    run_id = f"kill__{secrets.token_hex(4)}"
    cluster.trigger(DAG_ID, run_id)
    with explained(cluster, run_id):
        with batches_cannot_commit(cluster, run_id):
            victim, batch_id, where = wait_for(
                "a worker in the middle of a batch",
                lambda: in_the_middle(cluster, run_id),
                RUN_TIMEOUT_S,
                0.05,
                explain=lambda: store_activity(cluster),
            )
            pids = kill_tree(cluster.procs[victim].popen.pid)
            killed_at = time.monotonic()
            wait_for("the killed worker's processes to be gone", lambda: not alive(pids), 10, 0.1)
        cluster.procs[victim].popen.wait(5)
        # the killed transaction committed nothing: the batch is not loaded (until the retry)
        assert store_batch_status(cluster, batch_id) == "landed"

        state = cluster.wait_run(DAG_ID, run_id, RUN_TIMEOUT_S, ignore=(victim,))
        assert state == "success"
        tries = cluster.tries(DAG_ID, run_id)
        mine = [t for t in tries if t["rendered_map_index"] == batch_id]
        assert (mine[0]["try_number"], mine[0]["hostname"]) == (1, victim), mine
        assert mine[0]["state"] in ("failed", "up_for_retry"), mine
        (survivor,) = set(WORKERS) - {victim}
        assert (mine[-1]["state"], mine[-1]["hostname"]) == ("success", survivor), mine
        assert len(mine) == 2, f"one retry of the killed try: {mine}"
        # the shortened heartbeat timeout noticed the dead try within seconds; its retry
        # then waited for the survivor's free slot (one task at a time)
        since_kill = time.monotonic() - killed_at
        noticed = mine[0]["end_date"].timestamp() - time.time() + since_kill
        retried = mine[-1]["start_date"].timestamp() - time.time() + since_kill
        print(
            f"killed {victim} {where} of {batch_id}; try 1 failed {noticed:.1f} s and the "
            f"retry started {retried:.1f} s after the kill"
        )
        assert noticed < HEARTBEAT_TIMEOUT_S + 30, "the dead try went unnoticed for too long"
        others = [t for t in tries if t["rendered_map_index"] != batch_id]
        assert {t["state"] for t in others} == {"success"}, others
        assert_same_store(cluster, reference)


@contextlib.contextmanager
def batches_cannot_commit(cluster: Cluster, run_id: str) -> Iterator[None]:
    """Hold row locks on the run's landed batches, taken once `extract_and_land` succeeded.

    A batch transaction then writes all its chunks and waits to mark its batch `loaded`
    (as it would behind any other transaction holding the row), so a worker is caught
    between its first write and its commit however fast loading has become. The locks go
    when the block ends, and the surviving worker's batches go on.
    """

    def extracted() -> bool:
        ti = cluster.query(
            "SELECT state FROM task_instance WHERE dag_id = %s AND run_id = %s"
            " AND task_id = 'extract_and_land'",
            DAG_ID, run_id,
        )  # fmt: skip
        if ti and ti[0]["state"] in ("failed", "up_for_retry", "upstream_failed"):
            raise ClusterError(f"extract_and_land is {ti[0]['state']}")
        return bool(ti) and ti[0]["state"] == "success"

    wait_for("extract_and_land to succeed", extracted, 120, 0.05)
    with psycopg.connect(driver_url(cluster.store_url, "postgresql")) as conn:
        rows = conn.execute("SELECT status FROM landed_batch FOR UPDATE").fetchall()
        assert [r[0] for r in rows] == ["landed"] * FILES, "a batch finished before the lock"
        yield
        conn.rollback()


def in_the_middle(cluster: Cluster, run_id: str) -> tuple[str, str, str] | None:
    """(worker, batch id, where) once a worker's batch transaction holds the source's lock
    and has written rows (it has a transaction id), else None; `where` says whether it was
    still loading chunks or done and waiting to commit.

    The holding connection's client port names the process, and so the worker, that
    opened it; each worker runs one task at a time, so its running task is the batch.
    """
    from oms.locks import source_key

    key = source_key(SOURCE) & 0xFFFFFFFFFFFFFFFF
    with psycopg.connect(driver_url(cluster.store_url, "postgresql"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.client_port, a.wait_event_type FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid = %s::oid AND l.objid = %s::oid AND a.backend_xid IS NOT NULL"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (key >> 32, key & 0xFFFFFFFF),
        ).fetchone()
    if row is None:
        return None
    for name in WORKERS:
        for proc in tree(cluster.procs[name].popen.pid):
            with contextlib.suppress(psutil.Error):
                if any(c.laddr.port == row[0] for c in proc.net_connections("tcp")):
                    running = cluster.query(
                        "SELECT rendered_map_index FROM task_instance WHERE dag_id = %s"
                        " AND run_id = %s AND task_id = 'map_validate_load' AND state = 'running'"
                        " AND hostname = %s",
                        DAG_ID, run_id, name,
                    )  # fmt: skip
                    if not running:
                        return None
                    where = "waiting to commit" if row[1] == "Lock" else "loading chunks"
                    return name, running[0]["rendered_map_index"], where
    return None


def store_activity(cluster: Cluster) -> str:
    """The store's sessions: state, wait, transaction id and query (why no batch was seen)."""
    with psycopg.connect(driver_url(cluster.store_url, "postgresql"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, client_port, state, wait_event_type, wait_event, backend_xid,"
            " left(query, 120) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return "store sessions:\n" + "\n".join(map(str, rows))


def alive(pids: list[int]) -> list[int]:
    """The pids still running (a zombie has died; its parent has not reaped it yet)."""
    out = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
    return out


def store_batch_status(cluster: Cluster, batch_id: str) -> str | None:
    with psycopg.connect(driver_url(cluster.store_url, "postgresql")) as conn:
        row = conn.execute(
            "SELECT status FROM landed_batch WHERE batch_id = %s", (batch_id,)
        ).fetchone()
    return row[0] if row else None
