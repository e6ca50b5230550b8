"""Every source DAG parses and runs for real through Airflow (`dag.test()`)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from projects import drop, shop_order, write_source
from sqlalchemy import func, select

from omshub.config import sources

pytestmark = pytest.mark.airflow
ROOT = Path(__file__).resolve().parents[2]


def dagbag(folder: Path = ROOT / "dags"):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


def test_dags_parse_quickly_one_per_source(airflow_db: None) -> None:
    t0 = time.monotonic()
    bag = dagbag()
    elapsed = time.monotonic() - t0
    assert not bag.import_errors, bag.import_errors
    assert set(bag.dag_ids) == {f"omshub_source_{name}" for name in sources()}
    assert elapsed < 10, f"parsing took {elapsed:.1f}s"
    dag = bag.get_dag("omshub_source_shopify")
    assert [t.task_id for t in dag.tasks] == [
        "extract_and_land",
        "map_validate_load",
        "publish",
        "check_run",
    ]
    # the only leaf decides the DagRun's state; publish emits through an alias, never statically
    assert [t.task_id for t in dag.leaves] == ["check_run"]
    assert [a.name for a in dag.get_task("publish").outlets] == ["omshub.source.shopify"]
    assert "`omshub.sales_order`" in (dag.doc_md or "")


def test_every_source_dag_runs_and_publishes_assets(airflow_db: None, sqlite_store: str) -> None:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    from oms.db import get_engine
    from oms.models import SyncRun

    bag = dagbag()
    states = {}
    for dag_id in sorted(bag.dag_ids):
        run = bag.get_dag(dag_id).test()
        states[dag_id] = str(run.state)
    assert set(states.values()) == {"success"}, states
    with get_engine(sqlite_store).connect() as conn:
        t = SyncRun.__table__
        runs = dict(conn.execute(select(t.c.source, t.c.status)).all())
        assert runs == dict.fromkeys(sources(), "success")
    with create_session() as session:
        uris = {
            e.uri for e in session.scalars(select(AssetEvent)).all() if getattr(e, "uri", None)
        } or {e.asset.uri for e in session.scalars(select(AssetEvent)).all()}
        events = session.scalar(select(func.count()).select_from(AssetEvent))
    assert events and "omshub://store/sales_order" in uris


def test_a_failed_batch_fails_the_dag_run(
    airflow_db: None, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.db import get_engine
    from oms.models import LandedBatch, SyncRun

    home = write_source(tmp_path / "proj")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    drop(home, "good.json", [shop_order(1, "A1")])
    (home / "drop" / "broken.json").write_text("{not json")
    run = dagbag().get_dag("omshub_source_shop").test()
    assert str(run.state) == "failed"
    with get_engine(sqlite_store).connect() as conn:
        lb, sr = LandedBatch.__table__, SyncRun.__table__
        assert dict(conn.execute(select(lb.c.original_name, lb.c.status)).all()) == {
            "good.json": "loaded",
            "broken.json": "failed",
        }
        assert conn.execute(select(sr.c.status)).scalar() == "failed"


def test_a_broken_source_yaml_gets_a_failing_dag_and_spares_the_others(
    airflow_db: None, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = write_source(tmp_path / "proj")
    (home / "config/sources/bad.yaml").write_text("name: bad\nsystem: x\nkind: spaceship\n")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    bag = dagbag()
    assert not bag.import_errors
    assert set(bag.dag_ids) == {"omshub_source_shop", "omshub_source_bad"}
    broken = bag.get_dag("omshub_source_bad")
    assert "broken-config" in broken.tags and "kind" in broken.doc_md
    assert str(broken.test().state) == "failed"


def test_dag_file_parse_stays_light() -> None:
    """Parsing must not pull in pandas or great-expectations (seconds each, per parse)."""
    import subprocess
    import sys

    code = (
        "import importlib.util, sys, time\n"
        "t = time.monotonic()\n"
        f"spec = importlib.util.spec_from_file_location('d', {str(ROOT / 'dags' / 'omshub_sources.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(sorted(k for k in ('pandas', 'great_expectations', 'lxml.etree') if k in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_failed_extract_fails_the_dag_run(
    airflow_db: None, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = write_source(tmp_path / "proj")
    (home / "drop").rmdir()
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    run = dagbag().get_dag("omshub_source_shop").test()
    assert str(run.state) == "failed"
