"""Order-line derivation, set-based (oms.load.lines), on SQLite and a real PostgreSQL:
shipped and returned sums and status, written only where they differ, with a `derive`
change-log row per changed field, as the per-row `oms.derive` did."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from oms.derive import refresh_order_lines
from oms.ids import canonical_id
from oms.load.lines import refresh_lines
from oms.load.steps import post_load
from oms.loader import LoadContext, Loader, LoadResult, derive_line_status
from oms.models import ChangeLog, OrderLine
from oms.models import table as table_of

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
OL, CL = table_of(OrderLine), table_of(ChangeLog)


def ctx(system: str, run: str = "r1") -> LoadContext:
    return LoadContext(
        system, system, run, f"{run}-b", f"{system}.x", "1", T0 + dt.timedelta(hours=1)
    )


def line(number: str, no: int, ordered: Any, **more: Any) -> dict[str, Any]:
    return {
        "order_number": number,
        "line_no": no,
        "sku": "A",
        "qty_ordered": Decimal(str(ordered)),
        "_external_id": f"{number}-{no}",
        **more,
    }


def ship(tracking: str, number: str, no: int, qty: Any) -> dict[str, Any]:
    return {
        "carrier": "ups",
        "tracking_number": tracking,
        "line_no": no,
        "order_origin": "shopify",
        "order_number": number,
        "qty": Decimal(str(qty)),
        "_external_id": f"{tracking}-{no}",
    }


def ret(rma: str, number: str, no: int, qty: Any) -> dict[str, Any]:
    return {
        "rma_number": rma,
        "line_no": no,
        "order_origin": "shopify",
        "order_number": number,
        "qty": Decimal(str(qty)),
        "_external_id": f"{rma}-{no}",
    }


def load(
    engine: Engine, entity: str, rows: list[dict[str, Any]], c: LoadContext, at: dt.datetime = T0
) -> LoadResult:
    """Load with the row loader, then run the post-load steps on its result."""
    frame = pd.DataFrame(
        [{"_updated_at": at, "_record": i, **r} for i, r in enumerate(rows)], dtype=object
    )
    with engine.begin() as conn:
        res = Loader().load(conn, entity, frame, c)
        post_load(conn, {entity: res}, c)
    return res


def derived(engine: Engine, number: str = "1001", no: int = 1) -> tuple[Any, ...]:
    with engine.connect() as conn:
        q = select(OL.c.qty_shipped, OL.c.qty_returned, OL.c.status, OL.c.last_run_id)
        return tuple(conn.execute(q.where(OL.c.order_number == number, OL.c.line_no == no)).one())


def derive_log(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        q = select(CL.c.canonical_id, CL.c.field, CL.c.old_value, CL.c.new_value, CL.c.system)
        return [
            tuple(r) for r in conn.execute(q.where(CL.c.operation == "derive").order_by(CL.c.id))
        ]


def n_log(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(CL)).scalar() or 0)


SHOP, WMS, RMS = ctx("shopify"), ctx("wms", "r2"), ctx("rms", "r3")
LINE_ID = canonical_id("order_line", ["shopify", "1001", 1])


def test_shipment_line_after_its_order_line(engine: Engine) -> None:
    load(engine, "order_line", [line("1001", 1, 2)], SHOP)
    assert derived(engine)[:3] == (None, None, "open")
    load(engine, "shipment_line", [ship("1Z1", "1001", 1, 1)], WMS)
    assert derived(engine) == (Decimal(1), None, "partially_shipped", "r2")
    assert derive_log(engine) == [
        (LINE_ID, "qty_shipped", None, "1", "omshub"),
        (LINE_ID, "status", "open", "partially_shipped", "omshub"),
    ]
    load(engine, "shipment_line", [ship("1Z2", "1001", 1, "1.0")], WMS)
    assert derived(engine)[:3] == (Decimal(2), None, "shipped")
    assert derive_log(engine)[2:] == [
        (LINE_ID, "qty_shipped", "1", "2", "omshub"),
        (LINE_ID, "status", "partially_shipped", "shipped", "omshub"),
    ]


def test_shipment_line_before_its_order_line(engine: Engine) -> None:
    load(engine, "shipment_line", [ship("1Z1", "1001", 1, 2)], WMS)  # no line yet: nothing
    assert derive_log(engine) == []
    load(engine, "order_line", [line("1001", 1, 2)], SHOP)
    assert derived(engine) == (Decimal(2), None, "shipped", "r1")


def test_returns(engine: Engine) -> None:
    load(engine, "order_line", [line("1001", 1, 3), line("1001", 2, 1)], SHOP)
    load(engine, "shipment_line", [ship("1Z1", "1001", 1, 2), ship("1Z1", "1001", 2, 1)], WMS)
    load(engine, "return_line", [ret("R1", "1001", 1, 1)], RMS)
    assert derived(engine)[:3] == (Decimal(2), Decimal(1), "partially_shipped")
    load(engine, "return_line", [ret("R2", "1001", 1, 1), ret("R2", "1001", 2, 1)], RMS)
    assert derived(engine)[:3] == (Decimal(2), Decimal(2), "returned")
    assert derived(engine, no=2)[:3] == (Decimal(1), Decimal(1), "returned")
    assert (LINE_ID, "qty_returned", "1", "2", "omshub") in derive_log(engine)


def test_rerun_writes_nothing(engine: Engine) -> None:
    load(engine, "order_line", [line("1001", 1, 2)], SHOP)
    load(engine, "shipment_line", [ship("1Z1", "1001", 1, 1)], WMS)
    before, logged = derived(engine), n_log(engine)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(table_of(OrderLine).c.id))]
    with engine.begin() as conn:
        # every line touched again, none differs: nothing written, nothing logged
        assert refresh_lines(conn, {"order_line": ids}, ctx("other", "r9")) == 0
        assert refresh_lines(conn, {}, ctx("other", "r9")) == 0
    assert (derived(engine), n_log(engine)) == (before, logged)


# --- the status CASE is derive_line_status, and the whole step the per-row reference -----


def _random_world(seed: int) -> list[tuple[str, list[dict[str, Any]], LoadContext]]:
    rnd = random.Random(seed)
    q = [0, 1, 2, 3, "0.5", "1.5"]
    lines = [
        line(
            f"9{o}",
            n,
            rnd.choice([0, 1, 2, 3, "2.5"]),
            qty_allocated=Decimal(str(rnd.choice(q))),
            qty_cancelled=Decimal(str(rnd.choice(q))),
        )
        for o in range(15)
        for n in (1, 2)
    ]
    ships = [
        ship(f"T{i}", f"9{rnd.randrange(15)}", rnd.choice([1, 2]), rnd.choice(q)) for i in range(25)
    ]
    rets = [
        ret(f"R{i}", f"9{rnd.randrange(15)}", rnd.choice([1, 2]), rnd.choice(q)) for i in range(12)
    ]
    world = [("shipment_line", ships[:10], WMS), ("order_line", lines, SHOP)]
    world += [("shipment_line", ships[10:], WMS), ("return_line", rets, RMS)]
    return world


@pytest.mark.parametrize("seed", [3, 4])
def test_same_lines_and_log_as_the_per_row_reference(
    engine: Engine, seed: int, tmp_path: Any
) -> None:
    from oms.db import get_engine, upgrade
    from oms.derive import touched_lines

    ref_url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(ref_url)
    ref = get_engine(ref_url)
    for entity, rows, c in _random_world(seed):
        load(engine, entity, rows, c)
        frame = pd.DataFrame(
            [{"_updated_at": T0, "_record": i, **r} for i, r in enumerate(rows)], dtype=object
        )
        with ref.begin() as conn:
            res = Loader().load(conn, entity, frame, c)
            keys = touched_lines(entity, frame, res.changed_keys)
            refresh_order_lines(conn, keys, c)
    with engine.connect() as a, ref.connect() as b:
        got = [tuple(r) for r in a.execute(select(OL).order_by(OL.c.id))]
        want = [tuple(r) for r in b.execute(select(OL).order_by(OL.c.id))]
        for r in a.execute(select(OL)).mappings():
            assert r["status"] == derive_line_status(dict(r))
    assert got == want
    assert sorted(derive_log(engine), key=repr) == sorted(derive_log(ref), key=repr)
    assert len({r[2] for r in got}) > 3  # several statuses were exercised
    ref.dispose()


def test_post_load_runs_the_ledger_and_the_lines_of_one_chunk(engine: Engine) -> None:
    """One chunk with order lines, shipment lines and movements: both steps, one call."""
    from oms.models import InventoryPosition

    c = ctx("erp")
    frames = {
        "order_line": [line("1001", 1, 2, order_origin="shopify")],
        "shipment_line": [ship("1Z1", "1001", 1, 2)],
        "inventory_movement": [
            {
                "movement_key": "ship-1Z1",
                "sku": "A",
                "location_code": "WH",
                "delta_on_hand": Decimal(-2),
                "delta_allocated": Decimal(0),
                "reason": "shipment",
                "occurred_at": T0,
                "_external_id": "ship-1Z1",
            }
        ],
    }
    with engine.begin() as conn:
        results = {}
        for entity, rows in frames.items():
            frame = pd.DataFrame(
                [{"_updated_at": T0, "_record": i, **r} for i, r in enumerate(rows)], dtype=object
            )
            results[entity] = Loader().load(conn, entity, frame, c)
        post_load(conn, results, c)
    assert derived(engine)[:3] == (Decimal(2), None, "shipped")
    pos = table_of(InventoryPosition)
    with engine.connect() as conn:
        assert conn.execute(select(pos.c.on_hand)).scalar() == Decimal(-2)
