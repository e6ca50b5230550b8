"""Failure semantics under real Airflow DAG runs (`dag.test()`), issue 9 item 1.

A source with one good and one poisoned file: the good file loads, the DagRun fails, the
poisoned batch's task fails without Airflow retries, Asset events go out only for entities
whose rows changed (with the counts in `extra`), `omshub stats --json` shows the failure,
and the next run retries the failed batch only.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from projects import drop, shop_order, write_source
from sqlalchemy import Engine, func, select

from oms.models import LandedBatch, RunStat, SalesOrder, table

pytestmark = pytest.mark.airflow
ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "omshub_source_shop"


def shop_project(home: Path, mode: str = "incremental") -> Path:
    """The tiny shop source with a second stream (customers), so that a poisoned file
    of one entity can sit beside a good file of another. Airflow may retry twice: a data
    error must still fail at once; a batch is parked after two failed attempts."""
    write_source(home)
    (home / "config/sources/shop.yaml").write_text(
        textwrap.dedent(f"""\
        name: shop
        system: shop
        kind: channel
        connector: {{type: local_folder, path: drop}}
        mode: {mode}
        retries: 2
        retry_delay_seconds: 0
        max_batch_attempts: 2
        streams:
          - name: orders
            pattern: "orders_*.json"
            format: {{type: json, records_path: orders}}
            mapping: shop/orders.yaml
          - name: customers
            pattern: "customers_*.json"
            format: {{type: json, records_path: customers}}
            mapping: shop/customers.yaml
        """)
    )
    (home / "mappings/shop/customers.yaml").write_text(
        textwrap.dedent("""\
        mapping: shop.customers
        version: 1
        entity: customer
        external_id: id
        fields:
          email: {path: email, transforms: [strip, lower], required: true}
          first_name: first_name
        """)
    )
    return home


def dag_run(home: Path) -> Any:
    """One real DagRun of the shop source, parsed from the DAG folder as the scheduler does."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(DAG_ID).test()


def task_states(run_id: str) -> dict[tuple[str, str], tuple[str, int]]:
    """(task id, rendered map index = batch id) -> (state, try number) of one DagRun."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as s:
        tis = s.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == run_id)
        ).all()
        return {
            (ti.task_id, ti.rendered_map_index or ""): (str(ti.state), ti.try_number) for ti in tis
        }


def asset_events(run_id: str) -> dict[str, dict[str, Any]]:
    """Asset name -> extra of the events one DagRun emitted, as consumers see them."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as s:
        events = s.scalars(
            select(AssetEvent).where(
                AssetEvent.source_dag_id == DAG_ID, AssetEvent.source_run_id == run_id
            )
        ).all()
        out = {e.asset.name: dict(e.extra) for e in events}
        assert len(out) == len(events), "one event per asset"
        return out


def alias_targets(alias: str) -> dict[str, str]:
    """Asset name -> uri the alias resolved to (what consumers of the named Asset watch)."""
    from airflow.models.asset import AssetAliasModel
    from airflow.utils.session import create_session

    with create_session() as s:
        model = s.scalars(select(AssetAliasModel).where(AssetAliasModel.name == alias)).one()
        return {a.name: a.uri for a in model.assets}


def batches(engine: Engine) -> dict[str, dict[str, Any]]:
    """Original file name -> the landed batch rows of that name (latest last)."""
    lb = table(LandedBatch)
    with engine.connect() as conn:
        rows = conn.execute(select(lb).order_by(lb.c.landed_at)).mappings().all()
    return {r["original_name"]: dict(r) for r in rows}


def batch_ids_of_run(engine: Engine, run_id: str) -> set[str]:
    rs = table(RunStat)
    with engine.connect() as conn:
        return set(conn.execute(select(rs.c.batch_id).where(rs.c.run_id == run_id)).scalars())


