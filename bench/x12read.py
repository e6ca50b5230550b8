"""X12 reading speed: omshub's streaming reader against pyx12's X12Reader, same file.

    python bench/x12read.py [--mb 50] [--interchanges 5] [--json] [--pyx12-limit 90] [--pure]

Builds a ~MB-sized file in a temporary folder: --interchanges ISAs, each with a group of
850 purchase orders and a group of 856 ship notices (HL hierarchy), '~' plus newline.
Then times, in this one run: omshub reading every event, set and segment (and checking
that no envelope check found an issue), and `pyx12.x12file.X12Reader` iterating every
segment. omshub runs --runs times (the best is kept: other processes only ever slow a run
down); pyx12 runs once, over the whole file, and is stopped after --pyx12-limit CPU
seconds: then its speed is that of the prefix it read (the output says so). pyx12 slows
down as a group grows (its ST02s are a list searched per set), so the ratio depends on
the group size: fewer interchanges, larger groups, a larger ratio. Prints MB/s of wall
time and of CPU time (steadier on a shared machine) for both, and the ratios; --json
prints one object. It states which splitter omshub ran ("c": the compiled
connectors.x12._speedups; "python": not built, or OMSHUB_X12_PURE=1); --pure also times
omshub's pure-Python splitter in the same run (same file, best of --runs).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ISA = (
    "ISA*00*          *00*          *ZZ*OMSHUBBENCH    *ZZ*RETAILER       "
    "*261203*0815*U*00401*{control:09d}*0*P*>~\n"
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
    return [f"ST*850*{n:09d}", *body, f"SE*{len(body) + 2}*{n:09d}"]


def ship_notice(n: int, orders: int = 2, packs: int = 2, items: int = 3) -> list[str]:
    """The segments of one realistic 856 (ST..SE): shipment, orders, packs, items (HL)."""
    body = [
        f"BSN*00*SH{n:08d}*20261203*0815*0001",
        "DTM*011*20261203*0815",
        "HL*1**S",
        f"TD1*CTN25*{orders * packs}****G*{orders * packs * 11.5:.1f}*LB",
        "TD5*B*2*ODFL*M*OLD DOMINION",
        f"REF*BM*BOL{n:010d}",
        "N1*SF*OMSHUB SUPPLY CO*92*0007",
        "N4*DAYTON*OH*45402*US",
        "N1*ST*OMSHUB DC EAST*92*0042",
        "N3*1200 INDUSTRIAL PKWY*DOCK 7",
        "N4*COLUMBUS*OH*43219*US",
    ]
    hl = 1
    for o in range(1, orders + 1):
        hl += 1
        order = hl
        body += [f"HL*{order}*1*O", f"PRF*PO{n:06d}{o:02d}***20261201"]
        for p in range(1, packs + 1):
            hl += 1
            pack = hl
            body += [f"HL*{pack}*{order}*P", f"MAN*GM*00{n:09d}{o:02d}{p:02d}000000"]
            for i in range(1, items + 1):
                hl += 1
                body += [
                    f"HL*{hl}*{pack}*I",
                    f"LIN*{i}*UP*0{n % 97:02d}1234567{i:02d}*VN*SKU-{i:05d}",
                    f"SN1**{i * 4}*EA",
                    f"PID*F****WIDGET MODEL {i} BLUE",
                ]
    body.append(f"CTT*{hl}")
    return [f"ST*856*{n:09d}", *body, f"SE*{len(body) + 2}*{n:09d}"]


KINDS: tuple[tuple[str, Callable[[int], list[str]]], ...] = (
    ("PO", purchase_order),
    ("SH", ship_notice),
)


def build(path: Path, megabytes: float, interchanges: int) -> tuple[int, int]:
    """Write ~`megabytes` of X12: `interchanges` ISAs, each with a group of 850s (PO) and
    a group of 856s (SH) of equal size; returns (transaction sets, segments)."""
    per_group = megabytes * 1_000_000 / (2 * interchanges)
    sets = segments = 0
    with path.open("w", encoding="ascii", newline="") as out:
        for control in range(1, interchanges + 1):
            out.write(ISA.format(control=control))
            for gs06, (kind, make) in enumerate(KINDS, 1):
                out.write(f"GS*{kind}*OMSHUBBENCH*RETAILER*20261203*0815*{gs06}*X*004010~\n")
                size = n = 0
                while size < per_group:
                    n += 1
                    text = "~\n".join(make(n)) + "~\n"
                    out.write(text)
                    size += len(text)
                    segments += text.count("~")
                out.write(f"GE*{n}*{gs06}~\n")
                sets += n
            out.write(f"IEA*2*{control:09d}~\n")
    return sets, segments + 6 * interchanges


def time_omshub(path: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, sets, segments) reading every event, every set and
    every segment, and checking that no envelope check found a problem."""
    from connectors.x12 import GroupEnd, InterchangeEnd, Transaction, read_events

    started, cpu = time.perf_counter(), time.process_time()
    sets = segments = envelope = 0
    for event in read_events(path):
        if isinstance(event, Transaction):
            assert not event.issues, event.issues
            sets += 1
            for _seg in event.segments:
                segments += 1
        elif isinstance(event, InterchangeEnd | GroupEnd):
            closed = event.interchange if isinstance(event, InterchangeEnd) else event.group
            assert not closed.issues, closed.issues
            envelope += 2  # its header and trailer
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall, cpu, sets, segments + 2 * sets + envelope


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


