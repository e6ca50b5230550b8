"""Bindings read ahead on a side connection (`oms.load.ahead`) decide exactly as the batch's
own transaction does: the same store, bindings, change log and counts, on PostgreSQL, for
a batch of many chunks whose external ids come back in later chunks (bound, re-bound, stale
and unchanged by the batch itself, which the side connection cannot see)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pgserver
import pytest
from projects import drop, shop_order, write_source
from sqlalchemy import select

from oms.db import get_engine, upgrade
from oms.models import Binding, ChangeLog, SalesOrder, table
from omshub.pipeline import run_source

pytestmark = pytest.mark.postgres

T9, T10, T11, T12 = (f"2026-11-20T{h}:00:00Z" for h in ("09", "10", "11", "12"))
FIRST = [  # two records per chunk
    shop_order(1, "A1", total="10", updated_at=T10),
    shop_order(2, "A2", total="5", updated_at=T10),
    shop_order(1, "A1", total="11", updated_at=T11),  # chunk 2: A1 again, newer
    shop_order(3, "A3", total="3", updated_at=T10),
    shop_order(1, "A1", total="9", updated_at=T9),  # chunk 3: older than the batch's own
    shop_order(2, "A2", total="5", updated_at=T10),  # unchanged against the batch's own
    shop_order(4, "A4", total="4", updated_at=T10),
    shop_order(3, "A3", total="7", status="refunded", updated_at=T12),
    shop_order(5, "A5", total="1", updated_at=T10),
]
SECOND = [
    shop_order(5, "A5", total="2", updated_at=T11),
    shop_order(6, "A6", total="6", updated_at=T10),
    shop_order(6, "A6", total="8", updated_at=T12),
    shop_order(1, "A1", total="11", updated_at=T11),
]


def _snapshot(url: str) -> dict[str, Any]:
    so, b, cl = table(SalesOrder), table(Binding), table(ChangeLog)
    with get_engine(url).connect() as conn:
        return {
            "orders": conn.execute(
                select(
                    so.c.order_number, so.c.grand_total, so.c.payment_status, so.c.status
                ).order_by(so.c.order_number)
            ).all(),
            "bindings": conn.execute(
                select(
                    b.c.external_id, b.c.canonical_id, b.c.payload_hash, b.c.source_updated_at
                ).order_by(b.c.external_id)
            ).all(),
            "changes": conn.execute(
                select(cl.c.canonical_id, cl.c.field, cl.c.old_value, cl.c.new_value).order_by(
                    cl.c.id
                )
            ).all(),
        }


def _runs(tmp: Path, monkeypatch: pytest.MonkeyPatch, read_ahead: str) -> dict[str, Any]:
    home = write_source(tmp / f"proj{read_ahead}", reject_threshold=1.0, incremental=True)
    url = pgserver.create_database()
    for k, v in {
        "OMSHUB_HOME": str(home),
        "OMSHUB_DATABASE_URL": url,
        "OMSHUB_LANDING_DIR": str(tmp / f"landing{read_ahead}"),
        "OMSHUB_CHUNK_RECORDS": "2",
        "OMSHUB_READ_AHEAD": read_ahead,
    }.items():
        monkeypatch.setenv(k, v)
    upgrade(url)
    try:
        counts = []
        for name, orders in (("a.json", FIRST), ("b.json", SECOND)):
            drop(home, name, orders)
            report = run_source("shop", engine=get_engine(url))
            assert report.ok, report.errors
            assert report.summary is not None
            counts.append(report.summary.entities)
        return {"counts": counts, **_snapshot(url)}
    finally:
        get_engine(url).dispose()
        pgserver.drop_database(url)


def test_read_ahead_decides_as_the_batch_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = _runs(tmp_path, monkeypatch, "1")
    inside = _runs(tmp_path, monkeypatch, "0")
    assert ahead == inside
    totals = {o.order_number: str(o.grand_total) for o in ahead["orders"]}
    assert totals["A1"].startswith("11") and totals["A3"].startswith("7")
    assert totals["A6"].startswith("8") and totals["A5"].startswith("2")
    assert ahead["counts"][0]["sales_order"]["stale"] >= 1  # A1 at 09:00 in chunk 3


@pytest.mark.postgres
def test_a_side_connection_that_fails_leaves_the_reads_to_the_batch() -> None:
    """No side connection (here: a database that does not exist): each chunk's bindings
    are read in the batch's transaction, and after the first failure no chunk waits for
    a connection again."""
    import pyarrow as pa
    from sqlalchemy import create_engine, make_url

    from oms.load.ahead import BindingsAhead
    from oms.load.prepare import Prepared

    gone = make_url(pgserver.server_url()).set(database="omshub_no_such_database")
    reader = BindingsAhead(create_engine(gone), "shop")
    tbl = pa.table({"_ext": pa.array(["1", "2"])})
    chunks = [reader.submit({"sales_order": Prepared(tbl, [], [], [], 0)}) for _ in range(2)]
    reader.locked.set()
    try:
        assert chunks[0].bound(None, "shop", "sales_order") is None  # type: ignore[arg-type]
        assert chunks[1].bound(None, "shop", "sales_order") is None  # type: ignore[arg-type]
        assert reader._broken
    finally:
        reader.close()
