"""SQL source read speed: N rows of a PostgreSQL orders table into NDJSON batches.

Fills a scratch database (`omshub_sqlsrc_<hex>`, dropped afterwards) with N order rows
(uuid-free integer key, timestamptz cursor with runs of equal values, numeric, text,
a nullable column), then times `SqlTransport.fetch` reading them all in keyset chunks,
from the start (cursor None), as a first run would. Reports rows/s and MB/s of NDJSON.

    .venv/bin/python bench/sqlsource.py --rows 1000000 --chunk-rows 50000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

FILL = """
insert into orders
select i, timestamptz '2026-01-01 00:00:00+00' + (i / 20) * interval '1 second',
       'SO-' || lpad(i::text, 9, '0'), round((random() * 1000)::numeric, 2),
       case when i %% 7 = 0 then null else 'customer ' || (i %% 5000) end, 'paid'
from generate_series(1, %(rows)s) as i
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk-rows", type=int, default=50_000)
    args = ap.parse_args()

    import pgserver
    import psycopg
    from sqlalchemy.engine import make_url

    from connectors.base import StreamRequest, TransportContext
    from connectors.credentials import from_uri
    from connectors.registry import transport

    url = pgserver.create_database("omshub_sqlsrc")
    try:
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(
                "create table orders (id bigint primary key, updated_at timestamptz not null,"
                " number text not null, total numeric(12, 2), customer text, status text)"
            )
            t0 = time.perf_counter()
            conn.execute(FILL, {"rows": args.rows})
            conn.execute("create index on orders (updated_at, id)")
            conn.execute("analyze orders")
            fill = time.perf_counter() - t0
        creds = from_uri("bench", libpq.replace("postgresql://", "postgres://", 1))
        tr = transport("sql", {"conn_id": "bench"}, TransportContext("bench", ROOT, creds))
        opts = {
            "table": "orders",
            "cursor_column": "updated_at",
            "tiebreak": ["id"],
            "chunk_rows": args.chunk_rows,
        }
        t0 = time.perf_counter()
        rows = batches = size = 0
        for batch in tr.fetch(StreamRequest("orders", "ndjson", opts)):
            batches += 1
            rows += batch.content.count(b"\n")
            size += len(batch.content)
        seconds = time.perf_counter() - t0
    finally:
        pgserver.drop_database(url)
    assert rows == args.rows, (rows, args.rows)
    print(
        json.dumps(
            {
                "rows": rows,
                "batches": batches,
                "chunk_rows": args.chunk_rows,
                "fill_seconds": round(fill, 2),
                "read_seconds": round(seconds, 2),
                "rows_per_second": round(rows / seconds),
                "ndjson_mb": round(size / 1e6, 1),
                "mb_per_second": round(size / 1e6 / seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