def best_omshub(path: Path, runs: int, expected: tuple[int, int]) -> tuple[float, float]:
    """(best wall s, best CPU s) of `runs` reads, each checked to read every set and segment."""
    times = []
    for _ in range(runs):
        wall, cpu, read_sets, read_segments = time_omshub(path)
        assert (read_sets, read_segments) == expected, (read_sets, read_segments)
        times.append((wall, cpu))
    return min(t[0] for t in times), min(t[1] for t in times)


def best_pure(path: Path, runs: int, expected: tuple[int, int]) -> tuple[float, float]:
    """best_omshub with the pure-Python splitter (what OMSHUB_X12_PURE=1 selects)."""
    from connectors.x12 import splitter

    chosen, splitter._fast = splitter._fast, splitter._py_fast
    try:
        return best_omshub(path, runs, expected)
    finally:
        splitter._fast = chosen


def measure(
    megabytes: float, limit: float, runs: int, interchanges: int, pure: bool = False
) -> dict[str, object]:
    from connectors.x12.splitter import TOKENIZER

    with tempfile.TemporaryDirectory(prefix="x12bench-") as tmp:
        big = Path(tmp) / "orders.x12"
        sets, segments = build(big, megabytes, interchanges)
        mb = big.stat().st_size / 1e6
        wall, cpu = best_omshub(big, runs, (sets, segments))
        pure_cpu = best_pure(big, runs, (sets, segments))[1] if pure else None
        pyx_wall, pyx_cpu, pyx_segments, pyx_mb, finished = time_pyx12(big, limit)
    note = "whole file" if finished else f"first {pyx_mb:.1f} MB (stopped after {limit:.0f} CPU s)"
    ours, theirs = mb / wall, pyx_mb / pyx_wall
    ours_cpu, theirs_cpu = mb / cpu, pyx_mb / pyx_cpu
    if pure_cpu is not None:
        extra = {
            "pure_python_cpu_seconds": round(pure_cpu, 2),
            "pure_python_mb_per_cpu_s": round(mb / pure_cpu, 1),
            "tokenizer_speedup_cpu": round(pure_cpu / cpu, 2),
        }
    else:
        extra = {}
    return {
        "omshub_tokenizer": TOKENIZER,
        "file_mb": round(mb, 1),
        "interchanges": interchanges,
        "groups": 2 * interchanges,
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
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pyx12-limit", type=float, default=90.0, help="CPU seconds")
    parser.add_argument("--runs", type=int, default=3, help="omshub runs (best is kept)")
    parser.add_argument("--interchanges", type=int, default=5, help="each with 2 groups")
    parser.add_argument("--pure", action="store_true", help="also time the Python splitter")
    args = parser.parse_args()
    r = measure(args.mb, args.pyx12_limit, args.runs, args.interchanges, args.pure)
    if args.json:
        print(json.dumps(r))
        return
    print(
        f"file: {r['file_mb']} MB, {r['interchanges']} interchanges, {r['groups']} groups, "
        f"{r['transaction_sets']} sets (850 and 856), {r['segments']} segments"
    )
    print(
        f"omshub : {r['omshub_mb_per_s']:>7} MB/s wall, {r['omshub_mb_per_cpu_s']} MB/s CPU "
        f"({r['omshub_seconds']} s, {r['omshub_segments_per_s']} segments/s; "
        f"best of {r['omshub_runs']} runs; splitter: {r['omshub_tokenizer']})"
    )
    if "pure_python_cpu_seconds" in r:
        print(
            f"omshub, pure-Python splitter: {r['pure_python_mb_per_cpu_s']} MB/s CPU "
            f"({r['pure_python_cpu_seconds']} CPU s; the splitter used is "
            f"{r['tokenizer_speedup_cpu']}x faster)"
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
