"""Speed of the set-based stock and order-line steps (oms.load.stock, oms.load.lines).

    python bench/steps.py --db sqlite|postgresql [--positions 100000] [--lines 200000]

Not a test: prints rows/s of each step on a fresh store (SQLite file in a temp dir, or a
fresh database on the PostgreSQL of tests/pgserver.py, dropped at the end):

- snapshot: first load (every position new), the same snapshot again (no change), a
  later snapshot with 10% of the quantities changed (90% confirmed, 10% moved);
- ledger: `apply_ledger` of one movement per position (existing positions) + 10% new;
- lines: `refresh_lines` for new order lines none of which is shipped (a first load),
  after every line got a shipment line (all lines change), the same again (nothing
  changes), 10% of the lines get a return line, every line touched again (none differs);
- baselines of the same run: a bare bulk insert of the movements (COPY / executemany)
  and a bare staged UPDATE of every order line (the write cost alone).
Test data is written with plain bulk inserts (oms.writer.SqlWriter), not timed. Each line
also shows CPU time: this process's (on SQLite nearly all the work: the database runs
in-process) plus, on PostgreSQL, the server backend's (from /proc), so figures stay
comparable on a busy machine. The load average is printed first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from oms.arrow import entity_schema  # noqa: E402
from oms.db import get_engine, upgrade  # noqa: E402
from oms.ids import canonical_id  # noqa: E402
from oms.load._stepsql import StepSql  # noqa: E402
from oms.load.lines import refresh_lines  # noqa: E402
from oms.load.stock import apply_ledger, load_snapshot  # noqa: E402
from oms.loader import LoadContext  # noqa: E402
from oms.models import InventoryMovement, OrderLine, ReturnLine, ShipmentLine, table  # noqa: E402
from oms.writer import SqlWriter  # noqa: E402

T0 = dt.datetime(2026, 11, 20, 6, tzinfo=dt.UTC)


def ctx(run: str) -> LoadContext:
    return LoadContext("wms", "wms", run, f"{run}-b", "wms.stock", "1", T0 + dt.timedelta(days=3))


def snapshot(n: int, at: dt.datetime, changed_every: int = 0) -> pa.Table:
    def qty(i: int) -> Decimal:
        bump = 1 if changed_every and i % changed_every == 0 else 0
        return Decimal(i % 500 + bump) + Decimal("0.25")

    rows = {
        "sku": [f"SKU-{i // 4:06d}" for i in range(n)],
        "location_code": [f"WH-{i % 4}" for i in range(n)],
        "on_hand": [qty(i) for i in range(n)],
        "allocated": [Decimal(i % 7) for i in range(n)],
        "as_of": [at] * n,
        "_record": list(range(n)),
        "_external_id": [f"{i}" for i in range(n)],
        "_updated_at": [at] * n,
    }
    return pa.Table.from_pydict(rows, schema=entity_schema("inventory_snapshot"))


#: PostgreSQL backend pid of the engine's (single, reused) pooled connection
_BACKEND: list[int] = []


def _server_cpu() -> float:
    """CPU seconds the PostgreSQL backend serving this script has used (from /proc: the
    server runs on this machine), or 0 on SQLite."""
    if not _BACKEND:
        return 0.0
    try:
        fields = Path(f"/proc/{_BACKEND[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(label: str, n: int, fn: Callable[[], Any], out: dict[str, float]) -> Any:
    """Run `fn`; print wall rows/s and CPU rows/s (this process + the PG backend).

    CPU time stays comparable when other work shares the machine; wall time does not.
    """
    t, c, sc = time.perf_counter(), time.process_time(), _server_cpu()
    value = fn()
    s, cpu = time.perf_counter() - t, time.process_time() - c + _server_cpu() - sc
    out[label] = round(n / s)
    out[f"{label} cpu"] = round(n / max(cpu, 1e-9))
    print(
        f"{label:<28} {n:>8} rows {s:7.2f} s {n / s:>10,.0f} rows/s"
        f"  | CPU {cpu:6.2f} s {n / max(cpu, 1e-9):>10,.0f} rows/s  -> {value}"
    )
    return value


def bench_stock(engine: Any, n: int, out: dict[str, float]) -> None:
    def snap(tbl: pa.Table, run: str) -> Any:
        with engine.begin() as conn:
            r = load_snapshot(conn, tbl, ctx(run))
        return f"inserted {r.inserted} updated {r.updated} unchanged {r.unchanged}"

    first = snapshot(n, T0)
    timed("snapshot first load", n, lambda: snap(first, "s1"), out)
    timed("snapshot no change", n, lambda: snap(first, "s2"), out)
    later = snapshot(n, T0 + dt.timedelta(days=1), changed_every=10)
    timed("snapshot 10% changed", n, lambda: snap(later, "s3"), out)

    # one movement per existing position, plus 10% for positions not yet known
    at = T0 + dt.timedelta(days=2)
    keys = [(f"SKU-{i // 4:06d}", f"WH-{i % 4}") for i in range(n)]
    keys += [(f"NEW-{i:06d}", "WH-0") for i in range(n // 10)]
    rows: list[dict[str, Any]] = [
        {
            "id": canonical_id("inventory_movement", [f"sale-{i}"]),
            "movement_key": f"sale-{i}",
            "sku": sku,
            "location_code": loc,
            "delta_on_hand": Decimal("-1.5"),
            "delta_allocated": Decimal(0),
            "reason": "sale",
            "occurred_at": at,
        }
        for i, (sku, loc) in enumerate(keys)
    ]

    def bare_insert() -> int:
        with engine.begin() as conn:
            SqlWriter().insert(conn, table(InventoryMovement), rows)
        return len(rows)

    timed("baseline: bare insert", len(rows), bare_insert, out)

    def ledger() -> int:
        with engine.begin() as conn:
            return apply_ledger(conn, [r["id"] for r in rows], ctx("m1"))

    timed("ledger (movements)", len(rows), ledger, out)


def bench_lines(engine: Any, n: int, out: dict[str, float]) -> None:
    lines: list[dict[str, Any]] = []
    ships: list[dict[str, Any]] = []
    rets: list[dict[str, Any]] = []
    for i in range(n):
        number, no = f"{i // 5:07d}", i % 5 + 1
        lid = canonical_id("order_line", ["shop", number, no])
        lines.append(
            {
                "id": lid,
                "order_origin": "shop",
                "order_number": number,
                "line_no": no,
                "sku": f"SKU-{i % 1000}",
                "qty_ordered": Decimal(2),
                "status": "open",
            }
        )
        ships.append(
            {
                "id": canonical_id("shipment_line", ["ups", f"T{i // 5}", no]),
                "carrier": "ups",
                "tracking_number": f"T{i // 5}",
                "line_no": no,
                "order_origin": "shop",
                "order_number": number,
                "order_line_id": lid,
                "qty": Decimal(1 + i % 2),
            }
        )
        if i % 10 == 0:
            rets.append(
                {
                    "id": canonical_id("return_line", ["rms", f"R{i}", no]),
                    "rma_issuer": "rms",
                    "rma_number": f"R{i}",
                    "line_no": no,
                    "order_line_id": lid,
                    "qty": Decimal(1),
                }
            )
    w = SqlWriter()
    with engine.begin() as conn:
        w.insert(conn, table(OrderLine), lines)

    def refresh(changed: dict[str, list[str]], run: str) -> int:
        with engine.begin() as conn:
            return refresh_lines(conn, changed, ctx(run))

    line_ids = {"order_line": [r["id"] for r in lines]}
    timed("lines: new, none shipped", n, lambda: refresh(line_ids, "l0"), out)
    with engine.begin() as conn:
        w.insert(conn, table(ShipmentLine), ships)
    ship_ids = {"shipment_line": [s["id"] for s in ships]}
    timed("lines: all shipped", n, lambda: refresh(ship_ids, "l1"), out)
    timed("lines: no change", n, lambda: refresh(ship_ids, "l2"), out)
    with engine.begin() as conn:
        w.insert(conn, table(ReturnLine), rets)
    ret_ids = {"return_line": [r["id"] for r in rets]}
    timed("lines: 10% returned", len(rets), lambda: refresh(ret_ids, "l3"), out)
    timed("lines: all touched, same", n, lambda: refresh(line_ids, "l4"), out)

    def bare_update() -> int:
        """The same number of order lines written by id from a staged table, nothing
        decided: what the database charges for the writes alone."""
        with engine.begin() as conn:
            q = StepSql(conn)
            q.stage_rows("_bare", [("id", "text")], [(i,) for i in line_ids["order_line"]])
            now = q.time(T0)
            sql = "UPDATE order_line SET updated_at = :now FROM _bare b WHERE order_line.id = b.id"
            return int(q.run(sql, {"now": now}).rowcount)

    timed("baseline: bare staged update", n, bare_update, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--positions", type=int, default=100_000)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="omshub-steps-")
    if args.db == "sqlite":
        url = f"sqlite:///{Path(tmp.name) / 'store.db'}"
    else:
        import pgserver

        url = pgserver.create_database()
    try:
        upgrade(url)
        engine = get_engine(url)
        if args.db == "postgresql":
            with engine.connect() as conn:
                _BACKEND.append(int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() or 0))
        out: dict[str, float] = {}
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{args.db}: {args.positions} positions, {args.lines} order lines; load {load}")
        bench_stock(engine, args.positions, out)
        bench_lines(engine, args.lines, out)
        engine.dispose()
        if args.json:
            print(json.dumps({"db": args.db, **out}))
    finally:
        if args.db == "postgresql":
            pgserver.drop_database(url)
        tmp.cleanup()


if __name__ == "__main__":
    main()
