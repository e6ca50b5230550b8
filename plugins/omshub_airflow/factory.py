"""Build one DAG per source in `config/sources/*.yaml` (DESIGN.md §5).

extract_and_land -> map_validate_load (one mapped task per batch) -> publish -> check_run.

- `publish` runs whatever happened upstream (`all_done`): it closes the run in the store
  and emits an Asset event only for the entities whose rows changed, with the counts in
  the event's `extra`. The assets are not static outlets (those emit on every success,
  changed or not): publish declares one `AssetAlias` per source and adds the events to it.
- `check_run` is the only leaf: Airflow derives a DagRun's state from its leaves, so a
  lone `all_done` publish that succeeds would report a run with failed batches as success.
  check_run fails with the run's message unless the run's status is `success`.

Parsing reads only YAML and pydantic models; pandas, great-expectations and SQLAlchemy
models are imported inside the tasks, so parse time stays small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetAlias, task

from omshub.config import SourceConfig, config_dir, load_source, stream_entities

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
COUNTS = ("extracted", "loaded", "changed", "stale", "quarantined", "failed")


def asset_for(entity: str) -> Asset:
    """The Asset downstream DAGs (stock roll-up, outbound feeds) schedule on."""
    return Asset(name=f"omshub.{entity}", uri=f"omshub://store/{entity}", group="omshub")


def asset_entity(entity: str) -> str:
    """Which asset an entity's rows belong to: a stock snapshot writes movements."""
    return "inventory_movement" if entity == "inventory_snapshot" else entity


def alias_for(source: str) -> AssetAlias:
    """The alias a source's publish task adds its events to (resolves to `asset_for` assets)."""
    return AssetAlias(name=f"omshub.source.{source}", group="omshub")


def asset_events(summary: dict[str, Any]) -> list[tuple[Asset, dict[str, Any]]]:
    """The (asset, extra) events a run summary calls for: one per asset whose rows changed.

    Counts of entities sharing an asset are summed; the `*` entry of a batch that failed
    before mapping names no entity and never makes an event.
    """
    per_asset: dict[str, dict[str, Any]] = {}
    for entity, counts in sorted((summary.get("entities") or {}).items()):
        if entity == "*":
            continue
        extra = per_asset.setdefault(
            asset_entity(entity),
            {
                "source": summary.get("source"),
                "run_id": summary.get("run_id"),
                "run_status": summary.get("status"),
                "entities": [],
                **dict.fromkeys(COUNTS, 0),
            },
        )
        extra["entities"].append(entity)
        for c in COUNTS:
            extra[c] += int(counts.get(c) or 0)
    return [(asset_for(name), extra) for name, extra in per_asset.items() if extra["changed"] > 0]


def _airflow_errors(fn: Callable[[], Any]) -> Any:
    """Map omshub's error families onto Airflow's: only transient failures are retried.

    A failed batch (`BatchFailed`) is retried only when it says a retry may help (a
    transport error); config and data errors fail the task at once with their one-line
    reason. Anything unexpected propagates and is retried like a transient error.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from oms.errors import BatchFailed, ConfigError, DataError, FatalError

    try:
        return fn()
    except BatchFailed as e:
        if e.retriable:
            raise
        raise AirflowFailException(str(e)) from e
    except (ConfigError, DataError, FatalError) as e:
        raise AirflowFailException(f"{type(e).__name__}: {e}") from e


def extract_and_land(source: str, run_id: str) -> list[str]:
    """Task body: land every new file of the source; the batch ids to map over."""
    from oms.db import upgrade
    from omshub.pipeline import extract

    upgrade()
    return list(_airflow_errors(lambda: extract(source, run_id, "airflow")))


def map_validate_load(batch_id: str, run_id: str) -> dict[str, Any]:
    """Task body: one batch in one transaction; its failure is recorded before it raises."""
    from omshub.pipeline import process_batch

    return dict(_airflow_errors(lambda: process_batch(batch_id, run_id)))


def close_and_publish(source: str, run_id: str, events: Any) -> dict[str, Any]:
    """Task body: close the run and add an event per changed asset to the alias' events."""
    from omshub.pipeline import finish_run

    summary: dict[str, Any] = _airflow_errors(lambda: finish_run(source, run_id).as_dict())
    for asset, extra in asset_events(summary):
        events.add(asset, extra=extra)
    return summary


def check_summary(source: str, run_id: str, summary: dict[str, Any] | None) -> None:
    """Task body of the leaf: fail the DagRun with the run's message unless it succeeded."""
    from airflow.sdk.exceptions import AirflowFailException

    if not summary:
        raise AirflowFailException(
            f"run {run_id} of source {source}: publish did not complete, so the run was not "
            "closed (see the publish task's log)"
        )
    if summary.get("status") != "success":
        raise AirflowFailException(
            f"run {run_id} of source {source} is {summary.get('status')}: "
            f"{summary.get('message') or 'no message'}"
        )


def build_dag(source: SourceConfig) -> DAG:
    name = source.name
    alias = alias_for(name)
    entities = sorted({asset_entity(e) for s in source.streams for e in stream_entities(s)})
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
        + ", ".join(
            f"`{s.name}` -> {', '.join(map(repr, s.mapping_files()))}" for s in source.streams
        )
        + ". Publishes (only when rows changed): "
        + ", ".join(f"`{asset_for(e).name}`" for e in entities),
    ) as dag:

        @task(task_id="extract_and_land")
        def extract(**context: Any) -> list[str]:
            return extract_and_land(name, context["run_id"])

        @task(task_id="map_validate_load", map_index_template="{{ task.op_kwargs['batch_id'] }}")
        def load(batch_id: str, **context: Any) -> dict[str, Any]:
            return map_validate_load(batch_id, context["run_id"])

        @task(task_id="publish", trigger_rule="all_done", outlets=[alias])
        def publish(**context: Any) -> dict[str, Any]:
            return close_and_publish(name, context["run_id"], context["outlet_events"][alias])

        @task(task_id="check_run", trigger_rule="all_done", retries=0)
        def check_run(**context: Any) -> None:
            check_summary(name, context["run_id"], context["ti"].xcom_pull(task_ids="publish"))

        loaded = load.expand(batch_id=extract())
        loaded >> publish() >> check_run()
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
        except Exception as e:  # Airflow's own refusal of the DAG: still name the YAML
            dag = broken_dag(path.stem, path, f"{path}: {type(e).__name__}: {e}")
        if dag.dag_id in dags:
            dag = broken_dag(path.stem, path, f"source name {dag.dag_id!r} is used by two files")
            dag.dag_id = f"omshub_source_{path.stem}_duplicate"
        dags[dag.dag_id] = dag
    dags.update(_partner_dags(set(dags)))
    return dags


def _partner_dags(taken: set[str]) -> dict[str, DAG]:
    """The EDI inbox DAG of each trading partner (`config/partners/*.yaml`)."""
    from omshub.edi.sources import PREFIX, partner_sources

    folder = config_dir() / "partners"
    if not folder.is_dir():
        return {}
    good, broken = partner_sources(folder)
    dags: dict[str, DAG] = {}
    for name, source in good.items():
        dag = build_dag(source)
        if dag.dag_id in taken:
            dag = broken_dag(name, Path(source.file), f"source name {name!r} is used twice")
            dag.dag_id = f"omshub_source_{name}_duplicate"
        dags[dag.dag_id] = dag
    for name, error in broken.items():
        path = folder / f"{name.removeprefix(PREFIX)}.yaml"
        dags[f"omshub_source_{name}"] = broken_dag(name, path, str(error))
    return dags
