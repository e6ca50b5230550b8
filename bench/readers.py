"""Reader speed: a landed file through `iter_chunks` (columnar) or `iter_records` (per row).

    python bench/readers.py FILE [--format csv] [--path chunks|records|both] [--size 50000]

Each path runs in its own process so its peak RSS is its own. Prints rows/s, seconds and
peak RSS (MB); with --json one JSON object per path.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(path: str, file: Path, fmt_name: str, size: int) -> dict[str, float | int | str]:
    sys.path.insert(0, str(ROOT))
    import pandas  # noqa: F401  (pyarrow imports it on the first table: not a read cost)
    import pyarrow as pa

    from connectors.base import BadRecord, iter_chunks, iter_records
    from connectors.registry import get_format

    pa.table({"warm": [1]})
    fmt = get_format(fmt_name)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    good = bad = 0
    with file.open("rb") as stream:
        if path == "chunks":
            for chunk in iter_chunks(fmt, stream, {}, file.name, size):
                good += len(chunk.positions)
                bad += len(chunk.bad)
        else:
            for item in iter_records(fmt, stream, {}, file.name):
                if isinstance(item, BadRecord):
                    bad += 1
                else:
                    good += 1
    took = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "path": path,
        "rows": good + bad,
        "bad": bad,
        "seconds": round(took, 3),
        "rows_per_s": round((good + bad) / took),
        "cpu_seconds": round(cpu, 3),  # all threads: steadier than wall time on a busy host
        "peak_rss_mb": round(peak),
        "rss_before_read_mb": round(before),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", default="csv")
    parser.add_argument("--path", choices=["chunks", "records", "both"], default="both")
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.path, args.file, args.format, args.size)))
        return
    paths = ["chunks", "records"] if args.path == "both" else [args.path]
    for path in paths:
        cmd = [sys.executable, __file__, str(args.file), "--format", args.format]
        cmd += ["--path", path, "--size", str(args.size), "--child"]
        result = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"{path:8} {result['rows']:>10,} rows ({result['bad']} bad) in "
                f"{result['seconds']:.2f} s (cpu {result['cpu_seconds']:.2f} s): "
                f"{result['rows_per_s']:>10,} rows/s, "
                f"peak RSS {result['peak_rss_mb']} MB (before reading {result['rss_before_read_mb']})"
            )


if __name__ == "__main__":
    main()
