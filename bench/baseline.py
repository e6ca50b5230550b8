"""Bare bulk-load baseline: the fastest plain way to put the benchmark CSV into each database.

Anything omshub adds on top (mapping, validation, upsert, lineage) is judged against these
numbers, so they use no keys, no conflict handling and one transaction:

* SQLite: ``executemany`` INSERT of parsed rows into a plain table, WAL journal;
* PostgreSQL: ``COPY ... FROM STDIN`` through psycopg 3, either of the same parsed rows
  (``write_row``, comparable with SQLite) or of the CSV bytes as they are (the server's
  own ceiling).

Reading/parsing the CSV is timed separately (``read_seconds``) and not in ``seconds``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

REPO_ROOT = Path(__file__).resolve().parents[1]
TABLE = "bench_order_lines"
COLUMNS = (
    "order_number", "line_no", "sku", "qty", "unit_price", "currency", "status",
    "customer_email", "ordered_at", "updated_at",
)  # fmt: skip
SQLITE_DDL = f"""
create table {TABLE} (
    order_number text, line_no integer, sku text, qty integer, unit_price numeric,
    currency text, status text, customer_email text, ordered_at text, updated_at text
)"""
PG_DDL = f"""
create table {TABLE} (
    order_number text, line_no integer, sku text, qty integer, unit_price numeric(12, 2),
    currency text, status text, customer_email text,
    ordered_at timestamptz, updated_at timestamptz
)"""
COPY_CHUNK = 1 << 20

PgInput = Literal["rows", "csv"]


def _read_rows(csv_path: Path) -> list[list[str]]:
    """Parse the CSV with the stdlib reader; checks the header so a stale file fails loudly."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise ValueError(f"{csv_path}: header {header} != {list(COLUMNS)}")
        return list(reader)


def _result(path: str, rows: int, seconds: float, read_seconds: float) -> dict[str, Any]:
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds > 0 else None,
        "path": path,
        "read_seconds": round(read_seconds, 3),
    }


def _sqlite(url: str, csv_path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    rows = _read_rows(csv_path)
    read_s = time.perf_counter() - started

    engine = create_engine(url, poolclass=NullPool)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        conn.execute("pragma journal_mode=wal")
        conn.execute(f"drop table if exists {TABLE}")
        conn.execute(SQLITE_DDL)
        conn.commit()
        insert = f"insert into {TABLE} values ({', '.join('?' * len(COLUMNS))})"

        started = time.perf_counter()
        conn.executemany(insert, rows)  # sqlite3 opens one implicit transaction
        conn.commit()
        seconds = time.perf_counter() - started

        loaded = conn.execute(f"select count(*) from {TABLE}").fetchone()[0]
    finally:
        raw.close()
        engine.dispose()
    if loaded != len(rows):
        raise RuntimeError(f"sqlite loaded {loaded} rows, expected {len(rows)}")
    return _result("sqlite executemany", len(rows), seconds, read_s)


def _postgresql(url: str, csv_path: Path, pg_input: PgInput) -> dict[str, Any]:
    columns = ", ".join(COLUMNS)
    started = time.perf_counter()
    if pg_input == "rows":
        rows = _read_rows(csv_path)
        n_rows = len(rows)
    else:
        data = csv_path.read_bytes()
        n_rows = max(data.count(b"\n") - 1, 0)  # generated CSV: one line per row + header
    read_s = time.perf_counter() - started

    # psycopg 3 explicitly: COPY needs it, and a bare postgresql:// could mean psycopg2.
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)
        with conn.cursor() as cur:
            cur.execute(f"drop table if exists {TABLE}")
            cur.execute(PG_DDL)
        conn.commit()

        started = time.perf_counter()
        with conn.cursor() as cur:
            if pg_input == "rows":
                with cur.copy(f"copy {TABLE} ({columns}) from stdin") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                view = memoryview(data)
                sql = f"copy {TABLE} ({columns}) from stdin with (format csv, header true)"
                with cur.copy(sql) as copy:
                    for offset in range(0, len(view), COPY_CHUNK):
                        copy.write(view[offset : offset + COPY_CHUNK])
        conn.commit()
        seconds = time.perf_counter() - started

        with conn.cursor() as cur:
            counted = cur.execute(f"select count(*) from {TABLE}").fetchone()
        conn.commit()
    finally:
        raw.close()
        engine.dispose()
    loaded = counted[0] if counted else 0
    if loaded != n_rows:
        raise RuntimeError(f"postgresql loaded {loaded} rows, expected {n_rows}")
    label = "postgresql COPY"
    result = _result(label, n_rows, seconds, read_s)
    result["input"] = "parsed rows (write_row)" if pg_input == "rows" else "CSV bytes"
    return result


def bare_bulk_insert(url: str, csv_path: Path, pg_input: PgInput = "rows") -> dict[str, Any]:
    """Load ``csv_path`` into a fresh plain table at ``url``; returns the timing.

    Keys: rows, seconds (load + commit), rows_per_s, path ("sqlite executemany" or
    "postgresql COPY"), read_seconds (CSV read, excluded from seconds); PostgreSQL adds input.
    ``pg_input="csv"`` streams the file bytes to COPY instead of parsed rows.
    """
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite(url, csv_path)
    if backend == "postgresql":
        return _postgresql(url, csv_path, pg_input)
    raise ValueError(f"unsupported backend {backend!r} (sqlite or postgresql)")


def _show(result: dict[str, Any]) -> None:
    extra = f" [{result['input']}]" if "input" in result else ""
    print(
        f"{result['path']:<20}{extra:<28} {result['rows']:>10,} rows  "
        f"{result['seconds']:>7.2f} s  {result['rows_per_s']:>10,} rows/s  "
        f"(CSV read {result['read_seconds']:.2f} s, not included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Bare bulk-load baseline, SQLite and PostgreSQL")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--csv", type=Path, help="reuse this CSV instead of generating one")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from bench.datagen import write_order_lines_csv
    from tests import pgserver

    with tempfile.TemporaryDirectory(prefix="omshub-bench-") as tmp:
        csv_path = args.csv
        if csv_path is None:
            csv_path = Path(tmp) / "order_lines.csv"
            started = time.perf_counter()
            write_order_lines_csv(csv_path, args.lines, args.seed)
            took = time.perf_counter() - started
            print(f"generated {args.lines:,} lines in {took:.2f} s -> {csv_path}")

        _show(bare_bulk_insert(f"sqlite:///{Path(tmp) / 'baseline.sqlite'}", csv_path))

        server = make_url(pgserver.server_url())
        print(f"postgresql server: {server.render_as_string(hide_password=True)}")
        db_url = pgserver.create_database("omshub_bench")
        try:
            _show(bare_bulk_insert(db_url, csv_path, pg_input="rows"))
            _show(bare_bulk_insert(db_url, csv_path, pg_input="csv"))
        finally:
            pgserver.drop_database(db_url)


if __name__ == "__main__":
    main()
