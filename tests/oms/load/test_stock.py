"""Stock snapshots and the stock ledger, set-based (oms.load.stock), on SQLite and a real
PostgreSQL: the semantics of the per-row `oms.inventory` they replace."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import Engine, func, select

from oms.arrow import entity_schema
from oms.entities import REGISTRY, SNAPSHOT_ENTITY, entity_spec
from oms.ids import canonical_id
from oms.inventory import apply_movements, apply_snapshot
from oms.load.steps import post_load
from oms.load.stock import apply_ledger, load_snapshot
from oms.loader import LoadContext, Loader, LoadResult
from oms.models import ChangeLog, InventoryMovement, InventoryPosition
from oms.models import table as table_of

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
M, P, CL = table_of(InventoryMovement), table_of(InventoryPosition), table_of(ChangeLog)


def ctx(system: str = "wms", run: str = "r1", batch: str = "b1") -> LoadContext:
    return LoadContext(
        system, "wms", run, batch, f"{system}.stock", "1", T0 + dt.timedelta(hours=1)
    )


def snap_rows(*rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    """(sku, location, on_hand, allocated, as_of) -> snapshot records."""
    return [
        {
            "sku": sku,
            "location_code": loc,
            "on_hand": None if on is None else Decimal(str(on)),
            "allocated": None if al is None else Decimal(str(al)),
            "as_of": at,
            "_external_id": f"{loc}|{sku}",
            "_updated_at": None,
            "_record": i,
        }
        for i, (sku, loc, on, al, at) in enumerate(rows)
    ]


def table(rows: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> pa.Table:
    schema = entity_schema(SNAPSHOT_ENTITY)
    schema = pa.schema([f for f in schema if f.name not in drop])
    return pa.Table.from_pylist(
        [{k: v for k, v in r.items() if k not in drop} for r in rows], schema
    )


def load(engine: Engine, rows: list[dict[str, Any]], c: LoadContext | None = None) -> LoadResult:
    with engine.begin() as conn:
        return load_snapshot(conn, table(rows), c or ctx())


def positions(engine: Engine) -> dict[tuple[str, str], tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(P.c.sku, P.c.location_code, P.c.on_hand, P.c.allocated, P.c.as_of)
        )
        return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def movements(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        q = select(M.c.movement_key, M.c.delta_on_hand, M.c.delta_allocated, M.c.reason)
        return [tuple(r) for r in conn.execute(q.order_by(M.c.movement_key))]


def everything(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in (M, P, CL)
        }


def test_snapshot_is_a_registered_entity_kind() -> None:
    spec = entity_spec(SNAPSHOT_ENTITY)
    assert (spec.kind, spec.table.name, spec.natural_key) == (
        "snapshot",
        "inventory_position",
        ("sku", "location_code"),
    )
    assert entity_schema(SNAPSHOT_ENTITY).names == [
        "sku", "location_code", "on_hand", "allocated", "as_of", "_record", "_external_id", "_updated_at"
    ]  # fmt: skip
    assert spec.required == ("on_hand",) and "allocated" in spec.non_negative
    assert all(s.kind == "row" for n, s in REGISTRY.items() if n != SNAPSHOT_ENTITY)


def test_snapshot_becomes_ledger_movements(engine: Engine) -> None:
    """The per-row loader's scenario: insert, same again, newer, older (stale)."""

    def one(on_hand: int, at: dt.datetime) -> list[dict[str, Any]]:
        return snap_rows(("A", "WH", on_hand, 0, at))

    assert load(engine, one(10, T0)).changed == 1
    before = everything(engine)
    res = load(engine, one(10, T0))
    assert (res.changed, res.unchanged) == (0, 1)  # same snapshot: nothing
    assert everything(engine) == before
    assert load(engine, one(7, T0 + dt.timedelta(days=1))).changed == 1
    res = load(engine, one(99, T0 - dt.timedelta(days=1)))
    assert (res.changed, res.stale) == (0, 1)  # older snapshot: stale
    deltas = [m[1] for m in movements(engine)]
    assert deltas == [Decimal(10), Decimal(-3)]
    assert positions(engine)[("A", "WH")][0] == sum(deltas) == Decimal(7)


def test_whole_snapshot_twice_writes_nothing(engine: Engine) -> None:
    rows = snap_rows(*[(f"S{i}", f"L{i % 3}", i * 1.5, i % 2, T0) for i in range(50)])
    first = load(engine, rows)
    assert (first.inserted, first.updated, first.received) == (50, 0, 50)
    assert sorted(first.inserted_ids) == sorted(
        canonical_id("inventory_position", [r["sku"], r["location_code"]]) for r in rows
    )
    before = everything(engine)
    again = load(engine, rows, ctx(run="r2", batch="b2"))
    assert (again.changed, again.unchanged, again.stale) == (0, 50, 0)
    assert everything(engine) == before


