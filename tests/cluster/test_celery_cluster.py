"""The source DAGs on a real CeleryExecutor cluster: two workers, Redis, PostgreSQL.

1. An undisturbed DAG run spreads its tasks over both workers and leaves the store exactly
   as the same data loaded in one process (`run_source`) leaves a store of its own.
2. `kill -9` of the worker that is in the middle of a batch (its transaction holds the
   source's lock and has written rows): Airflow notices the silent task within the
   shortened heartbeat timeout, retries it on the surviving worker, the run succeeds, and
   the store is again the one-process store: the killed transaction left nothing behind,
   the retry loaded the batch once.
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
from clusterdata import DAG_ID, FILES, SOURCE, batch_states, business_rows, change_log

pytestmark = [pytest.mark.airflow, pytest.mark.postgres]
RUN_TIMEOUT_S = 150


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
            f"--- task logs\n{cluster.task_logs(DAG_ID, run_id)}"
        ) from e


def assert_same_store(cluster: Cluster, reference: dict[str, Any]) -> None:
    from oms.db import get_engine

    engine = get_engine(cluster.store_url)
    rows = business_rows(engine)
    for table, expected in reference["rows"].items():
        assert rows[table] == expected, f"{table}: the cluster's rows differ from one process's"
    assert sum(map(len, rows.values())) > 2 * FILES, "nothing was loaded"
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
        victim, batch_id = wait_for(
            "a worker in the middle of a batch", lambda: in_the_middle(cluster, run_id), 120, 0.05
        )
        pids = kill_tree(cluster.procs[victim].popen.pid)
        killed_at = time.monotonic()
        wait_for("the killed worker's processes to be gone", lambda: not alive(pids), 10, 0.1)
        cluster.procs[victim].popen.wait(5)
        # the killed transaction committed nothing: the batch is not loaded (until the retry)
        assert store_batch_status(cluster, batch_id) != "loaded", "killed after the batch committed"

        state = cluster.wait_run(DAG_ID, run_id, RUN_TIMEOUT_S, ignore=(victim,))
        assert state == "success"
        tries = cluster.tries(DAG_ID, run_id)
        mine = [t for t in tries if t["rendered_map_index"] == batch_id]
        assert (mine[0]["try_number"], mine[0]["hostname"]) == (1, victim), mine
        assert mine[0]["state"] in ("failed", "up_for_retry"), mine
        (survivor,) = set(WORKERS) - {victim}
        assert (mine[-1]["state"], mine[-1]["hostname"]) == ("success", survivor), mine
        assert len(mine) == 2, f"one retry of the killed try: {mine}"
        recovered = (mine[-1]["start_date"].timestamp() - time.time()) + (
            time.monotonic() - killed_at
        )
        print(f"killed {victim} in {batch_id}; retry started {recovered:.1f} s after the kill")
        assert recovered < HEARTBEAT_TIMEOUT_S + 30
        others = [t for t in tries if t["rendered_map_index"] != batch_id]
        assert {t["state"] for t in others} == {"success"}, others
        assert_same_store(cluster, reference)


def in_the_middle(cluster: Cluster, run_id: str) -> tuple[str, str] | None:
    """(worker, batch id) once a worker's batch transaction holds the source's lock and has
    written rows (it has a transaction id), else None.

    The holding connection's client port names the process, and so the worker, that
    opened it; each worker runs one task at a time, so its running task is the batch.
    """
    from oms.locks import source_key

    key = source_key(SOURCE) & 0xFFFFFFFFFFFFFFFF
    with psycopg.connect(driver_url(cluster.store_url, "postgresql"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
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
                    return (name, running[0]["rendered_map_index"]) if running else None
    return None


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
