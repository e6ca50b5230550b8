"""The throwaway project and store bench/load.py runs the real pipeline against.

A folder source `bench` (system `bench`, `mode: full`) reads `drop/*.csv` with the bench
mapping and the shipped code lists and ownership rules, as a user's project would, so
`omshub.pipeline.run_source("bench")` takes the path the DAG tasks take (extract, land,
map, validate, load, close the run) and picks up whatever mapper and loader sit behind it.

`mode: full` is what makes the no-change re-run real work: the same file lands as the
same batch (same checksum), and a full-mode source reprocesses loaded batches instead of
skipping them, so every line goes through map, validate and load again.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "bench"
SOURCE_YAML = textwrap.dedent("""\
    # bench/load.py: generated order lines, reprocessed on every run (mode: full)
    name: bench
    system: bench
    kind: channel
    description: load-engine benchmark (bench/load.py)
    connector: {type: local_folder, path: drop}
    schedule: null
    mode: full
    retries: 0
    reject_threshold: 0.01
    streams:
      - name: order_lines
        pattern: "*.csv"
        format: {type: csv}
        mapping: bench/order_lines.yaml
    """)
#: bookkeeping tables that carry last_run_id/updated_at but are written by every run
RUN_TABLES = ("landed_batch", "watermark", "sync_run", "run_stat", "quarantine")


def make_project(home: Path) -> Path:
    """Write the project under ``home``; returns its drop folder (the source's files)."""
    for sub in ("config/sources", "mappings/bench", "drop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "config/codes", home / "config/codes", dirs_exist_ok=True)
    if (ROOT / "config/ownership.yaml").exists():
        shutil.copy(ROOT / "config/ownership.yaml", home / "config/ownership.yaml")
    shutil.copy(ROOT / "bench/mappings/order_lines.yaml", home / "mappings/bench")
    (home / "config/sources/bench.yaml").write_text(SOURCE_YAML, encoding="utf-8")
    return home / "drop"


def new_store(db: str, tmp: Path) -> tuple[str, str | None]:
    """(store URL, URL to drop afterwards or None): a SQLite file or a fresh PG database."""
    if db == "sqlite":
        return f"sqlite:///{tmp / 'store.db'}", None
    import pgserver

    url = pgserver.create_database("omshub_bench")
    return url, url


def drop_store(url: str | None) -> None:
    if url:
        import pgserver

        pgserver.drop_database(url)


def rows_written(engine: Any, run_id: str, since: dt.datetime) -> dict[str, int]:
    """Business, binding and change-log rows run ``run_id`` wrote, per table.

    A row counts when it names the run (`last_run_id`, or `run_id` for the change log) or
    was stamped (`updated_at`) since the run started: a no-change re-run must write none.
    """
    from sqlalchemy import func, or_, select

    import oms.models  # noqa: F401  (registers every table on the metadata)
    from oms.base import Base

    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for t in Base.metadata.sorted_tables:
            if t.name in RUN_TABLES:
                continue
            if "last_run_id" in t.c and "updated_at" in t.c:
                where = or_(t.c.last_run_id == run_id, t.c.updated_at >= since)
            elif t.name == "change_log":
                where = t.c.run_id == run_id
            else:
                continue
            n = conn.execute(select(func.count()).select_from(t).where(where)).scalar_one()
            if n:
                counts[t.name] = int(n)
    return counts


def table_rows(engine: Any, names: tuple[str, ...]) -> dict[str, int]:
    """Row counts of ``names`` (a sanity check that the lines really landed)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return {n: int(conn.execute(text(f"select count(*) from {n}")).scalar_one()) for n in names}


def server_cpu(engine: Any) -> dict[int, float] | None:
    """CPU seconds so far (user + system) of each PostgreSQL backend on the store's database.

    Read from /proc, so only when the server runs on this machine (each pid is checked to
    be a postgres process); None for SQLite or a remote server. Two snapshots around a run
    give the server's share of its cost, which wall time on a shared machine hides. A
    backend that exits during the run takes its CPU with it (the engine's pool keeps
    its connections, so the run's own backends stay).
    """
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        pids = conn.exec_driver_sql(
            "select pid from pg_stat_activity where datname = current_database()"
        ).scalars()
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[int, float] = {}
        for pid in pids:
            try:
                if b"postgres" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return None
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            out[int(pid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_delta(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    """Server CPU seconds spent between two `server_cpu` snapshots."""
    if before is None or after is None:
        return None
    return round(sum(v - before.get(pid, 0.0) for pid, v in after.items()), 3)
