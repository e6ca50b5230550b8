"""Build one DAG per source in `config/sources/*.yaml` (DESIGN.md §5).

extract -> land (one task) -> map+validate+load (one mapped task per landed batch) ->
publish (closes the run, emits an Asset event per canonical entity written). Parsing
reads only YAML and pydantic models; pandas, great-expectations and SQLAlchemy models
are imported inside the tasks, so parse time stays small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from airflow.sdk import DAG, Asset, task

from omshub.config import SourceConfig, config_dir, load_source, stream_entities

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
F = TypeVar("F", bound=Callable[..., Any])


def asset_for(entity: str) -> Asset:
    """The Asset downstream DAGs (stock roll-up, outbound feeds) schedule on."""
    return Asset(name=f"omshub.{entity}", uri=f"omshub://store/{entity}", group="omshub")


def _airflow_errors(fn: Callable[[], Any]) -> Any:
    """Retriable errors are retried by Airflow; configuration and data errors are not."""
    from airflow.sdk.exceptions import AirflowFailException

    from oms.errors import ConfigError, DataError, FatalError

    try:
        return fn()
    except (ConfigError, DataError, FatalError) as e:
        raise AirflowFailException(f"{type(e).__name__}: {e}") from e


def build_dag(source: SourceConfig) -> DAG:
    name = source.name
    entities = sorted({e for s in source.streams for e in stream_entities(s)})
    outlets = [
        asset_for("inventory_movement" if e == "inventory_snapshot" else e) for e in entities
    ]
    with DAG(
        dag_id=f"omshub_source_{name}",
        description=source.description or f"sync {name} ({source.kind})",
        schedule=source.schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["omshub", "source", source.kind, source.system],
        default_args={
            "retries": source.retries,
            "retry_delay": dt.timedelta(seconds=source.retry_delay_seconds),
        },
        doc_md=f"Sync of source `{name}` from `{source.file}`: streams "
        + ", ".join(f"`{s.name}` -> `{s.mapping}`" for s in source.streams),
    ) as dag:

        @task(task_id="extract_and_land")
        def extract(**context: Any) -> list[str]:
            from oms.db import upgrade
            from omshub.pipeline import extract as do_extract

            upgrade()
            return list(_airflow_errors(lambda: do_extract(name, context["run_id"], "airflow")))

        @task(task_id="map_validate_load", map_index_template="{{ task.op_kwargs['batch_id'] }}")
        def load(batch_id: str, **context: Any) -> dict[str, Any]:
            from omshub.pipeline import process_batch

            return dict(_airflow_errors(lambda: process_batch(batch_id, context["run_id"])))

        @task(task_id="publish", trigger_rule="all_done", outlets=outlets)
        def publish(**context: Any) -> dict[str, Any]:
            from omshub.pipeline import finish_run

            return dict(_airflow_errors(lambda: finish_run(name, context["run_id"])))

        load.expand(batch_id=extract()) >> publish()
    return dag


def broken_dag(name: str, path: Path, error: str) -> DAG:
    """Stand-in for a source whose YAML does not validate: visible, and failing with why.

    One bad file must not hide every other source's DAG (as an import error of the whole
    factory file would), nor disappear silently.
    """
    with DAG(
        dag_id=f"omshub_source_{name}",
        description=f"BROKEN CONFIG: {path.name}",
        schedule=None,
        start_date=START,
        catchup=False,
        tags=["omshub", "source", "broken-config"],
        doc_md=f"`{path}` does not validate:\n\n```\n{error}\n```",
    ) as dag:

        @task(task_id="config_error", retries=0)
        def config_error() -> None:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(error)

        config_error()
    return dag


def build_all() -> dict[str, DAG]:
    """A DAG per `config/sources/*.yaml`; a file that does not validate gets a broken DAG."""
    from oms.errors import OmshubError

    dags: dict[str, DAG] = {}
    for path in sorted((config_dir() / "sources").glob("*.yaml")):
        try:
            source = load_source(path)
            dag = build_dag(source)
        except (OmshubError, ValueError) as e:
            dag = broken_dag(path.stem, path, str(e))
        if dag.dag_id in dags:
            dag = broken_dag(path.stem, path, f"source name {dag.dag_id!r} is used by two files")
            dag.dag_id = f"omshub_source_{path.stem}_duplicate"
        dags[dag.dag_id] = dag
    return dags
