"""Fixtures of the cluster tests: a Redis broker, PostgreSQL databases, the running cluster.

Redis comes from `redisserver` (the env's, the local one, or a private server); each
cluster uses a queue of its own, so two test sessions sharing one Redis never take each
other's tasks.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import clusterdata  # noqa: E402
import pgserver  # noqa: E402
import redisserver  # noqa: E402
from cluster import Cluster, ClusterError  # noqa: E402


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis broker URL (`redisserver.redis_url`); fails, never skips, when there is none."""
    try:
        with redisserver.redis_url() as url:
            yield url
    except ClusterError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cluster") / "proj"
    return clusterdata.write_project(home, clusterdata.FILES, clusterdata.ORDERS_PER_FILE)


@pytest.fixture(scope="module")
def reference(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The same data loaded in one process (`run_source`) into a store of its own."""
    from oms.db import get_engine, upgrade
    from omshub.pipeline import run_source

    url = pgserver.create_database("omshub_ref")
    env = {
        "OMSHUB_HOME": str(project),
        "OMSHUB_DATABASE_URL": url,
        "OMSHUB_LANDING_DIR": str(tmp_path_factory.mktemp("ref-landing")),
        "OMSHUB_CHUNK_RECORDS": str(clusterdata.CHUNK_RECORDS),
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        upgrade(url)
        t0 = time.monotonic()
        report = run_source(clusterdata.SOURCE, trigger="reference")
        seconds = time.monotonic() - t0
        assert report.status == "success", report.errors
        engine = get_engine(url)
        yield {
            "rows": clusterdata.business_rows(engine),
            "changes": clusterdata.change_log(engine),
            "batches": clusterdata.batch_states(engine),
            "seconds": seconds,
        }
        engine.dispose()
    pgserver.drop_database(url)


@pytest.fixture(scope="module")
def cluster(
    project: Path, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """The running cluster; its process logs are printed when starting it fails."""
    from oms.db import upgrade

    meta_url = pgserver.create_database("omshub_airflow")
    store_url = pgserver.create_database("omshub_store")
    upgrade(store_url)
    home = tmp_path_factory.mktemp("airflow-home")
    c = Cluster(home, project, meta_url, store_url, redis_url, clusterdata.CHUNK_RECORDS)
    try:
        try:
            t0 = time.monotonic()
            c.start(clusterdata.DAG_ID)
            print(f"cluster up in {time.monotonic() - t0:.1f} s (home {home})")
        except (ClusterError, subprocess.TimeoutExpired) as e:
            pytest.fail(f"the cluster did not start: {e}\n{c.logs()}")
        yield c
    finally:
        c.stop()
        from oms.db import get_engine

        get_engine(store_url).dispose()
        for url in (meta_url, store_url):
            with contextlib.suppress(Exception):
                pgserver.drop_database(url)
