"""End-to-end benchmark: generated order lines through map -> validate -> load.

For SQLite and PostgreSQL it prints, from one run on the same CSV:
- the bare bulk-insert baseline (bench/baseline.py: executemany / COPY, no keys);
- omshub's pipeline (compiled YAML mapping, great-expectations suite, upsert with
  bindings, ownership, recency, provenance and change log), first load and a re-run of
  the same data (the idempotent path: every row unchanged);
- rows/s per phase and the ratio to the baseline.

    python bench/e2e.py --lines 1000000 [--batch 100000] [--backend sqlite postgresql]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]
os.environ.setdefault("OMSHUB_HOME", str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from baseline import bare_bulk_insert  # noqa: E402
from datagen import write_order_lines_csv  # noqa: E402

MAPPING = ROOT / "bench" / "mappings" / "order_lines.yaml"


def batches(csv_path: Path, size: int) -> Iterator[list[dict[str, Any]]]:
    with csv_path.open(newline="", encoding="utf-8") as f:
        chunk: list[dict[str, Any]] = []
        for row in csv.DictReader(f):
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def run_pipeline(url: str, csv_path: Path, batch_size: int, label: str) -> dict[str, float]:
    from oms.db import get_engine, upgrade
    from oms.loader import LoadContext, Loader
    from omshub.mappings import code_lists
    from omshub.pipeline import map_records, ownership
    from transforms.compiler import RECORD, compile_mapping

    upgrade(url)
    engine = get_engine(url)
    mapping = compile_mapping(MAPPING, code_lists(), display="bench/mappings/order_lines.yaml")
    loader = Loader(ownership())
    t = {"read": 0.0, "map+validate": 0.0, "load": 0.0}
    rows = changed = quarantined = 0
    t_all = time.perf_counter()
    it = batches(csv_path, batch_size)
    n = 0
    while True:
        t0 = time.perf_counter()
        records = next(it, None)
        t["read"] += time.perf_counter() - t0
        if records is None:
            break
        n += 1
        t0 = time.perf_counter()
        mapped = map_records(mapping, records)
        bad = mapped.bad_records()
        t["map+validate"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        ctx = LoadContext(
            "bench",
            "channel",
            f"bench-{label}",
            f"batch-{n}",
            mapping.name,
            mapping.version,
            dt.datetime.now(dt.UTC),
        )
        with engine.begin() as conn:
            for entity in ("sales_order", "order_line"):
                frame = mapped.frames[entity]
                good = frame[~frame[RECORD].isin(bad)]
                res = loader.load(conn, entity, good, ctx)
                changed += res.changed
        t["load"] += time.perf_counter() - t0
        rows += len(records)
        quarantined += len(bad)
        print(
            f"  {label}: {rows:>9,} lines  {rows / (time.perf_counter() - t_all):>9,.0f} lines/s",
            file=sys.stderr,
            flush=True,
        )
    t["total"] = time.perf_counter() - t_all
    return {**t, "rows": rows, "changed": changed, "quarantined": quarantined}


def report(
    backend: str, base: dict[str, Any], first: dict[str, float], again: dict[str, float]
) -> None:
    n = first["rows"]
    print(f"\n== {backend}: {n:,} order lines ==")
    print(f"  baseline {base['path']:<28} {base['rows_per_s']:>10,.0f} rows/s")
    for label, r in (("omshub first load", first), ("omshub re-run (unchanged)", again)):
        rate = n / r["total"]
        print(
            f"  {label:<37} {rate:>10,.0f} rows/s  = {rate / base['rows_per_s']:.2f}x baseline"
            f"  (read {n / r['read']:,.0f}/s, map+validate {n / r['map+validate']:,.0f}/s,"
            f" load {n / r['load']:,.0f}/s; changed {r['changed']:,}, quarantined {r['quarantined']:,})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="omshub-bench-") as tmp:
        csv_path = Path(tmp) / "order_lines.csv"
        t0 = time.perf_counter()
        write_order_lines_csv(csv_path, args.lines)
        print(f"generated {args.lines:,} lines in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        for backend in args.backend:
            if backend == "sqlite":
                base = bare_bulk_insert(f"sqlite:///{tmp}/baseline.db", csv_path)
                url = f"sqlite:///{tmp}/store.db"
                drop = None
            else:
                import pgserver

                base_url = pgserver.create_database("omshub_bench")
                base = bare_bulk_insert(base_url, csv_path)
                pgserver.drop_database(base_url)
                url = drop = pgserver.create_database("omshub_bench")
            try:
                first = run_pipeline(url, csv_path, args.batch, f"{backend} first")
                again = run_pipeline(url, csv_path, args.batch, f"{backend} re-run")
            finally:
                if drop:
                    from oms.db import get_engine

                    get_engine(drop).dispose()
                    pgserver.drop_database(drop)
            report(backend, base, first, again)


if __name__ == "__main__":
    main()
