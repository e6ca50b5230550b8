"""Speed of `oms.load.upsert` on order lines (a script, not a timed test).

Besides wall time it prints CPU seconds: this process's, and on PostgreSQL the server
backend's (read from /proc: the server runs on this machine). On a busy 2-core machine
wall time mostly measures the neighbours; rows / (client + server CPU) does not.

    .venv/bin/python tests/oms/load/speed_upsert.py --rows 200000 --db postgresql|sqlite

Runs, each in one transaction: first load into an empty store, the same rows again
(unchanged), and 10% of the orders changed (newer update time, qty_allocated set, so
status and an owned field change). Prints rows/s per run and rows written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, func, select

from oms.db import make_engine, upgrade
from oms.load.upsert import upsert
from oms.loader import LoadContext
from oms.models import ChangeLog, OrderLine, table
from oms.ownership import Ownership

# after the imports above: tests/oms would otherwise shadow the oms package
sys.path.append(str(Path(__file__).resolve().parents[2]))  # tests/: pgserver

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def lines(n: int, changed_every: int = 0) -> pa.Table:
    """n order lines, 5 per order; with `changed_every`, every k-th order is newer."""
    i = np.arange(n)
    ks = i.tolist()
    order = i // 5
    changed = (order % changed_every == 0) if changed_every else np.zeros(n, dtype=bool)
    upd = pa.array(
        [T0 + dt.timedelta(hours=2 if c else 0) for c in changed], pa.timestamp("us", tz="UTC")
    )
    money = pa.decimal128(18, 4)
    return pa.table(
        {
            "order_number": pa.array([f"SO{o:08d}" for o in order]),
            "line_no": pa.array(i % 5 + 1, pa.int64()),
            "sku": pa.array([f"SKU-{k % 5000:05d}" for k in ks]),
            "description": pa.array([f"item {k % 5000}" for k in ks]),
            "qty_ordered": pa.array([Decimal(k % 7 + 1) for k in ks], money),
            "qty_allocated": pa.array([Decimal(1) if c else None for c in changed], money),
            "qty_cancelled": pa.array([Decimal(0)] * n, money),
            "unit_price": pa.array([Decimal(k % 1000) / 100 for k in ks], money),
            "line_total": pa.array([Decimal(k % 1000) / 10 for k in ks], money),
            "fulfilment_location": pa.array(["WH1"] * n),
            "_record": pa.array(i, pa.int64()),
            "_external_id": pa.array(
                [f"{o}/{k % 5 + 1}" for o, k in zip(order.tolist(), ks, strict=True)]
            ),
            "_updated_at": upd,
        }
    )


def backend_cpu(conn: Connection) -> float:
    """CPU seconds the PostgreSQL backend of `conn` has used (0 on SQLite: in-process)."""
    if conn.dialect.name != "postgresql":
        return 0.0
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    args = ap.parse_args()

    import pgserver  # tests/pgserver.py

    tmp = tempfile.mkdtemp(prefix="omshub-speed-")
    url = pgserver.create_database() if args.db == "postgresql" else f"sqlite:///{tmp}/s.db"
    upgrade(url)
    engine = make_engine(url)
    own = Ownership.load(Path(__file__).resolve().parents[3] / "config" / "ownership.yaml")
    first, changed = lines(args.rows), lines(args.rows, changed_every=10)
    runs = [("first", first), ("unchanged", first), ("changed10", changed)]
    try:
        for k, (name, tbl) in enumerate(runs):
            ctx = LoadContext("shop", "channel", f"r{k}", f"b{k}", "bench", "1", T0)
            start, cpu = time.perf_counter(), time.process_time()
            with engine.begin() as conn:
                server = backend_cpu(conn)
                res = upsert(conn, "order_line", tbl, ctx, own)
                server = backend_cpu(conn) - server
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu
            with engine.connect() as conn:
                t = table(OrderLine)
                touched = conn.execute(
                    select(func.count()).where(t.c.last_run_id == f"r{k}")
                ).scalar()
                logged = conn.execute(
                    select(func.count()).where(table(ChangeLog).c.run_id == f"r{k}")
                ).scalar()
            print(
                f"{args.db} {name:9} {args.rows / wall:>9,.0f} rows/s wall ({wall:5.2f} s)"
                f" | cpu client {cpu:5.2f} s server {server:5.2f} s:"
                f" {args.rows / (cpu + server):>9,.0f} rows/cpu-s"
                f" | ins {res.inserted} upd {res.updated} unch {res.unchanged}"
                f" rows written {touched} log {logged}"
            )
    finally:
        engine.dispose()
        if args.db == "postgresql":
            pgserver.drop_database(url)


if __name__ == "__main__":
    main()
