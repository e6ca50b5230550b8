"""Keyset chunks on SQLite and PostgreSQL: rows sharing one cursor value across chunk
boundaries are neither lost nor read twice; resume, window, query vs table."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
from typing import Any

import pytest

from connectors.sqlsource import query
from connectors.sqlsource.config import SqlStream
from connectors.sqlsource.cursor import Position

Db = Any  # conftest.SourceDb


def _opts(db: Db, table: str, **extra: Any) -> dict[str, Any]:
    return {"table": table, "cursor_column": "updated_at", "tiebreak": ["id"], **extra}


def _seed(db: Db) -> str:
    """7 orders on 10:00 (ids inserted out of order), 2 on 11:00, 1 on 09:00."""
    rows = [(i, db.at("10:00")) for i in (5, 2, 7, 1, 6, 3, 4)]
    return db.orders([*rows, (9, db.at("11:00")), (8, db.at("11:00")), (10, db.at("09:00"))])


def test_rows_sharing_one_cursor_across_chunks_are_read_once(source_db: Db) -> None:
    table = _seed(source_db)
    batches = source_db.read(_opts(source_db, table, chunk_rows=3))
    assert source_db.ids(batches) == [10, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert [len(b.content.splitlines()) for b in batches] == [3, 3, 3, 1]
    assert batches[0].cursor_from is None
    for a, b in itertools.pairwise(batches):
        assert b.cursor_from == a.cursor_to
    last = json.loads(batches[-1].cursor_to or "")
    assert last["key"] == [9]
    assert all(b.format == "ndjson" and b.name.startswith(f"table:{table} ") for b in batches)


def test_resume_from_any_cursor_to_reads_the_rest_then_only_new_rows(source_db: Db) -> None:
    table = _seed(source_db)
    opts = _opts(source_db, table, chunk_rows=3)
    batches = source_db.read(opts)
    everything = source_db.ids(batches)
    for n, batch in enumerate(batches):
        rest = source_db.ids(source_db.read(opts, cursor=batch.cursor_to))
        assert rest == everything[3 * (n + 1) :]
    # new rows: two sharing the last cursor value (higher ids), one later, one earlier
    source_db.orders([(11, source_db.at("11:00")), (12, source_db.at("11:00"))])
    source_db.orders([(13, source_db.at("12:00")), (14, source_db.at("08:00"))])
    new = source_db.read(opts, cursor=batches[-1].cursor_to)
    assert source_db.ids(new) == [11, 12, 13]  # 14 is older than the watermark: by design
    assert source_db.read(opts, cursor=new[-1].cursor_to) == []


def test_without_tiebreak_a_run_of_equal_cursors_is_read_whole(source_db: Db) -> None:
    table = _seed(source_db)
    opts = {"table": table, "cursor_column": "updated_at", "chunk_rows": 3}
    batches = source_db.read(opts)
    sizes = [len(b.content.splitlines()) for b in batches]
    assert sorted(source_db.ids(batches)) == list(range(1, 11))
    assert sizes == [8, 2]  # 09:00 + the whole run of 10:00 rows; then 11:00
    assert json.loads(batches[0].cursor_to or "") == {"value": _last_cursor(batches[0]), "key": []}
    assert sorted(source_db.ids(source_db.read(opts, cursor=batches[0].cursor_to))) == [8, 9]


def _last_cursor(batch: Any) -> Any:
    return json.loads(batch.content.splitlines()[-1])["updated_at"]


def test_a_hand_set_time_is_inclusive(source_db: Db) -> None:
    table = _seed(source_db)
    opts = _opts(source_db, table)
    assert source_db.ids(source_db.read(opts, cursor="2026-11-20T10:00:00Z")) == [
        *range(1, 8),
        8,
        9,
    ]
    assert source_db.ids(source_db.read(opts, cursor="2026-11-20T12:00:00+02:00")) == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
    ]
    assert source_db.ids(source_db.read(opts, cursor="2026-11-20T10:00:01Z")) == [8, 9]


def test_a_window_reads_start_to_end_whatever_the_cursor_and_moves_nothing(source_db: Db) -> None:
    table = _seed(source_db)
    opts = _opts(source_db, table, chunk_rows=4)
    start = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    window = (start, start + dt.timedelta(hours=1))
    stored = source_db.read(opts)[-1].cursor_to  # past every row
    batches = source_db.read(opts, cursor=stored, window=window)
    assert source_db.ids(batches) == list(range(1, 8))
    assert {(b.cursor_from, b.cursor_to) for b in batches} == {(None, None)}
    open_end = source_db.ids(source_db.read(opts, window=(start, None)))
    assert open_end == [*range(1, 8), 8, 9]
    assert source_db.ids(source_db.read(opts, window=(None, start))) == [10]


def test_query_with_bound_params_reads_like_a_table(source_db: Db) -> None:
    table = _seed(source_db)
    sql = f"select id, updated_at, number from {table} where total >= :low and number <> :skip"
    opts = {
        "query": sql,
        "params": {"low": 3, "skip": "SO-5"},
        "cursor_column": "updated_at",
        "tiebreak": "id",
        "chunk_rows": 2,
    }
    batches = source_db.read(opts)
    assert source_db.ids(batches) == [10, 3, 4, 6, 7, 8, 9]
    assert all(b.name.startswith("query:orders ") for b in batches)
    first = json.loads(batches[0].content.splitlines()[0])
    assert set(first) == {"id", "updated_at", "number"}
    assert source_db.ids(source_db.read(opts, cursor=batches[0].cursor_to)) == [4, 6, 7, 8, 9]


def test_columns_always_include_cursor_and_tiebreak(source_db: Db) -> None:
    table = _seed(source_db)
    batches = source_db.read(_opts(source_db, table, columns=["number"]))
    first = json.loads(batches[0].content.splitlines()[0])
    assert list(first) == ["number", "updated_at", "id"]


def test_rows_with_a_null_cursor_are_not_read_and_are_counted(
    source_db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    table = source_db.orders([(1, source_db.at("10:00")), (2, None), (3, None)])
    with caplog.at_level(logging.WARNING):
        batches = source_db.read(_opts(source_db, table))
    assert source_db.ids(batches) == [1]
    assert "2 rows have a NULL in updated_at or id and are not read" in caplog.text


def test_full_reads_without_a_cursor_page_by_the_key(source_db: Db) -> None:
    table = _seed(source_db)
    opts = {"table": table, "tiebreak": ["id"], "chunk_rows": 4}
    batches = source_db.read(opts, cursor='{"value": "2026-11-21", "key": [1]}')
    assert source_db.ids(batches) == list(range(1, 11))
    assert {(b.cursor_from, b.cursor_to) for b in batches} == {(None, None)}
    assert [b.name.split(" ", 1)[1] for b in batches] == ["rows 1-4", "rows 5-8", "rows 9-10"]


def test_expanded_or_form_pages_like_row_values(source_db: Db) -> None:
    from sqlalchemy import create_engine

    table = _seed(source_db)
    opts = SqlStream.model_validate(_opts(source_db, table))
    plan = query.Plan(opts, "mssql")  # no row values: (a > x) or (a = x and b > y)
    engine = create_engine(source_db.url)
    try:
        with engine.connect() as conn:
            pos = Position(source_db.at("10:00"), (3,))
            rows = conn.execute(query.page(plan, pos, 100)).all()
    finally:
        engine.dispose()
    assert [r.id for r in rows] == [4, 5, 6, 7, 8, 9]


def test_an_increasing_number_is_a_cursor_on_its_own(source_db: Db) -> None:
    table = _seed(source_db)
    opts = {"table": table, "cursor_column": "id", "chunk_rows": 3}
    batches = source_db.read(opts)
    assert [source_db.ids([b]) for b in batches] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]
    assert [b.cursor_to for b in batches][-1] == '{"value": 10, "key": []}'
    assert source_db.ids(source_db.read(opts, cursor="5")) == [5, 6, 7, 8, 9, 10]
    assert source_db.ids(source_db.read(opts, cursor=batches[1].cursor_to)) == [7, 8, 9, 10]
