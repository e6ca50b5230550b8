"""End to end: an ERP's orders table read by a `type: sql` source through
`omshub.pipeline.run_source` into the store; new rows, some sharing the last cursor
value, load on the next run, none twice."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from oms.models import LandedBatch, SalesOrder
from omshub import pipeline
from omshub.extract import watermark

Db = Any  # conftest.SourceDb


def _project(home: Path, table: str) -> Path:
    for sub in ("config/sources", "mappings/erp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "config/sources/erp.yaml").write_text(
        textwrap.dedent(f"""\
        name: erp
        system: erp
        kind: erp
        connector: {{type: sql, conn_id: erp_replica}}
        retries: 0
        streams:
          - name: orders
            format: {{type: ndjson}}
            mapping: erp/orders.yaml
            options:
              table: {table}
              cursor_column: updated_at
              tiebreak: [id]
              chunk_rows: 3
        """)
    )
    (home / "mappings/erp/orders.yaml").write_text(
        textwrap.dedent("""\
        mapping: erp.orders
        version: 1
        entity: sales_order
        external_id: id
        updated_at: {path: updated_at, tz: UTC}  # SQLite times are naive
        fields:
          order_number: {path: number, required: true}
          grand_total: total
        """)
    )
    return home


def _connection(db: Db) -> str:
    """The source database as AIRFLOW_CONN_<ID> holds it (Airflow's URI form)."""
    if db.kind == "sqlite":
        return str(db.url)  # sqlite:////abs/erp.db: the schema is the file
    return db.url.replace("postgresql+psycopg://", "postgres://", 1)


def _orders(engine: Engine) -> list[str]:
    so = SalesOrder.__table__
    with engine.connect() as conn:
        return sorted(conn.execute(select(so.c.order_number)).scalars())


def _records(report: pipeline.RunReport) -> int:
    assert report.ok, report.errors
    return sum(b["records"] for b in report.batches)


def test_an_erp_table_loads_incrementally_none_twice(
    source_db: Db, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = source_db.orders(
        [*((i, source_db.at("10:00")) for i in (4, 1, 7, 2, 6, 3, 5)), (8, source_db.at("09:00"))]
    )
    monkeypatch.setenv("OMSHUB_HOME", str(_project(tmp_path / "proj", table)))
    monkeypatch.setenv("AIRFLOW_CONN_ERP_REPLICA", _connection(source_db))

    first = pipeline.run_source("erp", engine=engine)
    assert _records(first) == 8 and len(first.batches) == 3
    assert _orders(engine) == sorted(f"SO-{i}" for i in range(1, 9))
    mark = watermark(engine, "erp", "orders")
    assert json.loads(mark or "")["key"] == [7]

    # three more on the last cursor value (after the last key), one later
    source_db.orders([(9, source_db.at("10:00")), (10, source_db.at("10:00"))])
    source_db.orders([(11, source_db.at("10:00")), (12, source_db.at("11:00"))])
    second = pipeline.run_source("erp", engine=engine)
    assert _records(second) == 4 and len(second.batches) == 2
    assert _orders(engine) == sorted(f"SO-{i}" for i in range(1, 13))
    assert json.loads(watermark(engine, "erp", "orders") or "")["key"] == [12]

    third = pipeline.run_source("erp", engine=engine)
    assert _records(third) == 0 and third.batches == []
    lb = LandedBatch.__table__
    with engine.connect() as conn:
        landed = conn.execute(select(func.count()).select_from(lb)).scalar()
        names = list(conn.execute(select(lb.c.original_name)).scalars())
    assert landed == 5
    assert all(n.startswith(f"table:{table} updated_at ") for n in names)


def _set_watermark(engine: Engine, value: str) -> None:
    """What `omshub state set erp orders VALUE` stores (the transport's parse_cursor)."""
    from sqlalchemy import update

    from connectors.sql import SqlTransport
    from oms.models import Watermark

    wm = Watermark.__table__
    with engine.begin() as conn:
        conn.execute(
            update(wm)
            .where(wm.c.source == "erp", wm.c.stream == "orders")
            .values(cursor_value=SqlTransport.parse_cursor(value), run_id="manual")
        )


def test_a_backfill_keeps_the_watermark_and_a_hand_set_one_is_inclusive(
    source_db: Db, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    at = source_db.at
    table = source_db.orders(
        [(i, at("09:00" if i < 4 else "10:00" if i < 7 else "11:00")) for i in range(1, 9)]
    )
    monkeypatch.setenv("OMSHUB_HOME", str(_project(tmp_path / "proj", table)))
    monkeypatch.setenv("AIRFLOW_CONN_ERP_REPLICA", _connection(source_db))
    assert _records(pipeline.run_source("erp", engine=engine)) == 8
    mark = watermark(engine, "erp", "orders")

    # a fix in the ERP that did not move updated_at: a backfill of that hour reloads it
    source_db.run(f"update {table} set number = 'SO-5-FIXED' where id = 5")
    start = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    backfill = pipeline.run_source(
        "erp", engine=engine, window=(start, start + dt.timedelta(hours=1))
    )
    assert _records(backfill) == 3 and "SO-5-FIXED" in _orders(engine)
    assert watermark(engine, "erp", "orders") == mark

    # set by hand to 11:00: rows at 11:00 are read again, with a new one among them
    _set_watermark(engine, "2026-11-20T11:00:00Z")
    source_db.orders([(9, at("11:00"))])
    again = pipeline.run_source("erp", engine=engine)
    assert _records(again) == 3  # ids 7, 8 (unchanged, idempotent) and 9
    assert json.loads(watermark(engine, "erp", "orders") or "")["key"] == [9]
