"""The set-based upsert keeps the per-row loader's semantics, on SQLite and PostgreSQL.

The per-row `oms.loader.Loader` is the reference: the same batches go through it into
one store and through `oms.load.upsert.upsert` into another, and after every batch the
stores must hold the same business rows, bindings and update log, and the loads must
report the same counts and ids. Batches are generated (seeded) to hit the rules: several
systems and ranks, owned fields, nulls, stale and unchanged rows, duplicates in a batch,
external ids shared by different rows, columns a mapping leaves out.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pgserver
import pytest
from sqlalchemy import Engine, event, select

from oms.db import make_engine, upgrade
from oms.ids import canonical_id
from oms.load.rows import arrow_rows
from oms.load.upsert import upsert
from oms.loader import LoadContext, Loader, LoadResult
from oms.models import BUSINESS_TABLES, Binding, ChangeLog, table
from oms.ownership import Ownership
from oms.rowids import batch_row_ids, table_row_ids

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
OWN = Ownership(
    {
        "sales_order": {
            "status": ("wms", "erp", "channel"),
            "grand_total": ("erp",),
            "payment_status": ("channel", "erp"),
            "ship_method": ("wms", "channel", "erp"),
        },
        "order_line": {"qty_allocated": ("wms", "erp"), "unit_price": ("erp", "channel")},
    }
)
SYSTEMS = [("shopify", "channel"), ("sap", "erp"), ("wms", "wms"), ("crm", "crm")]
SKIP = {"created_run_id", "created_batch_id", "created_at"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two empty stores on one backend: (per-row reference, set-based)."""
    urls = (
        [f"sqlite:///{tmp_path / 'ref.db'}", f"sqlite:///{tmp_path / 'new.db'}"]
        if request.param == "sqlite"
        else [pgserver.create_database(), pgserver.create_database()]
    )
    engines = []
    for url in urls:
        upgrade(url)
        engines.append(make_engine(url))
    yield engines[0], engines[1]
    for url, e in zip(urls, engines, strict=True):
        e.dispose()
        if request.param == "postgresql":
            pgserver.drop_database(url)


def ctx(system: str, kind: str, k: int) -> LoadContext:
    return LoadContext(system, kind, f"r{k}", f"b{k}", f"{system}.m", "1", T0 + dt.timedelta(k))


