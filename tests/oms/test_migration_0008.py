"""Migration 0008 (lean write keys) upgrades a store holding data, and back, on both backends.

A store at 0007 with orders, lines and bindings is upgraded: every row survives, `binding`
is keyed by (external_id, entity, system) without its surrogate id, the natural-key unique
constraints of `sales_order` and `order_line` stay (the database refuses a second row of
one key even under another id), and the schema is what `oms.models` declares. A binding
of an existing key still cannot be inserted twice. The downgrade numbers the bindings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

import oms.db
from oms.db import get_engine
from oms.ids import canonical_id
from oms.models import Base

ORDERS = [("shopify", "1001"), ("shopify", "1002"), ("square", "1001")]


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(oms.db.__file__).parent / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def _fill(engine: Engine) -> None:
    """Orders of two origins (one number shared), two lines each, a binding per row."""
    with engine.begin() as conn:
        for origin, number in ORDERS:
            oid = canonical_id("sales_order", (origin, number))
            conn.execute(
                text(
                    "INSERT INTO sales_order (id, order_origin, order_number, status)"
                    " VALUES (:i, :o, :n, 'open')"
                ),
                {"i": oid, "o": origin, "n": number},
            )
            conn.execute(
                text(
                    "INSERT INTO binding (system, entity, external_id, canonical_id)"
                    " VALUES (:o, 'sales_order', :n, :i)"
                ),
                {"i": oid, "o": origin, "n": number},
            )
            for line_no in (1, 2):
                lid = canonical_id("order_line", (origin, number, line_no))
                conn.execute(
                    text(
                        "INSERT INTO order_line (id, order_origin, order_number, order_id,"
                        " line_no) VALUES (:i, :o, :n, :oid, :l)"
                    ),
                    {"i": lid, "o": origin, "n": number, "oid": oid, "l": line_no},
                )
                conn.execute(
                    text(
                        "INSERT INTO binding (system, entity, external_id, canonical_id)"
                        " VALUES (:o, 'order_line', :x, :i)"
                    ),
                    {"i": lid, "o": origin, "x": f"{number}-{line_no}"},
                )


def _rows(engine: Engine) -> dict[str, set[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            "sales_order": set(
                conn.execute(text("SELECT id, order_origin, order_number FROM sales_order")).all()
            ),
            "order_line": set(
                conn.execute(text("SELECT id, order_id, line_no FROM order_line")).all()
            ),
            "binding": set(
                conn.execute(
                    text("SELECT system, entity, external_id, canonical_id FROM binding")
                ).all()
            ),
        }


def _uniques(engine: Engine, name: str) -> list[list[str]]:
    with engine.connect() as conn:
        return [u["column_names"] for u in inspect(conn).get_unique_constraints(name)]


def _fillfactors(engine: Engine) -> dict[str, list[str] | None]:
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            return {}
        rows = conn.execute(
            text(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN"
                " ('sales_order', 'order_line', 'binding') AND relkind = 'r'"
            )
        ).all()
    return {r[0]: r[1] for r in rows}


def test_0008_upgrades_a_store_with_data_and_back(store_url: str) -> None:
    engine = get_engine(store_url)
    cfg = _config(engine)
    command.downgrade(cfg, "0007")
    assert _uniques(engine, "order_line") == [["order_origin", "order_number", "line_no"]]
    _fill(engine)
    before = _rows(engine)
    assert len(before["binding"]) == 9

    command.upgrade(cfg, "head")
    assert _rows(engine) == before
    if engine.dialect.name == "postgresql":  # pages keep room for HOT updates
        assert set(map(str, _fillfactors(engine).values())) == {"['fillfactor=90']"}
    assert _uniques(engine, "sales_order") == [["order_origin", "order_number"]]
    assert _uniques(engine, "order_line") == [["order_origin", "order_number", "line_no"]]
    with engine.connect() as conn:
        pk = inspect(conn).get_pk_constraint("binding")
        assert pk["constrained_columns"] == ["external_id", "entity", "system"]
        assert "id" not in {c["name"] for c in inspect(conn).get_columns("binding")}
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
    # the natural key of a binding is still unique: now as the primary key
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO binding (system, entity, external_id, canonical_id)"
                " VALUES ('shopify', 'sales_order', '1001', 'x')"
            )
        )
    # ... and so is an order's: under its UUIDv5 id, and under any other id
    for cid in (canonical_id("sales_order", ("shopify", "1001")), "not-the-uuid5-id"):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sales_order (id, order_origin, order_number)"
                    " VALUES (:i, 'shopify', '1001')"
                ),
                {"i": cid},
            )

    command.downgrade(cfg, "0007")
    assert _rows(engine) == before
    assert all(v is None for v in _fillfactors(engine).values())
    assert _uniques(engine, "sales_order") == [["order_origin", "order_number"]]
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM binding ORDER BY id")).scalars().all()
        assert len(ids) == 9 and len(set(ids)) == 9 and all(ids)
        assert inspect(conn).get_pk_constraint("binding")["constrained_columns"] == ["id"]
    command.upgrade(cfg, "head")
    assert _rows(engine) == before
