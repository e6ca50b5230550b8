"""Load-engine benchmark (issue 10): generated order lines through the real pipeline.

    python bench/load.py --rows N --db postgresql|sqlite [--json] [--keep]

One run, one data set (bench/datagen.py: N order lines, ~4 per order, one CSV row each):

1. a throwaway project (bench/loadproject.py: a folder source with `mode: full` and the
   bench mapping) and a fresh store (a SQLite file, or a new PostgreSQL database on the
   server tests/pgserver.py finds: OMSHUB_TEST_PG_URL, else 127.0.0.1:5432);
2. three runs of `omshub.pipeline.run_source` (the DAG's path: extract, land, map,
   validate, load, close), each timed wall to wall: the first load; a no-change re-run
   (the same landed batch reprocessed, since the source is `mode: full`); a run of a file
   in which 10% of the orders changed (new status, qty + 1 on each line, newer
   updated_at). Rows/s = lines in the file / wall time. After each run, the rows it wrote
   (business tables, bindings, change log) are counted: the no-change run must write 0;
3. peak RSS of this process after those runs (data generation runs in a child);
4. same-run baselines on the same rows: bare COPY (PG) / executemany insert (SQLite) into
   a keyless table (bench/baseline.py), bare staged upsert (bench/upsert.py) and dlt's
   Arrow merge (bench/dltmerge.py, in its own venv `bench/.dlt-venv`);
5. the store's write floor (bench/floor.py): the first load's rows re-written server-side
   into empty clones of their tables, a lower bound for any loader of this schema.

Progress goes to stderr; the table (or, with --json, one JSON object) to stdout. The
exit status is 1 when a run fails and 2 when the no-change run wrote rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT), str(BENCH), str(ROOT / "tests")]

import loadproject  # noqa: E402
import report  # noqa: E402
from floor import change_floor, store_floor  # noqa: E402

PHASES = ("first", "nochange", "changed10")
CHANGED_SHARE = 0.1


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cpu_seconds() -> float:
    """User + system CPU of this process: less skewed by a busy machine than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def ticking(label: str, every: float = 30.0) -> Iterator[None]:
    """A progress line every ``every`` seconds while a long step runs."""
    stop = threading.Event()
    started = time.perf_counter()

    def tick() -> None:
        while not stop.wait(every):
            say(f"  {label}: {time.perf_counter() - started:,.0f} s, peak RSS {peak_rss_mb()} MB")

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def generate(path: Path, rows: int, changed_share: float = 0.0) -> None:
    """bench/datagen.py in a child, so its frames never count in this process's peak RSS."""
    cmd = [sys.executable, str(BENCH / "datagen.py"), "--lines", str(rows), "--out", str(path)]
    subprocess.run([*cmd, "--changed-share", str(changed_share)], check=True, capture_output=True)


class RunFailed(Exception):
    """A pipeline run did not end `success`."""


def run_phase(label: str, rows: int) -> dict[str, Any]:
    """One `run_source("bench")`, timed; its counts and the rows it wrote."""
    from oms.db import get_engine
    from omshub.pipeline import run_source

    engine = get_engine()
    since = dt.datetime.now(dt.UTC)
    say(f"{label}: running {rows:,} lines through run_source({loadproject.SOURCE!r})")
    server = loadproject.server_cpu(engine)
    with ticking(label):
        started, cpu = time.perf_counter(), cpu_seconds()
        rep = run_source(loadproject.SOURCE, engine=engine, trigger="cli")
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    server_s = loadproject.cpu_delta(server, loadproject.server_cpu(engine))
    if not rep.ok or rep.summary is None:
        raise RunFailed(f"{label}: run {rep.run_id} is {rep.status}: {'; '.join(rep.errors)}")
    written = loadproject.rows_written(engine, rep.run_id, since)
    entities = {
        e: {k: int(v or 0) for k, v in c.items() if k in ("loaded", "changed", "quarantined")}
        for e, c in rep.summary.entities.items()
    }
    result = {
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "cpu_seconds": round(cpu, 3),
        "server_cpu_seconds": server_s,
        # a cost, not a throughput: lines per CPU second of this process + the PG backends
        "rows_per_cpu_s": round(rows / (cpu + (server_s or 0.0))) if cpu > 0 else None,
        "run_id": rep.run_id,
        "batches": len(rep.batches),
        "entities": entities,
        "rows_written": sum(written.values()),
        "rows_written_by_table": written,
    }
    say(
        f"{label}: {seconds:,.1f} s (CPU: {cpu:,.1f} s here, {server_s or 0:,.1f} s in PG), "
        f"{result['rows_per_s']:,} lines/s, "
        f"wrote {written or 0}"
    )
    return result


def pipeline_phases(drop: Path, full: Path, changed: Path, rows: int) -> dict[str, Any]:
    """First load and no-change re-run of ``full``, then the changed file alone."""
    from oms.db import get_engine, upgrade

    upgrade()
    target = drop / "order_lines.csv"
    shutil.copyfile(full, target)
    out = {"first": run_phase("first load", rows)}
    out["store_rows"] = loadproject.table_rows(get_engine(), ("sales_order", "order_line"))
    say("store floor: the first load's rows re-written server-side into empty clones")
    out["floor"] = store_floor(get_engine(), out["first"]["rows_written_by_table"], rows)
    say(f"store floor: {out['floor']['seconds']:,.1f} s, {out['floor']['rows_per_s']:,} lines/s")
    out["nochange"] = run_phase("no-change re-run", rows)
    target.unlink()  # the 10%-changed run processes only the changed file
    shutil.copyfile(changed, drop / "order_lines_changed10.csv")
    out["changed10"] = run_phase("10%-changed re-run", rows)
    wrote = out["changed10"]["rows_written_by_table"]
    say("change floor: the 10%-changed run's writes re-applied server-side to clones")
    out["change_floor"] = change_floor(get_engine(), out["changed10"]["run_id"], wrote)
    say(
        f"change floor: {out['change_floor']['seconds']:,.1f} s for {out['change_floor']['tables']}"
    )
    return out