def store(engine: Engine) -> dict[str, Any]:
    """Business rows (but created_*), bindings (but hash), update/derive log rows."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, model in BUSINESS_TABLES.items():
            t = table(model)
            cols = [c for c in t.c if c.name not in SKIP]
            out[name] = [tuple(r) for r in conn.execute(select(*cols).order_by(t.c.id))]
        b = table(Binding)
        bcols = [b.c.system, b.c.entity, b.c.external_id, b.c.canonical_id, b.c.source_updated_at]
        out["binding"] = sorted(tuple(r) for r in conn.execute(select(*bcols)))
        log = table(ChangeLog)
        lcols = [c for c in log.c if c.name != "id"]
        rows = conn.execute(select(*lcols).where(log.c.operation != "insert").order_by(log.c.id))
        out["change_log"] = [tuple(r) for r in rows]
    return out


def summary(r: LoadResult) -> tuple[Any, ...]:
    return (
        r.received,
        r.inserted,
        r.updated,
        r.unchanged,
        r.stale,
        r.duplicates,
        sorted(r.changed_ids),
        sorted(r.inserted_ids),
        sorted(map(repr, r.changed_keys)),
    )


def both(
    ref: Engine, new: Engine, entity: str, rows: list[dict[str, Any]], c: LoadContext
) -> tuple[LoadResult, LoadResult]:
    for i, r in enumerate(rows):
        r.setdefault("_record", i)
    tbl = arrow_rows(entity, rows)
    with ref.begin() as conn:  # same columns, same order: the log lists fields in it
        cols = [k for k in tbl.column_names if any(k in r for r in rows)]
        frame = pd.DataFrame([{k: r.get(k) for k in cols} for r in rows], dtype=object)
        a = Loader(OWN).load(conn, entity, frame, c)
    with new.begin() as conn:
        b = upsert(conn, entity, tbl, c, OWN)
    assert summary(b) == summary(a)
    assert store(new) == store(ref)
    return a, b


MONEY = [None, Decimal("10"), Decimal("10.50"), Decimal("12.3456"), Decimal("0")]
ORDER_FIELDS = {
    "status": [None, "open", "processing", "shipped"],
    "payment_status": [None, "paid", "pending"],
    "grand_total": MONEY,
    "ship_method": [None, "UPS", "FedEx"],
    "currency": [None, "USD", "EUR"],
    "channel": [None, "web"],
    "customer_email": [None, "A@x.com ", "b@x.com", "  "],
    "customer_external_id": [None, "c1", " c2 "],
    "ordered_at": [None, T0, T0 + dt.timedelta(microseconds=5)],
    "promised_date": [None, dt.date(2026, 12, 1)],
}
LINE_FIELDS = {
    "sku": [None, "A", "B"],
    "qty_ordered": [None, Decimal(2), Decimal("1.5")],
    "qty_allocated": [None, Decimal(0), Decimal(2)],
    "qty_cancelled": [None, Decimal(0), Decimal(2)],
    "unit_price": MONEY,
}


def _time(rnd: random.Random) -> dt.datetime | None:
    return None if rnd.random() < 0.1 else T0 + dt.timedelta(hours=rnd.randint(-2, 3))


def order_batch(rnd: random.Random, system: str) -> list[dict[str, Any]]:
    fields = rnd.sample(sorted(ORDER_FIELDS), rnd.randint(1, len(ORDER_FIELDS)))
    quote = system != "shopify" or rnd.random() < 0.5  # others quote shopify's numbers
    rows = []
    for _ in range(rnd.randint(1, 8)):
        r: dict[str, Any] = {"order_number": str(rnd.randint(1, 6)), "_updated_at": _time(rnd)}
        if quote:
            r["order_origin"] = "shopify"
        r["_external_id"] = f"{system}-{rnd.randint(1, 5)}"  # shared by different orders
        r.update({f: rnd.choice(ORDER_FIELDS[f]) for f in fields})
        rows.append(r)
    return rows


def line_batch(rnd: random.Random, system: str) -> list[dict[str, Any]]:
    fields = rnd.sample(sorted(LINE_FIELDS), rnd.randint(1, len(LINE_FIELDS)))
    rows = []
    for _ in range(rnd.randint(1, 8)):
        r: dict[str, Any] = {
            "order_origin": "shopify",
            "order_number": str(rnd.randint(1, 3)),
            "line_no": rnd.randint(1, 2),
            "_updated_at": _time(rnd),
            "_external_id": f"{system}-l{rnd.randint(1, 6)}",
        }
        r.update({f: rnd.choice(LINE_FIELDS[f]) for f in fields})
        rows.append(r)
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_batches_match_the_per_row_loader(
    stores: tuple[Engine, Engine], seed: int
) -> None:
    ref, new = stores
    rnd = random.Random(seed)
    for k in range(24):
        system, kind = rnd.choice(SYSTEMS)
        make = order_batch if rnd.random() < 0.6 else line_batch
        rows = make(rnd, system)
        entity = "sales_order" if make is order_batch else "order_line"
        both(ref, new, entity, rows, ctx(system, kind, k))
        if rnd.random() < 0.3:  # the same batch again, a later run
            again = [{k_: v for k_, v in r.items() if k_ != "_record"} for r in rows]
            both(ref, new, entity, again, ctx(system, kind, k + 100))


def test_rerun_writes_nothing(stores: tuple[Engine, Engine]) -> None:
    _, new = stores
    rows = [
        {
            "order_number": f"{i}",
            "line_no": 1,
            "sku": "A",
            "qty_ordered": Decimal(i % 3 + 1),
            "_updated_at": T0,
            "_external_id": f"l{i}",
        }
        for i in range(50)
    ]
    with new.begin() as conn:
        first = upsert(
            conn, "order_line", arrow_rows("order_line", rows), ctx("shop", "channel", 1), OWN
        )
    assert first.inserted == 50
    before = store(new)
    statements: list[str] = []
    event.listen(new, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with new.begin() as conn:
        again = upsert(
            conn, "order_line", arrow_rows("order_line", rows), ctx("shop", "channel", 2), OWN
        )
    assert (again.unchanged, again.changed) == (50, 0)
    assert store(new) == before
    writes = [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert [w for w in writes if "_omshub_" not in w.split("(")[0]] == []


def test_ten_percent_changed(stores: tuple[Engine, Engine]) -> None:
    ref, new = stores
    rows = [
        {
            "order_number": f"{i // 4}",
            "line_no": i % 4 + 1,
            "sku": "A",
            "qty_ordered": Decimal(2),
            "_updated_at": T0,
            "_external_id": f"l{i}",
        }
        for i in range(200)
    ]
    both(ref, new, "order_line", [dict(r) for r in rows], ctx("shop", "channel", 1))
    for r in rows[::10]:
        r.update(qty_allocated=Decimal(1), _updated_at=T0 + dt.timedelta(hours=1))
    _, b = both(ref, new, "order_line", [dict(r) for r in rows], ctx("shop", "channel", 2))
    assert (b.updated, b.unchanged) == (20, 180)


def test_shipment_line_keeps_its_order_line_reference(stores: tuple[Engine, Engine]) -> None:
    """A reference keyed partly by the stored row: a later mapping without the order."""
    ref, new = stores
    line = {
        "carrier": "ups",
        "tracking_number": "1Z",
        "line_no": 1,
        "_external_id": "s1",
        "_updated_at": T0,
    }
    first = {**line, "order_origin": "shopify", "order_number": "9", "qty": Decimal(1)}
    both(ref, new, "shipment_line", [first], ctx("wms", "wms", 1))
    later = {**line, "qty": Decimal(2), "_updated_at": T0 + dt.timedelta(hours=1)}
    both(ref, new, "shipment_line", [later], ctx("wms", "wms", 2))
    fresh = {**line, "tracking_number": "1Y", "qty": Decimal(2), "_external_id": "s2"}
    both(ref, new, "shipment_line", [fresh], ctx("wms", "wms", 3))
    with new.connect() as conn:
        t = table(BUSINESS_TABLES["shipment_line"])
        ids = dict(conn.execute(select(t.c.tracking_number, t.c.order_line_id)).all())
    assert ids == {"1Z": canonical_id("order_line", ["shopify", "9", 1]), "1Y": None}


def test_movements_report_inserted_rows(stores: tuple[Engine, Engine]) -> None:
    _, new = stores
    rows = [
        {
            "movement_key": "m1",
            "sku": "A",
            "location_code": "WH",
            "delta_on_hand": Decimal(5),
            "delta_allocated": Decimal(0),
            "reason": "receipt",
            "occurred_at": T0,
            "_updated_at": T0,
            "_external_id": "m1",
        }
    ]
    with new.begin() as conn:
        res = upsert(
            conn,
            "inventory_movement",
            arrow_rows("inventory_movement", rows),
            ctx("wms", "wms", 1),
            OWN,
        )
    [row] = res.inserted_rows
    assert (row["sku"], row["location_code"], row["delta_on_hand"], row["occurred_at"]) == (
        "A",
        "WH",
        Decimal(5),
        T0,
    )
    assert res.inserted_ids == [canonical_id("inventory_movement", ["m1"])]


def test_row_ids_of_arrow_tables_match_the_frames() -> None:
    tables = {
        "sales_order": arrow_rows(
            "sales_order",
            [
                {"order_number": "1", "customer_email": " A@x.com", "_external_id": "1"},
                {"order_number": "2", "customer_external_id": "c9", "_external_id": "2"},
            ],
        ),
        "shipment_line": arrow_rows(
            "shipment_line",
            [
                {
                    "carrier": "ups",
                    "tracking_number": "1Z",
                    "line_no": 1,
                    "order_number": "1",
                    "_external_id": "s",
                }
            ],
        ),
        "inventory_movement": arrow_rows(
            "inventory_movement",
            [{"movement_key": "m", "sku": "A", "location_code": "WH", "_external_id": "m"}],
        ),
    }
    frames = {e: pd.DataFrame(t.to_pylist(), dtype=object) for e, t in tables.items()}
    assert table_row_ids(tables, "shopify") == batch_row_ids(frames, "shopify")


def test_an_inserted_row_gets_every_provenance_column() -> None:
    """A provenance column added to the model without an insert rule would stay NULL."""
    from oms.entities import PROVENANCE_COLUMNS
    from oms.load.sql import NEW_ROW_PROVENANCE

    assert set(NEW_ROW_PROVENANCE) == set(PROVENANCE_COLUMNS) - {"id"}
