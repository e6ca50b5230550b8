"""What a DagRun published: its Asset events, read from Airflow's metadata DB."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select


def events_by_run(runs: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """dag id -> (asset name, extra) of the Asset events its DagRun emitted."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    with create_session() as session:
        for dag_id, run in runs.items():
            q = select(AssetEvent).where(
                AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run.run_id
            )
            out[dag_id] = sorted((e.asset.name, dict(e.extra)) for e in session.scalars(q))
    return out
