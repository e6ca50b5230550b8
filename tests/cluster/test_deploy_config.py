"""deploy/docker-compose.yaml says what the tested cluster runs with (no Docker needed).

Every `AIRFLOW__SECTION__KEY` it sets must be an option this Airflow and its providers
know (a misspelt name is silently ignored by Airflow), the settings the cluster test
depends on must be there, and every Airflow process must share one environment and the
landing volume (a batch landed by one worker is loaded by another).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yaml"
AIRFLOW_SERVICES = (
    "omshub-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
#: what tests/cluster/cluster.py sets that a production cluster needs as well
REQUIRED = (
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__PLUGINS_FOLDER",
    "OMSHUB_HOME",
    "OMSHUB_DATABASE_URL",
    "OMSHUB_LANDING_DIR",
)


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def unknown_options(env: dict[str, Any]) -> list[str]:
    """The `AIRFLOW__SECTION__KEY` names in `env` that are no option of this Airflow."""
    from airflow.configuration import conf

    known = conf.configuration_description
    unknown = []
    for name in env:
        if name.startswith("AIRFLOW__"):
            section, key = name.removeprefix("AIRFLOW__").lower().split("__", 1)
            if key not in known.get(section, {}).get("options", {}):
                unknown.append(name)
    return unknown


def test_every_airflow_setting_is_an_option_airflow_knows(tmp_path: Path) -> None:
    from cluster import Cluster

    env = compose()["x-omshub-env"]
    assert not unknown_options(env), f"{COMPOSE.name}: no such options: {unknown_options(env)}"
    test_env = Cluster(tmp_path, tmp_path, "postgresql://x/a", "postgresql://x/b", "redis://x", 1)
    assert not unknown_options(test_env.env("w1")), "the test cluster sets unknown options"
    assert set(REQUIRED) <= set(env), sorted(set(REQUIRED) - set(env))
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["OMSHUB_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")


def test_every_airflow_process_shares_one_environment_and_the_landing_volume() -> None:
    doc = compose()
    services = doc["services"]
    assert set(AIRFLOW_SERVICES) <= set(services)
    landing = doc["x-omshub-env"]["OMSHUB_LANDING_DIR"]
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["environment"] == doc["x-omshub-env"], name
        assert f"landing:{landing}" in svc["volumes"], name
    assert services["airflow-worker"]["deploy"]["replicas"] >= 2
    assert "landing" in doc["volumes"]
