"""SQLite's fresh-row path (`oms.load.fresh`) leaves the store the general path leaves.

The same generated batches (test_upsert's: several systems and ranks, owned fields,
nulls, stale, unchanged and duplicate rows, shared external ids) go through `upsert`
into two SQLite stores, one with the fresh-row path and one with every row staged and
diffed; after every batch both stores must hold the same rows in every column (provenance
and `created_*` included), the same bindings (hash included) and change log, and the
loads must report the same counts and ids. The path must really be taken: alone on a
first batch and mixed with stored rows in later ones.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from oms.db import make_engine, upgrade
from oms.load import fresh
from oms.load import upsert as upsert_module
from oms.load.rows import arrow_rows
from oms.load.upsert import upsert
from oms.models import BUSINESS_TABLES, Binding, ChangeLog, table


def _generators() -> Any:
    """test_upsert.py's batch generators (--import-mode=importlib: no sibling imports)."""
    path = Path(__file__).with_name("test_upsert.py")
    spec = importlib.util.spec_from_file_location("_upsert_generators", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _generators()


def full_store(engine: Engine) -> dict[str, Any]:
    """Every column of the business rows, bindings and change log (but surrogate ids)."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, model in BUSINESS_TABLES.items():
            t = table(model)
            out[name] = [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
        for kept in (table(Binding), table(ChangeLog)):
            cols = [c for c in kept.c if c.name != "id"]
            out[kept.name] = sorted(map(repr, conn.execute(select(*cols))))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_fresh_rows_give_the_general_paths_store(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engines = []
    for name in ("fresh", "general"):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url)
        engines.append(make_engine(url))
    taken: list[tuple[int, int]] = []  # (fresh rows, rows received) per batch with fresh rows

    def counted(conn: Any, plan: Any, rows: Any, params: Any) -> Any:
        taken.append((rows.num_rows, received))
        return fresh.insert_fresh(conn, plan, rows, params)

    monkeypatch.setattr(upsert_module, "insert_fresh", counted)
    rnd = random.Random(seed)
    for k in range(30):
        system, kind = rnd.choice(gen.SYSTEMS)
        make = gen.order_batch if rnd.random() < 0.6 else gen.line_batch
        rows = make(rnd, system)
        for i, r in enumerate(rows):
            r["_record"] = i
        entity = "sales_order" if make is gen.order_batch else "order_line"
        tbl = arrow_rows(entity, rows)
        received = tbl.num_rows
        results = []
        for engine, enabled in zip(engines, (True, False), strict=True):
            monkeypatch.setattr(fresh, "ENABLED", enabled)
            with engine.begin() as conn:
                results.append(upsert(conn, entity, tbl, gen.ctx(system, kind, k), gen.OWN))
        assert gen.summary(results[0]) == gen.summary(results[1])
        assert full_store(engines[0]) == full_store(engines[1])
    for e in engines:
        e.dispose()
    assert taken, "no batch took the fresh-row path"
    assert any(n < received_ for n, received_ in taken), "no batch mixed fresh and stored rows"
