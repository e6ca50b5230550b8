"""Where a load's time goes: SQL time per statement and, optionally, a Python profile.

    python bench/profile_load.py --rows 200000 --db postgresql [--cprofile] [--top 14]

Runs the same project and data as bench/load.py (first load, a no-change re-run, then
the file with 10% of the orders changed, through `omshub.pipeline.run_source`) and prints, per run, the wall time, the summed time
of each SQL statement the engine sent through SQLAlchemy (COPY and the statements the
loader sends on the raw driver cursor are not seen: they show as the gap between the SQL
total and the wall time) and, with --cprofile, the top functions by own time. A
diagnostic for bench/RESULTS.md, not a benchmark: profiling slows the run.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

import loadproject  # noqa: E402
from load import CHANGED_SHARE, generate, use_project, warm_up  # noqa: E402


def statement_timer(engine: Any) -> dict[str, list[float]]:
    """Summed seconds and count per statement (first 110 characters), filled as it runs."""
    from sqlalchemy import event

    stats: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, *_: Any) -> None:
        conn.info["omshub_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        entry = stats[" ".join(statement.split())[:110]]
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info["omshub_t0"]

    return stats


def run(label: str, engine: Any, stats: dict[str, list[float]], args: argparse.Namespace) -> None:
    from omshub.pipeline import run_source

    profile = cProfile.Profile() if args.cprofile else None
    started = time.perf_counter()
    if profile:
        profile.enable()
    report = run_source(loadproject.SOURCE, engine=engine, trigger="cli")
    if profile:
        profile.disable()
    print(f"{label}: {report.status} in {time.perf_counter() - started:.2f} s")
    print(f"  SQL seen through SQLAlchemy: {sum(v[1] for v in stats.values()):.2f} s")
    for key, (n, seconds) in sorted(stats.items(), key=lambda kv: -kv[1][1])[: args.top]:
        print(f"  {seconds:7.2f} s {int(n):5d}x  {key}")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    stats.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--top", type=int, default=14)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="omshub-profile-"))
    warm_up(args.db, tmp)
    home = tmp / "project"
    drop = loadproject.make_project(home)
    url, to_drop = loadproject.new_store(args.db, tmp)
    use_project(home, tmp / "landing", url)
    generate(drop / "order_lines.csv", args.rows)
    from oms.db import get_engine, upgrade

    upgrade()
    engine = get_engine()
    stats = statement_timer(engine)
    try:
        run("first load", engine, stats, args)
        run("no-change re-run", engine, stats, args)
        (drop / "order_lines.csv").unlink()
        generate(drop / "order_lines_changed10.csv", args.rows, CHANGED_SHARE)
        run("10%-changed re-run", engine, stats, args)
    finally:
        engine.dispose()
        loadproject.drop_store(to_drop)


if __name__ == "__main__":
    main()
