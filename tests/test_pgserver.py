"""Tests for tests/pgserver.py: every later PostgreSQL test trusts it to give an isolated DB."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

try:  # pytest's default "prepend" import mode puts tests/ on sys.path
    import pgserver
except ImportError:  # tests/ became a package
    from tests import pgserver  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent


def _alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie (a reaped-late postmaster must not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_create_use_and_drop_database() -> None:
    url = pgserver.create_database("omshub_pgtest")
    parsed = make_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    name = parsed.database
    assert name is not None and name.startswith("omshub_pgtest_")

    engine = create_engine(url, poolclass=NullPool)
    lingering = engine.connect()  # drop_database must kick this session out
    try:
        lingering.execute(text("create table t (x int)"))
        lingering.execute(text("insert into t values (1), (2)"))
        lingering.commit()
        assert lingering.execute(text("select current_database()")).scalar_one() == name
        assert lingering.execute(text("select sum(x) from t")).scalar_one() == 3

        pgserver.drop_database(url)
    finally:
        with contextlib.suppress(Exception):  # its backend was terminated by the drop
            lingering.close()
        engine.dispose()

    base = pgserver.server_url()
    exists = _scalar(base, f"select count(*) from pg_database where datname = '{name}'")
    assert exists == 0
    pgserver.drop_database(url)  # idempotent


def test_names_are_validated_before_touching_a_server() -> None:
    with pytest.raises(ValueError):
        pgserver.create_database("Bad-Prefix; drop")
    with pytest.raises(ValueError):
        pgserver.drop_database("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    with pytest.raises(ValueError):
        pgserver.drop_database("postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.mark.postgres
def test_env_url_is_pinned_to_psycopg_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    base = make_url(pgserver.server_url())
    monkeypatch.delenv(pgserver.ENV_FORCE_THROWAWAY, raising=False)

    monkeypatch.setenv(pgserver.ENV_URL, base.set(drivername="postgresql").render_as_string(False))
    assert make_url(pgserver._discover()).drivername == "postgresql+psycopg"

    dead = base.set(port=pgserver._free_port())  # nothing listens there
    monkeypatch.setenv(pgserver.ENV_URL, dead.render_as_string(False))
    with pytest.raises(RuntimeError, match=pgserver.ENV_URL):
        pgserver._discover()


def test_failure_names_what_was_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_binaries() -> Path:
        raise RuntimeError("no initdb here")

    monkeypatch.setenv(pgserver.ENV_FORCE_THROWAWAY, "1")
    monkeypatch.setattr(pgserver, "_newest_bindir", no_binaries)
    with pytest.raises(RuntimeError) as info:
        pgserver._discover()
    message = str(info.value)
    assert "throwaway cluster" in message and "no initdb here" in message
    assert pgserver.ENV_URL in message


@pytest.mark.postgres
def test_throwaway_cluster_starts_answers_and_stops() -> None:
    started = time.perf_counter()
    cluster = pgserver.start_throwaway_cluster()
    try:
        with psycopg.connect(
            cluster.url.replace("+psycopg", ""), connect_timeout=5, autocommit=True
        ) as conn:
            version = conn.execute("select version()").fetchone()
        assert version is not None and str(version[0]).startswith("PostgreSQL")
        pid = cluster.postmaster_pid()
        assert pid is not None and _alive(pid)
    finally:
        cluster.stop()
    assert not cluster.root.exists()
    assert not _alive(pid)
    assert pgserver._probe(make_url(cluster.url)) is not None  # port no longer answers
    assert time.perf_counter() - started < 15


@pytest.mark.postgres
def test_forced_throwaway_is_used_and_removed_at_exit() -> None:
    """server_url() under OMSHUB_PG_FORCE_THROWAWAY=1 in a child; its atexit must clean up."""
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        import pgserver
        from sqlalchemy import create_engine, text
        url = pgserver.server_url()
        engine = create_engine(url)
        with engine.connect() as conn:
            version = conn.execute(text("select version()")).scalar_one()
            datadir = conn.execute(text("show data_directory")).scalar_one()
        engine.dispose()
        db = pgserver.create_database()
        pgserver.drop_database(db)
        pid = int(open(datadir + "/postmaster.pid").read().split()[0])
        print(json.dumps({{"url": url, "version": version, "datadir": datadir, "pid": pid}}))
        """
    )
    env = {**os.environ, pgserver.ENV_FORCE_THROWAWAY: "1"}
    env.pop(pgserver.ENV_URL, None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert make_url(info["url"]).port != 5432
    assert info["version"].startswith("PostgreSQL")
    assert not Path(info["datadir"]).exists()
    assert not _alive(info["pid"])
    assert time.perf_counter() - started < 15
