"""Shared fixtures: a store on SQLite and on a real PostgreSQL, a private landing zone,
and Airflow pointed at a throwaway home (set before anything imports airflow)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(TESTS))

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="omshub-airflow-")
os.environ.update(
    {
        "OMSHUB_HOME": str(ROOT),
        "GX_ANALYTICS_ENABLED": "false",
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
)
os.environ.pop("OMSHUB_DATABASE_URL", None)

import pgserver  # noqa: E402


def _sqlite_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty, migrated store on each backend; the pipeline uses it through the env."""
    from oms.db import upgrade

    url = _sqlite_url(tmp_path) if request.param == "sqlite" else pgserver.create_database()
    monkeypatch.setenv("OMSHUB_DATABASE_URL", url)
    monkeypatch.setenv("OMSHUB_LANDING_DIR", str(tmp_path / "landing"))
    upgrade(url)
    yield url
    if request.param == "postgresql":
        from oms.db import get_engine

        get_engine(url).dispose()
        pgserver.drop_database(url)


@pytest.fixture
def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from oms.db import upgrade

    url = _sqlite_url(tmp_path)
    monkeypatch.setenv("OMSHUB_DATABASE_URL", url)
    monkeypatch.setenv("OMSHUB_LANDING_DIR", str(tmp_path / "landing"))
    upgrade(url)
    return url


@pytest.fixture
def shipped_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped project (config, mappings, demo data) in a temp folder, so what its
    runs write there (the EDI partners' 997s) stays out of the checkout."""
    import shutil

    home = tmp_path / "shipped"
    for part in ("config", "mappings", "demo"):
        shutil.copytree(ROOT / part, home / part, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    from oms.db import get_engine

    return get_engine(store_url)


@pytest.fixture(scope="session", autouse=True)
def demo_apis() -> Iterator[dict[str, str]]:
    """The demo's vendor API emulators, for every test that runs the shipped sources.

    `config/sources/salesforce_crm.yaml` is a REST source: like `make demo`, the session
    serves its API on a loopback port and sets its connection (AIRFLOW_CONN_SALESFORCE_DEMO)
    in the environment, which CLI subprocesses and Airflow task runners inherit.
    """
    from demo.emulators.services import demo_services

    with demo_services(ROOT) as served:
        yield served
