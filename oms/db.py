"""Engine creation and schema upgrade. One place decides which database omshub talks to."""

from __future__ import annotations

import os
import sqlite3
import time
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from oms.errors import ConfigError, StoreBusy

ENV_URL = "OMSHUB_DATABASE_URL"
#: execution option asking SQLite for `BEGIN IMMEDIATE` (`oms.locks.write_transaction`)
SQLITE_BEGIN = "omshub_sqlite_begin"
#: execution option: seconds a write transaction waits for SQLite's write lock
SQLITE_WAIT = "omshub_sqlite_wait"
#: default of `SQLITE_WAIT`: a writer waits this long for another's batch to commit
WRITE_WAIT_S = 600.0
#: how long one SQLite statement waits for a lock before "database is locked"
BUSY_TIMEOUT_MS = 30_000


def project_home() -> Path:
    """`OMSHUB_HOME`, else the source checkout this package lives in, else the cwd."""
    env = os.environ.get("OMSHUB_HOME")
    if env:
        return Path(env).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "config" / "sources").is_dir():
        return checkout
    return Path.cwd()


def default_url() -> str:
    state = project_home() / ".omshub"
    state.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{state / 'omshub.db'}"


def database_url() -> str:
    url = os.environ.get(ENV_URL) or default_url()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        raise ConfigError(
            f"{ENV_URL}={url.split('@')[-1]!r}: name the driver, e.g. postgresql+psycopg://..."
            " (a bare postgresql:// picks a driver far from where errors show)"
        )
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # 256 MiB page cache (default 2 MiB): random-uuid keys touch pages all over the indexes,
    # and bulk loads into a growing store slowed down 2x without it (bench/e2e.py)
    cur.execute("PRAGMA cache_size=-262144")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """`BEGIN IMMEDIATE` for connections that ask for it (`oms.locks.write_transaction`).

    A batch load reads bindings and rows, decides, then writes: it must hold the write
    lock from its first read, or two writers both decide on the same old state. Other
    transactions keep pysqlite's legacy mode (BEGIN before the first write) on purpose:
    with a plain `BEGIN` before every read, a transaction that reads, then writes after
    another writer committed fails at once with "database is locked" (WAL snapshot
    conflict; the busy timeout does not apply), and the pipeline's bookkeeping reads
    then writes in short transactions. `SQLITE_WAIT` bounds the wait (retrying past the
    30 s busy timeout), then `StoreBusy`.
    """
    options = conn.get_execution_options()
    if options.get(SQLITE_BEGIN) != "IMMEDIATE":
        return
    dbapi: Any = conn.connection.dbapi_connection
    wait = float(options.get(SQLITE_WAIT, WRITE_WAIT_S))
    deadline = time.monotonic() + wait
    while True:
        remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
        dbapi.execute(f"PRAGMA busy_timeout={min(remaining_ms, BUSY_TIMEOUT_MS)}")
        try:
            dbapi.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"the store {conn.engine.url.database} stayed locked by another writer "
                    f"for {wait:g} s; retry later"
                ) from e
        finally:
            dbapi.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql+psycopg:"):
        # psycopg 3 prepares a statement after 5 runs and PostgreSQL may then reuse a generic
        # plan; for the loader's `IN (...)` look-ups that plan was 100x slower (1.2 s vs 11 ms
        # per batch of 900 keys, measured with bench/e2e.py): keep prepared statements (they
        # speed up bulk inserts) but always plan with the actual values.
        connect_args["options"] = "-c plan_cache_mode=force_custom_plan"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


@cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """A process-wide engine per URL (tasks and CLI commands share one pool)."""
    return _engine_for(url or database_url())


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["engine"] = get_engine(url)
    command.upgrade(cfg, revision)