def test_same_quantities_later_confirm_the_position(engine: Engine) -> None:
    """No movement, but the position is known as of the later time: an in-between
    snapshot is then stale."""
    load(engine, snap_rows(("A", "WH", 5, 1, T0)))
    res = load(engine, snap_rows(("A", "WH", 5, 1, T0 + dt.timedelta(days=2))), ctx(run="r2"))
    assert (res.changed, res.unchanged) == (0, 1)
    assert positions(engine)[("A", "WH")] == (Decimal(5), Decimal(1), T0 + dt.timedelta(days=2))
    with engine.connect() as conn:
        assert conn.execute(select(P.c.last_run_id)).scalar() == "r2"
    res = load(engine, snap_rows(("A", "WH", 9, 1, T0 + dt.timedelta(days=1))))
    assert (res.changed, res.stale) == (0, 1)
    assert len(movements(engine)) == 1


def test_newest_row_per_position_wins_within_a_batch(engine: Engine) -> None:
    rows = snap_rows(
        ("A", "WH", 3, 0, T0 + dt.timedelta(hours=2)),
        ("A", "WH", 1, 0, T0),
        ("A", "WH", 2, 0, T0 + dt.timedelta(hours=2)),  # tie: the later record
        ("B", "WH", 4, 0, None),
    )
    res = load(engine, rows)
    assert (res.received, res.duplicates, res.inserted) == (4, 2, 2)
    assert positions(engine)[("A", "WH")][0] == Decimal(2)
    # a snapshot without a time is stamped with its batch
    assert ("snapshot:wms:WH:B:b1", Decimal(4), Decimal(0), "snapshot_adjustment") in movements(
        engine
    )


def test_unmapped_allocated_keeps_the_positions_value(engine: Engine) -> None:
    load(engine, snap_rows(("A", "WH", 5, 2, T0)))
    with engine.begin() as conn:
        tbl = table(snap_rows(("A", "WH", 8, None, T0 + dt.timedelta(days=1))), drop=("allocated",))
        assert load_snapshot(conn, tbl, ctx()).updated == 1
    assert positions(engine)[("A", "WH")][:2] == (Decimal(8), Decimal(2))


def test_decimal_quantities_are_exact(engine: Engine) -> None:
    """SQLite stores decimals as text; its float arithmetic would give 0.19999999999999998."""
    load(engine, snap_rows(("A", "WH", "0.3", "0.0001", T0)))
    load(engine, snap_rows(("A", "WH", "0.1", "-1.25", T0 + dt.timedelta(days=1))))
    assert [m[1:3] for m in movements(engine)] == [
        (Decimal("0.3"), Decimal("0.0001")),
        (Decimal("-0.2"), Decimal("-1.2501")),
    ]
    with engine.connect() as conn:
        # inserts write no change-log row: the rows name the batch that created them
        assert conn.execute(select(func.count()).select_from(CL)).scalar() == 0
        created = conn.execute(select(M.c.created_run_id, M.c.created_batch_id)).all()
    assert set(created) == {("r1", "b1")}


def _movement_frame(rows: list[tuple[str, str, str, Any, dt.datetime]]) -> pd.DataFrame:
    """(key, sku, location, delta on hand, occurred_at) -> inventory_movement records."""
    return pd.DataFrame(
        [
            {
                "movement_key": key,
                "sku": sku,
                "location_code": loc,
                "delta_on_hand": Decimal(str(d)),
                "delta_allocated": Decimal(0),
                "reason": "sale",
                "occurred_at": at,
                "_external_id": key,
                "_updated_at": at,
                "_record": i,
            }
            for i, (key, sku, loc, d, at) in enumerate(rows)
        ],
        dtype=object,
    )


def load_movements(
    engine: Engine, rows: list[tuple[str, str, str, Any, dt.datetime]]
) -> LoadResult:
    c = ctx("pos")
    with engine.begin() as conn:
        res = Loader().load(conn, "inventory_movement", _movement_frame(rows), c)
        post_load(conn, {"inventory_movement": res}, c)
    return res


def test_movements_then_snapshot(engine: Engine) -> None:
    t1, t2 = T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=2)
    load(engine, snap_rows(("A", "WH", 10, 0, T0)))
    res = load_movements(
        engine, [("s1", "A", "WH", -2, t1), ("s2", "A", "WH", "-1.5", t2), ("s3", "B", "WH", 4, t2)]
    )
    assert res.inserted == 3
    pos = positions(engine)
    assert pos[("A", "WH")][:3] == (Decimal("6.5"), Decimal(0), T0)  # as_of stays the snapshot's
    assert pos[("B", "WH")][:3] == (Decimal(4), Decimal(0), None)  # a new position starts at 0
    with engine.connect() as conn:
        prov = conn.execute(
            select(P.c.source_system, P.c.source_updated_at).where(P.c.sku == "A")
        ).one()
    assert tuple(prov) == ("pos", t2)
    # the same movements again: nothing inserted, so the positions do not move twice
    assert load_movements(engine, [("s1", "A", "WH", -2, t1)]).inserted == 0
    assert positions(engine)[("A", "WH")][0] == Decimal("6.5")
    # a later count of 6: one adjustment of -0.5 explains the difference
    load(engine, snap_rows(("A", "WH", 6, 0, T0 + dt.timedelta(hours=1))))
    assert positions(engine)[("A", "WH")][0] == Decimal(6)
    adjust = [m for m in movements(engine) if m[3] == "snapshot_adjustment" and "A" in m[0]]
    assert [m[1] for m in adjust] == [Decimal(10), Decimal("-0.5")]


