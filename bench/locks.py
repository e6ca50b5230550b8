"""What the concurrency locks cost: a 20,000-order batch loaded with and without them.

On a fresh PostgreSQL (or SQLite) store, per round: insert 20,000 orders, then update
all of them (new totals, newer time), each in `write_transaction`; "with locks" adds
`source_xact_lock` + `lock_rows(batch_row_ids(...))` and keeps the row locks
`SqlWriter.fetch` takes; "without" switches both off. Prints medians per phase.

    python bench/locks.py [--orders 20000] [--rounds 5] [--backend postgresql sqlite]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("OMSHUB_HOME", str(ROOT))


def load(url: str, job: dict[str, Any], locked: bool) -> dict[str, float]:
    import loadworkers

    import oms.writer
    from oms.db import get_engine
    from oms.loader import LoadContext, Loader
    from oms.locks import lock_rows, source_xact_lock, write_transaction
    from oms.rowids import batch_row_ids

    oms.writer.lock_rows = lock_rows if locked else (lambda conn, ids: 0)  # type: ignore[assignment]
    frame = loadworkers.order_frame(job)
    system = job["system"]
    ctx = LoadContext(system, "channel", "r", "b", "shop.orders", "1", dt.datetime.now(dt.UTC))
    t0 = time.perf_counter()
    with write_transaction(get_engine(url)) as conn:
        t1 = time.perf_counter()
        ids = batch_row_ids({"sales_order": frame}, system) if locked else {}
        t2 = time.perf_counter()
        if locked:
            source_xact_lock(conn, system)
            lock_rows(conn, ids)
        t3 = time.perf_counter()
        Loader(loadworkers.OWNERSHIP).load(conn, "sales_order", frame, ctx)
    t4 = time.perf_counter()
    return {"batch_row_ids": t2 - t1, "lock": t3 - t2, "load+commit": t4 - t3, "total": t4 - t0}


def bench(url: str, orders: int, rounds: int) -> None:
    from oms.db import get_engine, upgrade

    upgrade(url)
    get_engine(url).connect().close()
    times: dict[tuple[str, bool], list[dict[str, float]]] = {}
    for k in range(1, rounds + 1):
        for locked in (False, True):  # alternate, so a warming store favours neither
            shop = f"shop{k}{int(locked)}"  # fresh external ids and orders: an insert round
            for phase, role in (("insert", "older"), ("update", "newer")):
                job = {"n": orders, "round": k, "role": role, "system": shop}
                times.setdefault((phase, locked), []).append(load(url, job, locked))
    print(f"{url.split(':')[0]}, {orders} orders, median of {rounds}:")
    for (phase, locked), runs in sorted(times.items()):
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        label = "with locks   " if locked else "without locks"
        print(
            f"  {phase:6} {label}: total {med['total']:.3f} s ({orders / med['total']:,.0f} orders/s)"
            f"  batch_row_ids {med['batch_row_ids'] * 1000:.1f} ms  locks {med['lock'] * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", nargs="+", default=["postgresql"])
    args = parser.parse_args()
    for backend in args.backend:
        if backend == "sqlite":
            tmp = tempfile.mkdtemp(prefix="omshub-bench-locks-")
            bench(f"sqlite:///{tmp}/store.db", args.orders, args.rounds)
            continue
        import pgserver

        url = pgserver.create_database()
        try:
            bench(url, args.orders, args.rounds)
        finally:
            from oms.db import get_engine

            get_engine(url).dispose()
            pgserver.drop_database(url)


if __name__ == "__main__":
    main()
