"""X12 reading speed: omshub's streaming reader against pyx12's X12Reader, same file.

    python bench/x12read.py [--mb 50] [--json] [--pyx12-limit 90]

Builds a ~MB-sized interchange of 850 purchase orders (one ISA, one GS, many STs, '~'
plus newline) in a temporary folder, then times, in this one run: omshub iterating every
transaction and every segment, and `pyx12.x12file.X12Reader` iterating every segment.
omshub runs --runs times (the best is kept: other processes only ever slow a run down);
pyx12 runs once, over the whole file, and is stopped after --pyx12-limit CPU seconds: then its
speed is that of the prefix it read (the output says so; its duplicate-ST02 check slows it
as a group grows, so the prefix flatters it). Prints MB/s of wall time and of CPU time
(steadier on a shared machine) for both, and the ratios; --json prints one object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ISA = (
    "ISA*00*          *00*          *ZZ*OMSHUBBENCH    *ZZ*RETAILER       "
    "*261203*0815*U*00401*000000001*0*P*>~\n"
)


def purchase_order(n: int, lines: int = 12) -> list[str]:
    """The segments of one realistic 850 (ST..SE), control number `n`."""
    body = [
        f"BEG*00*SA*PO{n:08d}**20261203",
        "REF*DP*042",
        "REF*IA*VENDOR7788",
        "DTM*002*20261215",
        "N1*ST*OMSHUB DC EAST*92*0042",
        "N3*1200 INDUSTRIAL PKWY*DOCK 7",
        "N4*COLUMBUS*OH*43219*US",
        "N1*BT*OMSHUB RETAIL INC*92*0001",
    ]
    for i in range(1, lines + 1):
        body.append(
            f"PO1*{i}*{i * 3}*EA*{i * 1.25:.2f}**UP*0{n % 97:02d}1234567{i:02d}*VN*SKU-{i:05d}"
        )
        body.append(f"PID*F****WIDGET MODEL {i} BLUE")
    body.append(f"CTT*{lines}")
    st = f"ST*850*{n:09d}"
    return [st, *body, f"SE*{len(body) + 2}*{n:09d}"]


def build(path: Path, megabytes: float) -> tuple[int, int]:
    """Write one interchange of ~`megabytes`; returns (transaction sets, segments)."""
    target = int(megabytes * 1_000_000)
    sets = segments = 0
    with path.open("w", encoding="ascii", newline="") as out:
        out.write(ISA + "GS*PO*OMSHUBBENCH*RETAILER*20261203*0815*1*X*004010~\n")
        size = len(ISA) + 52
        while size < target:
            sets += 1
            text = "~\n".join(purchase_order(sets)) + "~\n"
            out.write(text)
            size += len(text)
            segments += text.count("~")
        out.write(f"GE*{sets}*1~\nIEA*1*000000001~\n")
    return sets, segments + 4


def time_omshub(path: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, sets, ST..SE segments) iterating every set and segment."""
    from connectors.x12 import iter_transactions

    started, cpu = time.perf_counter(), time.process_time()
    sets = segments = 0
    for tx in iter_transactions(path):
        sets += 1
        for _seg in tx.segments:
            segments += 1
    return time.perf_counter() - started, time.process_time() - cpu, sets, segments + 2 * sets


def time_pyx12(path: Path, limit: float) -> tuple[float, float, int, float, bool]:
    """(wall s, CPU s, segments, MB read, finished) iterating pyx12's X12Reader over
    `path`, stopped after `limit` CPU seconds (then MB read is the prefix it got through).
    CPU, not wall time, so a busy machine does not cut it shorter."""
    from pyx12.x12file import X12Reader

    started, cpu = time.perf_counter(), time.process_time()
    segments, finished = 0, True
    with (
        path.open("rb") as raw,
        io.TextIOWrapper(raw, encoding="ascii") as stream,
        X12Reader(stream) as reader,
    ):
        for _seg in reader:
            segments += 1
            if segments % 20000 == 0 and time.process_time() - cpu > limit:
                finished = False
                break
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        done = raw.tell() - len(reader.raw.buffer)  # what it had read, not buffered
    size = path.stat().st_size if finished else done
    return wall, cpu, segments, size / 1e6, finished


def measure(megabytes: float, limit: float, runs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="x12bench-") as tmp:
        big = Path(tmp) / "orders.x12"
        sets, segments = build(big, megabytes)
        mb = big.stat().st_size / 1e6
        times = []
        for _ in range(runs):
            wall, cpu, read_sets, read_segments = time_omshub(big)
            assert (read_sets, read_segments) == (sets, segments - 4), (read_sets, read_segments)
            times.append((wall, cpu))
        wall, cpu = min(t[0] for t in times), min(t[1] for t in times)
        pyx_wall, pyx_cpu, pyx_segments, pyx_mb, finished = time_pyx12(big, limit)
    note = "whole file" if finished else f"first {pyx_mb:.1f} MB (stopped after {limit:.0f} CPU s)"
    ours, theirs = mb / wall, pyx_mb / pyx_wall
    ours_cpu, theirs_cpu = mb / cpu, pyx_mb / pyx_cpu
    return {
        "file_mb": round(mb, 1),
        "transaction_sets": sets,
        "segments": segments,
        "omshub_runs": runs,
        "omshub_seconds": round(wall, 2),
        "omshub_cpu_seconds": round(cpu, 2),
        "omshub_mb_per_s": round(ours, 1),
        "omshub_mb_per_cpu_s": round(ours_cpu, 1),
        "omshub_segments_per_s": round(segments / wall),
        "pyx12_measured_on": note,
        "pyx12_segments": pyx_segments,
        "pyx12_seconds": round(pyx_wall, 2),
        "pyx12_cpu_seconds": round(pyx_cpu, 2),
        "pyx12_mb_per_s": round(theirs, 2),
        "pyx12_mb_per_cpu_s": round(theirs_cpu, 2),
        "ratio": round(ours / theirs, 1),
        "ratio_cpu": round(ours_cpu / theirs_cpu, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pyx12-limit", type=float, default=90.0, help="CPU seconds")
    parser.add_argument("--runs", type=int, default=3, help="omshub runs (best is kept)")
    args = parser.parse_args()
    r = measure(args.mb, args.pyx12_limit, args.runs)
    if args.json:
        print(json.dumps(r))
        return
    print(f"file: {r['file_mb']} MB, {r['transaction_sets']} x 850, {r['segments']} segments")
    print(
        f"omshub : {r['omshub_mb_per_s']:>7} MB/s wall, {r['omshub_mb_per_cpu_s']} MB/s CPU "
        f"({r['omshub_seconds']} s, {r['omshub_segments_per_s']} segments/s; "
        f"best of {r['omshub_runs']} runs)"
    )
    print(
        f"pyx12  : {r['pyx12_mb_per_s']:>7} MB/s wall, {r['pyx12_mb_per_cpu_s']} MB/s CPU "
        f"({r['pyx12_seconds']} s on the {r['pyx12_measured_on']})"
    )
    print(
        f"ratio  : {r['ratio']}x wall, {r['ratio_cpu']}x CPU (load average {r['load_average_1m']})"
    )


if __name__ == "__main__":
    main()
