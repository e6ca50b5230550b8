"""Peak memory of reading a large JSON array through the streaming format API.

Generates (once, deterministically) a ~200 MB file `{"orders": [...]}` of ~1.9M small
orders, then parses it in a child process with `JsonFormat.records()` and prints the
records per second and the child's peak RSS (`getrusage(RUSAGE_CHILDREN).ru_maxrss`).
`json.loads` of the same file peaked at 7.6 GB; the target is <= 1 GB.

    python bench/memory.py [--orders 1900000] [--out /tmp/omshub_orders_200mb.json]
    python bench/memory.py --baseline   # also json.loads the file (needs ~8 GB of RAM)
    python bench/memory.py --pipeline [--db URL]   # also the whole run: a folder source
        # -> land -> parse -> map -> validate -> load, as `omshub run` does (SQLite default)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATUSES = ("paid", "pending", "refunded", "partially_refunded")


def order(i: int) -> str:
    """One small order, a pure function of its index (same file on every machine)."""
    cents = (i * 7919) % 100_000 + 100
    return (
        f'{{"id":{10_000_000 + i},"order_number":"W{1_000_000 + i}",'
        f'"email":"c{i % 250_000}@example.com","status":"{STATUSES[i % 4]}",'
        f'"total":{cents // 100}.{cents % 100:02d},"qty":{i % 9 + 1}}}'
    )


def generate(path: Path, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as out:
        out.write('{"orders": [\n')
        step = 100_000
        for start in range(0, n, step):
            chunk = ",\n".join(order(i) for i in range(start, min(start + step, n)))
            out.write(chunk if start == 0 else ",\n" + chunk)
        out.write("\n]}\n")
    tmp.replace(path)


MAPPING = """\
mapping: bench.orders
version: 1
entity: sales_order
external_id: id
fields:
  order_number: {path: order_number, required: true}
  customer_email: email
  payment_status: {path: status, code: shopify_financial_status}
  grand_total: total
"""


def pipeline_project(path: Path, home: Path) -> None:
    """A throwaway project: one folder source whose folder holds the generated file."""
    import shutil

    for sub in ("config/sources", "config/codes", "mappings/bench"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config/codes/shopify_financial_status.yaml", home / "config/codes")
    (home / "mappings/bench/orders.yaml").write_text(MAPPING)
    (home / "config/sources/bench.yaml").write_text(
        "name: bench\nsystem: bench\nkind: channel\n"
        f"connector: {{type: local_folder, path: {path.parent}}}\n"
        "streams:\n  - name: orders\n"
        f"    pattern: {path.name}\n"
        "    format: {type: json, records_path: orders}\n"
        "    mapping: bench/orders.yaml\n"
    )


def run_pipeline(path: str) -> dict[str, object]:
    """The whole run in this process, as `omshub run bench` does it."""
    import os

    home = Path(os.environ["OMSHUB_HOME"])
    pipeline_project(Path(path), home)
    from oms.db import get_engine, upgrade
    from omshub.pipeline import run_source

    upgrade()
    report = run_source("bench", engine=get_engine())
    assert report.summary is not None
    counts = report.summary.entities.get("sales_order", {})
    return {
        "records": counts.get("extracted", 0),
        "bad": counts.get("quarantined", 0),
        "status": report.status,
    }


def child(path: str, how: str) -> None:
    """Runs in the measured process: parse, count, print one JSON line."""
    started = time.perf_counter()
    if how == "pipeline":
        out = run_pipeline(path)
        print(json.dumps({**out, "seconds": time.perf_counter() - started}))
        return
    if how == "json.loads":
        records = len(json.loads(Path(path).read_bytes())["orders"])
        bad = 0
    else:
        from connectors.base import BadRecord
        from connectors.formats.json import JsonFormat

        records = bad = 0
        with open(path, "rb") as stream:
            for rec in JsonFormat().records(stream, {"records_path": "orders"}, Path(path).name):
                records += 1
                bad += isinstance(rec, BadRecord)
    print(json.dumps({"records": records, "bad": bad, "seconds": time.perf_counter() - started}))


def measure(path: Path, how: str, db: str | None = None) -> dict[str, float]:
    """Run `how` in a fresh child; its peak RSS is the only one RUSAGE_CHILDREN holds then."""
    import os

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false")
    if how == "pipeline":
        work = Path(tempfile.mkdtemp(prefix="omshub-membench-"))
        env.update(
            OMSHUB_HOME=str(work),
            OMSHUB_LANDING_DIR=str(work / "landing"),
            OMSHUB_DATABASE_URL=db or f"sqlite:///{work / 'store.db'}",
        )
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--how", how],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode:
        sys.exit(f"{how} failed:\n{done.stderr[-4000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # ru_maxrss of the children is the largest of any child so far: measure the streaming
    # run first (the baseline, if asked, runs after it)
    result["peak_rss_mb"] = max(peak_kb, before) / 1024
    return dict(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_900_000)
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "omshub_orders_200mb.json"
    )
    parser.add_argument("--baseline", action="store_true", help="also measure json.loads")
    parser.add_argument("--pipeline", action="store_true", help="also measure a whole run")
    parser.add_argument("--db", help="store URL for --pipeline (default: a new SQLite file)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--how", default="records", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.how)
        return
    marker = args.out.with_name(args.out.name + f".{args.orders}")
    if not (args.out.exists() and marker.exists()):
        t = time.perf_counter()
        generate(args.out, args.orders)
        marker.touch()
        print(f"generated {args.out} in {time.perf_counter() - t:.1f}s")
    size_mb = args.out.stat().st_size / 1e6
    print(f"file: {args.out} ({size_mb:.0f} MB, {args.orders:,} orders)")
    hows = ("records", *(("pipeline",) if args.pipeline else ()))
    for how in (*hows, *(("json.loads",) if args.baseline else ())):
        r = measure(args.out, how, args.db)
        print(
            f"{how:>10}: {r['records']:,.0f} records ({r['bad']:.0f} bad) in {r['seconds']:.1f}s"
            f" = {r['records'] / r['seconds']:,.0f} records/s, peak RSS {r['peak_rss_mb']:,.0f} MB"
            + (f", run {r['status']}" if "status" in r else "")
        )


if __name__ == "__main__":
    main()