def baselines(db: str, tmp: Path, full: Path, changed: Path) -> dict[str, Any]:
    """Bare COPY / insert, staged upsert and dlt merge of the same CSVs, on a fresh store."""
    from baseline import bare_bulk_insert
    from dltmerge import dlt_merge
    from upsert import staged_upsert

    out: dict[str, Any] = {}
    urls = {name: loadproject.new_store(db, tmp / name) for name in ("copy", "upsert", "dlt")}
    try:
        for name, (url, _) in urls.items():
            (tmp / name).mkdir(exist_ok=True)
            say(f"baseline {name} on {url.rsplit('/', 1)[-1]}")
            if name == "copy":
                out[name] = bare_bulk_insert(url, full)
            elif name == "upsert":
                passes = {"new": full, "unchanged": full, "changed10": changed}
                out[name] = staged_upsert(url, passes)
            else:
                out[name] = dlt_merge(full, url, log=say)
    finally:
        for _, drop in urls.values():
            loadproject.drop_store(drop)
    return out


def versions(url: str) -> dict[str, Any]:
    import sqlite3

    import pandas
    import pyarrow
    import sqlalchemy

    from oms.db import get_engine

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not commit and (ROOT / "COMMIT").is_file():  # a `git archive` export, marked by hand
        commit = (ROOT / "COMMIT").read_text(encoding="utf-8").strip() + " (export)"
    out = {
        "omshub": commit or None,
        "python": sys.version.split()[0],
        "pyarrow": pyarrow.__version__,
        "pandas": pandas.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
    }
    engine = get_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            out["postgresql"] = conn.exec_driver_sql("show server_version").scalar()
    return out


def use_project(home: Path, landing: Path, url: str) -> None:
    """Point omshub at a project and store (read by omshub at each call, not cached)."""
    os.environ.update(
        OMSHUB_HOME=str(home),
        OMSHUB_LANDING_DIR=str(landing),
        OMSHUB_DATABASE_URL=url,
        GX_ANALYTICS_ENABLED="false",
    )


def warm_up(db: str, tmp: Path) -> float:
    """A 200-line run on a throwaway project and store of the same backend; its seconds.

    It pays the one-time costs of a process (imports of the mapper, validator and loader,
    first connections) outside the timed runs, so the rates at small N measure the data
    work; `--cold` skips it and the first load pays them, as each Airflow task does.
    """
    from oms.db import get_engine, upgrade
    from omshub.pipeline import run_source

    started = time.perf_counter()
    home = tmp / "warm"
    drop = loadproject.make_project(home)
    url, to_drop = loadproject.new_store(db, home)
    use_project(home, home / "landing", url)
    generate(drop / "warm.csv", 200)
    try:
        upgrade()
        rep = run_source(loadproject.SOURCE, engine=get_engine(), trigger="cli")
        if not rep.ok:
            raise RunFailed(f"warm-up: run {rep.run_id} is {rep.status}: {rep.errors}")
    finally:
        get_engine(url).dispose()
        loadproject.drop_store(to_drop)
    return round(time.perf_counter() - started, 3)


def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"db": args.db, "rows": args.rows}
    if not args.cold:
        say("warm-up: a 200-line run on a throwaway store (imports, first connections)")
        result["warmup_seconds"] = warm_up(args.db, tmp)
    home = tmp / "project"
    drop = loadproject.make_project(home)
    url, to_drop = loadproject.new_store(args.db, tmp)
    use_project(home, tmp / "landing", url)
    full, changed = tmp / "gen" / "order_lines.csv", tmp / "gen" / "order_lines_changed10.csv"
    say(f"generating {args.rows:,} order lines (+ the 10%-changed copy) in {tmp}")
    generate(full, args.rows)
    generate(changed, args.rows, CHANGED_SHARE)
    result["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    try:
        result.update(pipeline_phases(drop, full, changed, args.rows))
        result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        result["peak_rss_mb"] = peak_rss_mb()
        result["versions"] = versions(url)
    finally:
        from oms.db import get_engine

        get_engine(url).dispose()
        if args.keep:
            say(f"kept the store: {url} and {tmp}")
        else:
            loadproject.drop_store(to_drop)
    result["baselines"] = baselines(args.db, tmp, full, changed)
    return report.summarise(result)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000, help="order lines (default 1M)")
    ap.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--keep", action="store_true", help="keep the store and temp files")
    ap.add_argument(
        "--cold", action="store_true", help="no warm-up run: the first load pays the imports"
    )
    args = ap.parse_args()
    if args.rows < 1:
        ap.error("--rows must be at least 1")
    tmp = Path(tempfile.mkdtemp(prefix="omshub-loadbench-"))
    try:
        result = bench(args, tmp)
    except RunFailed as e:
        sys.exit(f"bench/load.py: {e}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2) if args.json else report.table(result))
    if result["rows_written_nochange"]:
        sys.exit(2)


if __name__ == "__main__":
    main()
