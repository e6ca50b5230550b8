"""Fixtures for real Airflow DAG runs: one metadata DB per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh Airflow metadata DB (SQLite in a temp AIRFLOW_HOME set by tests/conftest.py).

    Reset once per session: the first `dag.test()` of a process costs seconds, later ones
    well under one, so every DAG test shares this DB and tells its runs apart by run id.
    """
    from airflow.utils.db import resetdb

    resetdb()