def test_post_load_without_new_movements_does_nothing(engine: Engine) -> None:
    load(engine, snap_rows(("A", "WH", 1, 0, T0)))
    before = everything(engine)
    with engine.begin() as conn:
        post_load(conn, {"inventory_movement": LoadResult("inventory_movement")}, ctx())
        assert apply_ledger(conn, [], ctx()) == 0
    assert everything(engine) == before


def test_failure_mid_batch_leaves_the_store_as_before(engine: Engine) -> None:
    load(engine, snap_rows(("A", "WH", 1, 0, T0)))
    before = everything(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        load_snapshot(conn, table(snap_rows(("A", "WH", 5, 0, T0 + dt.timedelta(days=1)))), ctx())
        raise RuntimeError("crash after the snapshot, before commit")
    assert everything(engine) == before
    assert load(engine, snap_rows(("A", "WH", 5, 0, T0 + dt.timedelta(days=1)))).updated == 1


# --- the same results as the per-row reference (oms.inventory) --------------------------


def _random_batches(seed: int) -> list[list[dict[str, Any]]]:
    rnd = random.Random(seed)
    batches = []
    for b in range(6):
        rows = []
        for _ in range(40):
            at = T0 + dt.timedelta(hours=rnd.choice([0, 1, 2, 3, 5, 8]) + b)
            on = rnd.choice([0, 1, 2, "2.5", "0.1", 7, 100])
            al = rnd.choice([None, 0, 1, "0.25"])
            rows.append((f"K{rnd.randrange(12)}", rnd.choice(["WH", "ST"]), on, al, at))
        batches.append(snap_rows(*rows))
    return batches


def _store(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        pos = sorted(tuple(r) for r in conn.execute(select(P).order_by(P.c.id)))
        mov = sorted(tuple(r) for r in conn.execute(select(M)))
        n_log = conn.execute(select(func.count()).select_from(CL)).scalar()
    return pos, mov, n_log


@pytest.mark.parametrize("seed", [1, 2])
def test_same_store_as_the_per_row_snapshot(engine: Engine, seed: int, tmp_path: Any) -> None:
    from oms.db import get_engine, upgrade

    ref_url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(ref_url)
    ref = get_engine(ref_url)
    for i, rows in enumerate(_random_batches(seed)):
        c = ctx(run=f"r{i}", batch=f"b{i}")
        new = load(engine, rows, c)
        with ref.begin() as conn:
            old = apply_snapshot(conn, pd.DataFrame(rows, dtype=object), c)
        got = (new.inserted, new.updated, new.unchanged, new.stale, new.duplicates)
        assert got == (old.inserted, old.updated, old.unchanged, old.stale, old.duplicates)
        assert sorted(new.changed_keys) == sorted(old.changed_keys)
    assert _store(engine) == _store(ref)
    ref.dispose()


def test_same_positions_as_the_per_row_ledger(engine: Engine, tmp_path: Any) -> None:
    from oms.db import get_engine, upgrade

    ref_url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(ref_url)
    ref = get_engine(ref_url)
    rnd = random.Random(7)
    for b in range(4):
        rows = [
            (f"m{b}-{i}", f"K{rnd.randrange(8)}", rnd.choice(["WH", "ST"]), rnd.choice([-3, -1, "0.5", 2, "1.25"]), T0 + dt.timedelta(minutes=b * 100 + i))
            for i in range(30)
        ]  # fmt: skip
        c = ctx("pos", run=f"r{b}", batch=f"b{b}")
        with engine.begin() as conn:
            res = Loader().load(conn, "inventory_movement", _movement_frame(rows), c)
            assert apply_ledger(conn, res.inserted_ids, c) == len({(r[1], r[2]) for r in rows})
        with ref.begin() as conn:
            res = Loader().load(conn, "inventory_movement", _movement_frame(rows), c)
            apply_movements(conn, res.inserted_rows, c)
    assert _store(engine) == _store(ref)
    ref.dispose()


def test_a_snapshot_without_its_key_columns_is_refused(engine: Engine) -> None:
    from oms.errors import LoadError

    with pytest.raises(LoadError, match="writes no location_code"), engine.begin() as conn:
        load_snapshot(conn, table(snap_rows(("A", "WH", 1, 0, T0)), drop=("location_code",)), ctx())
