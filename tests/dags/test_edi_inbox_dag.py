"""A trading partner's inbox is a DAG of its own (`omshub_source_edi_<partner>`): a real
Airflow run reads the partner's folder, loads its 850s, delivers the 997 to the partner's
outbox and publishes the changed entities; the same file again changes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from airflow_events import events_by_run
from edi_projects import SAMPLE_850, acme_partner, edi_project
from sqlalchemy import func, select

pytestmark = pytest.mark.airflow
ROOT = Path(__file__).resolve().parents[2]


def test_the_partner_inbox_dag_loads_acknowledges_and_publishes_once(
    asset_consumers: Callable[[], set[str]],
    sqlite_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from oms.db import get_engine
    from oms.models import SalesOrder

    partner = acme_partner("partners/acme/in", "partners/acme/out", "*.x12")
    home = edi_project(tmp_path / "proj", {"acme_retail": partner})
    (home / "partners/acme/in").mkdir(parents=True)
    shutil.copy(SAMPLE_850, home / "partners/acme/in/po.x12")
    monkeypatch.setenv("OMSHUB_HOME", str(home))

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("omshub_source_edi_acme_retail")
    assert dag is not None and "edi" in dag.tags
    first = dag.test()
    assert str(first.state) == "success"
    events = events_by_run({dag.dag_id: first})[dag.dag_id]
    assert "omshub.sales_order" in {name for name, _ in events}  # a consumer watches it
    assert "consume_sales_order" in asset_consumers()
    with get_engine(sqlite_store).connect() as conn:
        orders = conn.execute(select(func.count()).select_from(SalesOrder.__table__)).scalar()
    assert orders == 3
    delivered = sorted((home / "partners/acme/out").iterdir())
    assert [p.name[:4] for p in delivered] == ["997_"]
    assert b"AK9*A*3*3*3" in delivered[0].read_bytes()

    second = dag.test()  # the same file: read once, nothing changes, nothing is published
    assert str(second.state) == "success"
    assert events_by_run({dag.dag_id: second}) == {dag.dag_id: []}
    assert len(list((home / "partners/acme/out").iterdir())) == 1
