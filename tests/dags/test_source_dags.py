"""Every source DAG parses and runs for real through Airflow (`dag.test()`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from airflow_events import events_by_run
from projects import drop, shop_order, write_source
from sqlalchemy import select

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


def run_every_dag(bag: Any, release: bool = False) -> dict[str, Any]:
    """One real DagRun per source DAG, in order; dag id -> DagRun. With `release`, what
    `make demo` does between DAGs too (our 940s to the 3PL before its 945s arrive)."""
    from omshub_airflow.demo import _before

    runs = {}
    for dag_id in sorted(bag.dag_ids):
        if release:
            _before(dag_id)
        runs[dag_id] = bag.get_dag(dag_id).test()
    return runs


def test_every_source_dag_runs_twice_and_publishes_only_changes(
    airflow_db: None, sqlite_store: str, shipped_project: Path
) -> None:
    from oms.db import get_engine
    from oms.models import SyncRun

    bag = dagbag()
    first = run_every_dag(bag, release=True)
    assert {d: str(r.state) for d, r in first.items()} == dict.fromkeys(first, "success")
    events = events_by_run(first)
    assert "omshub.sales_order" in {name for ev in events.values() for name, _ in ev}
    for dag_id, evs in events.items():
        assert evs, f"{dag_id} loaded the demo data but published nothing"
        for name, extra in evs:
            assert extra["changed"] > 0 and extra["run_id"] == first[dag_id].run_id, (name, extra)
            assert dag_id == f"omshub_source_{extra['source']}"
            assert extra["extracted"] == (
                extra["loaded"] + extra["stale"] + extra["quarantined"] + extra["failed"]
            )

    sent = sorted(p.name for p in shipped_project.glob(".omshub/partners/*/outbox/*"))
    assert [n[:4] for n in sent].count("997_") == 2, sent  # each partner's file answered
    assert any("940" in n for n in sent), sent  # the 940s the demo released to the 3PL
    # the same files again (the demo sources are `mode: full`, the partners' inboxes read
    # each file once): nothing changes, no event
    second = run_every_dag(bag)
    assert {d: str(r.state) for d, r in second.items()} == dict.fromkeys(second, "success")
    assert events_by_run(second) == {dag_id: [] for dag_id in second}
    with get_engine(sqlite_store).connect() as conn:
        t = SyncRun.__table__
        statuses = set(conn.execute(select(t.c.source, t.c.status)).all())
    assert statuses == {(name, "success") for name in sources()}


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
    assert events_by_run({"omshub_source_shop": run}) == {
        "omshub_source_shop": [
            (
                "omshub.sales_order",
                {
                    "source": "shop",
                    "run_id": run.run_id,
                    "run_status": "partial",
                    "entities": ["sales_order"],
                    **{"extracted": 1, "loaded": 1, "changed": 1},
                    **{"stale": 0, "quarantined": 0, "failed": 0},
                },
            )
        ]
    }
    with get_engine(sqlite_store).connect() as conn:
        lb, sr = LandedBatch.__table__, SyncRun.__table__
        assert dict(conn.execute(select(lb.c.original_name, lb.c.status)).all()) == {
            "good.json": "loaded",
            "broken.json": "failed",
        }
        assert conn.execute(select(sr.c.status, sr.c.message)).one() == (
            "partial",
            "shop/orders broken.json: broken.json:1: invalid JSON: lexical error: "
            "invalid string in json text.",
        )


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


def test_an_invalid_schedule_gets_a_failing_dag_naming_the_yaml_line(
    airflow_db: None, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`@hourli` used to build a DAG the scheduler then dropped (an import error naming
    no YAML); now the source is a visible broken DAG whose doc names file and line."""
    home = write_source(tmp_path / "proj")
    path = home / "config/sources/shop.yaml"
    text = path.read_text()
    path.write_text(
        text.replace("schedule: null", "schedule: '@hourli'")
        if "schedule:" in text
        else text + "schedule: '@hourli'\n"
    )
    line = path.read_text().splitlines().index("schedule: '@hourli'") + 1
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    bag = dagbag()
    assert not bag.import_errors, bag.import_errors
    broken = bag.get_dag("omshub_source_shop")
    assert "broken-config" in broken.tags
    assert f"{path}:{line} schedule: unknown schedule preset '@hourli'" in broken.doc_md


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
    from oms.db import get_engine
    from oms.models import SyncRun

    home = write_source(tmp_path / "proj")
    (home / "drop").rmdir()
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    run = dagbag().get_dag("omshub_source_shop").test()
    assert str(run.state) == "failed"
    assert events_by_run({"omshub_source_shop": run}) == {"omshub_source_shop": []}
    with get_engine(sqlite_store).connect() as conn:
        sr = SyncRun.__table__
        status, message = conn.execute(select(sr.c.status, sr.c.message)).one()
    assert status == "failed" and "drop" in message