def cli_stats() -> dict[str, Any]:
    """`omshub stats --json`, through the real CLI app in this process."""
    from typer.testing import CliRunner

    from omshub.cli import app

    result = CliRunner().invoke(app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_good_and_poisoned_file_one_dag_run_then_only_the_failed_batch_again(
    asset_consumers: Callable[[], set[str]],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = shop_project(tmp_path / "proj")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    drop(home, "orders_1.json", [shop_order(1, "A1", total="10"), shop_order(2, "A2")])
    (home / "drop/customers_1.json").write_text('{"customers": [{"id": 7, "email": ')

    # run 1: the good file loads, the poisoned one fails, the DagRun fails
    run = dag_run(home)
    assert str(run.state) == "failed"
    found = batches(engine)
    good, poison = found["orders_1.json"], found["customers_1.json"]
    assert (good["status"], poison["status"]) == ("loaded", "failed")
    assert "customers_1.json" in poison["message"] and poison["attempts"] == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table(SalesOrder))).scalar() == 2
    states = task_states(run.run_id)
    # a data error is not retried although the source allows 2 Airflow retries
    assert states[("map_validate_load", poison["batch_id"])] == ("failed", 1)
    assert states[("map_validate_load", good["batch_id"])] == ("success", 1)
    assert states[("publish", "")][0] == "success"
    assert states[("check_run", "")] == ("failed", 1)
    # events: the changed entity only, counts in extra; none for the failed customer batch
    events = asset_events(run.run_id)
    assert set(events) == {"omshub.sales_order"}
    assert events["omshub.sales_order"] == {
        "source": "shop",
        "run_id": run.run_id,
        "run_status": "partial",
        "entities": ["sales_order"],
        "extracted": 2,
        "loaded": 2,
        "changed": 2,
        "stale": 0,
        "quarantined": 0,
        "failed": 0,
    }
    assert asset_consumers() == {"consume_sales_order"}  # a scheduler would start it
    # the alias resolved to the named asset (earlier tests' runs may have added others)
    assert alias_targets("omshub.source.shop")["omshub.sales_order"] == "omshub://store/sales_order"
    # stats --json: the failure and its message, the batch waiting for the next run
    shop = cli_stats()["sources"]["shop"]
    assert shop["last_run"]["run_id"] == run.run_id
    assert shop["last_run"]["status"] == "partial"
    assert "customers_1.json" in shop["last_run"]["message"]
    assert shop["attention"] == {"failed": 1, "dead": 0}
    assert shop["last_success"] is None

    # run 2, poison still there: only the failed batch is processed, fails again, is parked
    run2 = dag_run(home)
    assert str(run2.state) == "failed"
    mapped = {k[1]: v for k, v in task_states(run2.run_id).items() if k[0] == "map_validate_load"}
    assert mapped == {poison["batch_id"]: ("failed", 1)}
    assert batch_ids_of_run(engine, run2.run_id) == {poison["batch_id"]}
    assert asset_events(run2.run_id) == {}
    assert asset_consumers() == {"consume_sales_order"}
    assert batches(engine)["customers_1.json"]["status"] == "dead"
    shop = cli_stats()["sources"]["shop"]
    assert shop["last_run"]["status"] == "failed" and shop["attention"]["dead"] == 1

    # run 3, the file fixed: its new content loads, the parked batch is left alone
    (home / "drop/customers_1.json").write_text(
        json.dumps({"customers": [{"id": 7, "email": "Ann@Example.com", "first_name": "Ann"}]})
    )
    run3 = dag_run(home)
    assert str(run3.state) == "success"
    fixed = batches(engine)["customers_1.json"]
    assert fixed["batch_id"] != poison["batch_id"] and fixed["status"] == "loaded"
    assert batch_ids_of_run(engine, run3.run_id) == {fixed["batch_id"]}
    events = asset_events(run3.run_id)
    assert set(events) == {"omshub.customer"}
    assert events["omshub.customer"]["changed"] == 1
    assert events["omshub.customer"]["run_status"] == "success"
    assert asset_consumers() == {"consume_sales_order", "consume_customer"}
    assert cli_stats()["sources"]["shop"]["last_success"]["run_id"] == run3.run_id


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_run_that_changes_nothing_succeeds_and_emits_no_event(
    airflow_db: None,
    sqlite_store: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    home = shop_project(tmp_path / "proj", mode=mode)
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    drop(home, "orders_1.json", [shop_order(1, "A1")])
    first = dag_run(home)
    assert str(first.state) == "success"
    assert asset_events(first.run_id)["omshub.sales_order"]["changed"] == 1

    again = dag_run(home)
    assert str(again.state) == "success"
    assert asset_events(again.run_id) == {}
    mapped = {
        k[1]: v[0] for k, v in task_states(again.run_id).items() if k[0] == "map_validate_load"
    }
    if mode == "full":  # the file is processed again and changes nothing
        assert list(mapped.values()) == ["success"]
    else:  # nothing new: the mapped task expands to nothing
        assert mapped == {"": "skipped"}


def test_airflow_retries_only_what_may_succeed_on_retry() -> None:
    """Error families onto Airflow: retriable failures propagate (Airflow retries them),
    config and data failures become AirflowFailException (no retry) with their reason."""
    from airflow.sdk.exceptions import AirflowFailException
    from omshub_airflow.factory import _airflow_errors

    from oms.errors import BatchFailed, ConfigError, RetriableError

    def raises(e: Exception) -> Any:
        def fn() -> None:
            raise e

        return fn

    transient = BatchFailed(
        "shop/orders a.json: connection reset", kind="transport", retriable=True
    )
    with pytest.raises(BatchFailed) as kept:
        _airflow_errors(raises(transient))
    assert kept.value is transient
    with pytest.raises(RetriableError):
        _airflow_errors(raises(RetriableError("sftp down")))
    bad = BatchFailed("shop/orders a.json:3: invalid JSON", kind="data")
    with pytest.raises(AirflowFailException, match=r"^shop/orders a\.json:3: invalid JSON$"):
        _airflow_errors(raises(bad))
    with pytest.raises(AirflowFailException, match=r"ConfigError: no mapping x\.yaml"):
        _airflow_errors(raises(ConfigError("no mapping x.yaml")))


def test_events_only_for_changed_assets_and_the_leaf_fails_unless_success() -> None:
    """What publish emits for a summary, and what the leaf says when a run is not a success."""
    from airflow.sdk.exceptions import AirflowFailException
    from omshub_airflow.factory import asset_events, check_summary

    counts = dict.fromkeys(("extracted", "loaded", "changed", "stale", "quarantined", "failed"), 0)
    shipment = {**counts, "extracted": 3, "loaded": 3}
    summary: dict[str, Any] = {
        "source": "wms",
        "run_id": "r1",
        "status": "partial",
        "message": "wms/stock s.csv:4: bad",
        "entities": {
            "*": {**counts, "failed": 1},
            "inventory_snapshot": {**counts, "extracted": 5, "loaded": 5, "changed": 2},
            "inventory_movement": {**counts, "extracted": 1, "loaded": 1, "changed": 1},
            "shipment": shipment,
        },
    }
    events = asset_events(summary)
    # a snapshot writes movements: one event on that asset, counts summed; no shipment event
    assert [(a.name, a.uri) for a, _ in events] == [
        ("omshub.inventory_movement", "omshub://store/inventory_movement")
    ]
    assert events[0][1] == {
        "source": "wms",
        "run_id": "r1",
        "run_status": "partial",
        "entities": ["inventory_movement", "inventory_snapshot"],
        **{**counts, "extracted": 6, "loaded": 6, "changed": 3},
    }
    assert asset_events({**summary, "entities": {"shipment": shipment}}) == []

    check_summary("wms", "r1", {**summary, "status": "success"})
    with pytest.raises(AirflowFailException, match=r"^run r1 of source wms is partial: wms/stock"):
        check_summary("wms", "r1", summary)
    with pytest.raises(AirflowFailException, match="publish did not complete"):
        check_summary("wms", "r1", None)


def test_a_transport_error_is_retried_by_airflow_then_fails_the_run(
    airflow_db: None, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source folder is missing (a mount not there): a transport error, retried twice."""
    home = shop_project(tmp_path / "proj")
    (home / "drop").rmdir()
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    run = dag_run(home)
    assert str(run.state) == "failed"
    states = task_states(run.run_id)
    assert states[("extract_and_land", "")] == ("failed", 3)  # 1 + source.retries
    assert states[("map_validate_load", "")][0] == "upstream_failed"
    assert states[("publish", "")][0] == "success"  # the run is closed, as failed
    assert states[("check_run", "")] == ("failed", 1)
    assert asset_events(run.run_id) == {}
    last = cli_stats()["sources"]["shop"]["last_run"]
    assert last["run_id"] == run.run_id and last["status"] == "failed"
    assert "does not exist" in last["message"]


def test_when_publish_fails_the_leaf_fails_the_run_and_no_event_goes_out(
    airflow_db: None, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that refuses to close runs (a trigger aborts the closing update): publish
    fails after its retries, and the leaf still fails the DagRun although the batch loaded."""
    from sqlalchemy import create_engine, text

    home = shop_project(tmp_path / "proj")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    drop(home, "orders_1.json", [shop_order(1, "A1")])
    with create_engine(sqlite_store).begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse_close BEFORE UPDATE ON sync_run "
                "WHEN NEW.finished_at IS NOT NULL "
                "BEGIN SELECT RAISE(ABORT, 'store refuses to close runs'); END"
            )
        )
    run = dag_run(home)
    assert str(run.state) == "failed"
    states = task_states(run.run_id)
    assert [v for k, v in states.items() if k[0] == "map_validate_load"] == [("success", 1)]
    assert states[("publish", "")] == ("failed", 3)  # retried: closing a run is idempotent
    assert states[("check_run", "")] == ("failed", 1)
    assert asset_events(run.run_id) == {}


def test_a_broken_code_list_fails_only_the_batches_that_use_it_without_retry(
    airflow_db: None, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.db import get_engine

    home = shop_project(tmp_path / "proj")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    (home / "config/codes/other.yaml").write_text("name: other\ncodes: [unclosed\n")
    drop(home, "orders_1.json", [shop_order(1, "A1")])
    assert str(dag_run(home).state) == "success"  # a list the source does not use

    codes = home / "config/codes/shopify_financial_status.yaml"
    codes.write_text("name: shopify_financial_status\ncodes: {paid: [\n")
    drop(home, "orders_2.json", [shop_order(2, "A2")])
    run = dag_run(home)
    assert str(run.state) == "failed"
    broken = batches(get_engine(sqlite_store))["orders_2.json"]
    assert task_states(run.run_id)[("map_validate_load", broken["batch_id"])] == ("failed", 1)
    assert broken["status"] == "failed" and broken["error_kind"] == "config"
    assert broken["attempts"] == 0  # not the batch's fault: it never counts towards dead
    assert "shopify_financial_status.yaml" in broken["message"]
    assert asset_events(run.run_id) == {}
