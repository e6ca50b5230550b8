"""The throwaway project a cluster test loads, and how two stores are compared.

The project uses the shipped Shopify order mapping (orders with line items as children,
code lists, transforms) on generated files: several files, so the DAG maps one task per
batch and both workers get some, each big enough that loading one takes seconds under a
small `OMSHUB_CHUNK_RECORDS`, so a worker can be killed in the middle of a batch.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "clustershop"
DAG_ID = f"omshub_source_{SOURCE}"
#: wall-clock provenance; with every `*_run_id` and `*_batch_id` column these name the
#: load, not the data: they differ between two loads of the same data by design
LOAD_TIMES = frozenset({"created_at", "updated_at"})
SKUS = ("NW-JKT-RED-M", "NW-SOCK-GRY-L", "NW-TENT-2P", "NW-BOOT-BRN-42", "NW-CAP-BLK")
#: the data every cluster test loads: 4 batches (two per worker) of 600 orders (~1,200
#: lines) each, in chunks of 100 records, so a batch has several chunks to die in
FILES, ORDERS_PER_FILE, CHUNK_RECORDS = 4, 600, 100
FIN = ("paid", "pending", "refunded", "partially_refunded", "authorized")


def write_project(home: Path, files: int, orders_per_file: int) -> Path:
    """A project with one folder source of `files` order files, reprocessed every run.

    `retries: 2` and a 1-second retry delay: a task whose worker died is retried at once
    (the task's own failures are mapped onto Airflow's by `_airflow_errors`).
    """
    for sub in ("config/sources", "mappings", "drop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "config/codes", home / "config/codes", dirs_exist_ok=True)
    shutil.copy(ROOT / "config/ownership.yaml", home / "config/ownership.yaml")
    shutil.copytree(ROOT / "mappings/shopify", home / "mappings/shopify", dirs_exist_ok=True)
    (home / "config/sources" / f"{SOURCE}.yaml").write_text(
        textwrap.dedent(f"""\
        name: {SOURCE}
        system: shopify
        kind: channel
        description: generated Shopify orders for the CeleryExecutor cluster test
        connector: {{type: local_folder, path: drop}}
        schedule: null
        mode: full
        retries: 2
        retry_delay_seconds: 1
        reject_threshold: 0.5
        streams:
          - name: orders
            pattern: "orders_*.json"
            format: {{type: json, records_path: orders}}
            mapping: shopify/orders.yaml
        """)
    )
    for f in range(files):
        orders = [order(f * orders_per_file + i) for i in range(orders_per_file)]
        (home / "drop" / f"orders_{f:03d}.json").write_text(json.dumps({"orders": orders}))
    return home


def order(n: int) -> dict[str, Any]:
    """One Shopify order with 1-3 lines; every value derives from `n` (reproducible)."""
    created = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=7 * n)
    lines: list[dict[str, Any]] = [
        {
            "id": 10_000_000 + 10 * n + k,
            "sku": SKUS[(n + k) % len(SKUS)].lower(),
            "name": f"item {(n + k) % len(SKUS)}",
            "quantity": 1 + (n + k) % 4,
            "price": f"{5 + (n * 7 + k) % 200}.{(n + k) % 100:02d}",
        }
        for k in range(1 + n % 3)
    ]
    total = sum(int(li["quantity"]) * float(li["price"]) for li in lines)
    return {
        "id": 5_000_000_000 + n,
        "name": f"#{100_000 + n}",
        "email": f"Buyer{n % 997}@Example.org ",
        "created_at": created.isoformat(),
        "updated_at": (created + dt.timedelta(hours=2)).isoformat(),
        "currency": "usd",
        "financial_status": FIN[n % len(FIN)],
        "fulfillment_status": None if n % 4 else "fulfilled",
        "subtotal_price": f"{total:.2f}",
        "total_tax": f"{total * 0.1:.2f}",
        "total_discounts": "0.00",
        "total_price": f"{total * 1.1 + 4.95:.2f}",
        "customer": {"id": 800_000 + n % 997},
        "shipping_address": {
            "first_name": "Ann",
            "last_name": f"Buyer{n % 997}",
            "address1": f"{n} Main St",
            "city": "Seattle",
            "province_code": "WA",
            "zip": f"98{n % 1000:03d}",
            "country_code": "US",
        },
        "shipping_lines": [{"title": "Ground", "price": "4.95"}],
        "line_items": lines,
    }


def names_the_load(column: str) -> bool:
    return column in LOAD_TIMES or column.endswith(("run_id", "batch_id"))


def business_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every business table's rows without run-specific provenance, sorted by id."""
    from oms.models import BUSINESS_TABLES, table

    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, model in sorted(BUSINESS_TABLES.items()):
            t = table(model)
            cols = [c for c in t.columns if not names_the_load(c.name)]
            out[name] = [tuple(r) for r in conn.execute(select(*cols).order_by(t.c.id))]
    return out


def change_log(engine: Engine) -> list[tuple[Any, ...]]:
    """The change log without run, batch and time: a batch loaded twice would show here."""
    from oms.bookkeeping import ChangeLog

    t = ChangeLog.__table__
    cols = [t.c.entity, t.c.canonical_id, t.c.system, t.c.operation, t.c.field]
    cols += [t.c.old_value, t.c.new_value]
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*cols)))


def batch_states(engine: Engine) -> dict[str, tuple[str, int | None]]:
    """landed batch original name -> (status, record count)."""
    from oms.bookkeeping import LandedBatch

    t = LandedBatch.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.original_name, t.c.status, t.c.record_count))
        return {name: (status, count) for name, status, count in rows}
