"""PostgreSQL column types as NDJSON, a UUID tiebreak, and a source that cannot be written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from connectors.errors import ConnectorConfigError

pytestmark = pytest.mark.postgres

Db = Any  # conftest.SourceDb

COLUMNS = """
    id uuid primary key, updated_at timestamptz not null, local_at timestamp,
    total numeric(30, 10), price float8, note text, raw bytea, tags text[], doc jsonb,
    day date, took interval
"""
ROWS = """
    ('00000000-0000-0000-0000-00000000000b', '2026-11-20 12:00:00.123456+02', '2026-11-20 09:30',
     12345678901234567890.0123456789, 'NaN', 'Zoë 東京 ✓', '\\x00ff', '{a,"b c"}',
     '{"k": [1, 2.50]}', '2026-11-20', '1 day 00:00:01.5'),
    ('00000000-0000-0000-0000-00000000000a', '2026-11-20 10:00:00+00', null, null, 0.1, null,
     null, null, null, null, null),
    ('00000000-0000-0000-0000-00000000000c', '2026-11-20 10:00:00+00', null, -0.5, null, '',
     '', '{}', 'null', null, null)
"""


def test_types_are_encoded_losslessly_in_utc(pg_source: Db) -> None:
    table = pg_source.name("typed")
    pg_source.run(f"create table {table} ({COLUMNS})")
    pg_source.run(f"insert into {table} values {ROWS}")
    opts = {"table": table, "cursor_column": "updated_at", "tiebreak": "id", "chunk_rows": 2}
    batches = pg_source.read(opts)
    rows = [json.loads(line) for b in batches for line in b.content.splitlines()]
    assert [r["id"][-1] for r in rows] == ["a", "c", "b"]
    full = rows[2]
    assert full == {
        "id": "00000000-0000-0000-0000-00000000000b",
        "updated_at": "2026-11-20T10:00:00.123456+00:00",
        "local_at": "2026-11-20T09:30:00",
        "total": "12345678901234567890.0123456789",
        "price": "NaN",
        "note": "Zoë 東京 ✓",
        "raw": "AP8=",
        "tags": ["a", "b c"],
        "doc": {"k": [1, 2.5]},
        "day": "2026-11-20",
        "took": "86401.5",
    }
    assert rows[0]["price"] == 0.1 and rows[0]["note"] is None and rows[0]["total"] is None
    assert rows[1]["total"] == "-0.5000000000" and rows[1]["raw"] == "" and rows[1]["doc"] is None
    assert json.loads(batches[0].cursor_to or "") == {
        "value": "2026-11-20T10:00:00+00:00",
        "key": ["00000000-0000-0000-0000-00000000000c"],
    }
    # resume after the UUID key: the cursor binds back as a time and a uuid
    rest = pg_source.read(opts, cursor=batches[0].cursor_to)
    assert [json.loads(line)["id"][-1] for b in rest for line in b.content.splitlines()] == ["b"]


def test_nothing_secret_in_what_a_fetch_hands_over(pg_source: Db) -> None:
    table = pg_source.orders([(1, pg_source.at("10:00"))])
    tr = pg_source.transport()
    batch = pg_source.read({"table": table, "cursor_column": "updated_at", "tiebreak": "id"})[0]
    url = make_url(pg_source.url)
    shown = [batch.name, json.dumps(batch.metadata), batch.cursor_to or "", repr(tr.config)]
    assert batch.metadata == {"table": table, "cursor_column": "updated_at", "rows": 1}
    if url.password:
        assert not any(url.password in text for text in shown)
    assert not any("postgres" in text for text in shown[:3])  # not even the URL


def test_a_query_cannot_write(pg_source: Db) -> None:
    table = pg_source.orders([(1, pg_source.at("10:00"))])
    pg_source.run(f"create sequence {pg_source.schema}.numbers")
    sneaky = f"select id, nextval('{pg_source.schema}.numbers') as n from {table}"
    with pytest.raises(ConnectorConfigError, match="read-only transaction"):
        pg_source.read({"query": sneaky, "tiebreak": "id"})
    gone = f"with gone as (delete from {table} returning *) select * from gone"
    with pytest.raises(ConnectorConfigError, match="data-modifying"):
        pg_source.read({"query": gone, "tiebreak": "id"})
    assert pg_source.ids(pg_source.read({"table": table, "tiebreak": "id"})) == [1]


def test_a_wrong_column_is_a_config_error_in_one_line(pg_source: Db) -> None:
    table = pg_source.orders([(1, pg_source.at("10:00"))])
    with pytest.raises(ConnectorConfigError) as e:
        pg_source.read({"table": table, "cursor_column": "changed_at", "tiebreak": "id"})
    assert "changed_at" in str(e.value) and "\n" not in str(e.value)
    assert str(e.value).startswith("source 'erp' stream 'orders' (table:")


def test_a_query_with_percent_signs_and_casts(pg_source: Db) -> None:
    table = pg_source.orders([(i, pg_source.at("10:00")) for i in (1, 2, 12)])
    sql = (
        f"select id, updated_at::date as day, number from {table}"
        " where number like 'SO-1%' and id::text <> :skip"
    )
    opts = {"query": sql, "params": {"skip": "1"}, "cursor_column": "day", "tiebreak": "id"}
    batches = pg_source.read(opts)
    assert pg_source.ids(batches) == [12]
    assert json.loads(batches[0].cursor_to or "") == {"value": "2026-11-20", "key": [12]}
    assert pg_source.read(opts, cursor=batches[0].cursor_to) == []
