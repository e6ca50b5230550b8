"""A source's `conn_id` read from Airflow's own connection store inside a real task.

The demo's Salesforce source is a REST source whose connection the test session puts in
the environment (AIRFLOW_CONN_SALESFORCE_DEMO). Here it is moved into Airflow's metadata
DB instead, as an operator would add it (`airflow connections add`), and the DAG runs
through `dag.test()`: the task resolves the connection through the Task SDK.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.airflow
ROOT = Path(__file__).resolve().parents[2]
ENV = "AIRFLOW_CONN_SALESFORCE_DEMO"


def test_a_rest_source_reads_its_connection_from_airflow_inside_a_task(
    airflow_db: None, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    from oms.db import get_engine
    from oms.models import Customer, SyncRun

    uri = os.environ[ENV]  # served by the session's demo emulator (tests/conftest.py)
    monkeypatch.delenv(ENV)
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("omshub_source_salesforce_crm")
    assert dag is not None
    assert str(dag.test().state) == "failed"  # no connection anywhere: the control
    with create_session() as session:
        old = session.scalars(select(Connection).where(Connection.conn_id == "salesforce_demo"))
        for row in old:
            session.delete(row)
        session.add(Connection(conn_id="salesforce_demo", uri=uri))
    try:
        run = dag.test()
        assert str(run.state) == "success"
    finally:
        with create_session() as session:
            for row in session.scalars(
                select(Connection).where(Connection.conn_id == "salesforce_demo")
            ):
                session.delete(row)
    with get_engine(sqlite_store).connect() as conn:
        customers = conn.execute(select(func.count()).select_from(Customer.__table__)).scalar()
        last = conn.execute(
            select(SyncRun.__table__.c.status).order_by(SyncRun.__table__.c.started_at.desc())
        ).first()
    assert last is not None and last[0] == "success"
    assert customers == 12
