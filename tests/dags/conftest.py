"""Fixtures for real Airflow DAG runs: one metadata DB per session, asset consumers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh Airflow metadata DB (SQLite in a temp AIRFLOW_HOME set by tests/conftest.py).

    Reset once per session: the first `dag.test()` of a process costs seconds, later ones
    well under one, so every DAG test shares this DB and tells its runs apart by run id.
    """
    from airflow.utils.db import resetdb

    resetdb()


CONSUMERS = """
import datetime as dt

from airflow.sdk import DAG, task
from omshub_airflow.factory import asset_for

for entity in ENTITIES:
    with DAG(
        f"consume_{entity}",
        schedule=[asset_for(entity)],
        start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        is_paused_upon_creation=False,
    ) as dag:

        @task
        def refresh() -> None:
            return None  # stands for the downstream work (stock roll-up, outbound feed)

        refresh()
    globals()[dag.dag_id] = dag
"""


@pytest.fixture
def asset_consumers(airflow_db: None, tmp_path: Path) -> Callable[[], set[str]]:
    """Unpaused DAGs scheduled on `omshub.sales_order` and `omshub.customer`, as a
    downstream team would write them; returns a reader of the consumers queued to run.

    A scheduler would start a queued consumer (`dags test` never does): a row in
    asset_dag_run_queue is what proves an event reached the Asset consumers watch.
    """
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.asset import AssetDagRunQueue
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    folder = tmp_path / "consumers"
    folder.mkdir()
    (folder / "consumers.py").write_text(
        CONSUMERS.replace("ENTITIES", repr(("sales_order", "customer")))
    )
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    with create_session() as session:
        if session.get(DagBundleModel, "consumers") is None:
            session.add(DagBundleModel(name="consumers"))
        session.execute(delete(AssetDagRunQueue))
    sync_bag_to_db(bag, "consumers", None)

    def queued() -> set[str]:
        with create_session() as session:
            return set(session.scalars(select(AssetDagRunQueue.target_dag_id)))

    return queued
