"""The SQL source transport's config, cursor and encoding (no server needed), and its
SQLite behaviour; keyset paging on both backends is in tests/connectors/sql/."""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import StreamRequest, TransportContext
from connectors.credentials import from_uri
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.registry import transport
from connectors.sql import SqlStream, SqlTransport
from connectors.sqlsource import encode
from connectors.sqlsource.engine import create, source_url
from omshub.config import SourceConfig

STREAM = {"table": "orders", "cursor_column": "updated_at", "tiebreak": ["id"]}


def _bad_stream(**options: Any) -> str:
    with pytest.raises(ConnectorConfigError) as e:
        SqlStream.coerce(options, "orders")
    return str(e.value)


# -- config ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    ["orders; drop table x", "a.b.c", "1orders", 'or"ders', "orders--", "erp.", ""],
)
def test_a_table_name_that_is_not_an_identifier_is_refused(table: str) -> None:
    assert "stream 'orders': table" in _bad_stream(**{**STREAM, "table": table})


@pytest.mark.parametrize("key", ["cursor_column", "tiebreak", "columns"])
def test_column_names_are_identifiers(key: str) -> None:
    value: Any = "updated_at desc" if key == "cursor_column" else ["id; --"]
    assert "not a plain identifier" in _bad_stream(**{**STREAM, key: value})


def test_stream_options_are_checked() -> None:
    assert "either `table` or `query`" in _bad_stream(cursor_column="x", tiebreak=["id"])
    both = _bad_stream(**STREAM, query="select 1")
    assert "either `table` or `query`" in both
    assert "one SELECT" in _bad_stream(query="delete from orders", tiebreak=["id"])
    assert "one statement" in _bad_stream(query="select 1; drop table x", tiebreak=["id"])
    assert "`cursor_column` (incremental) or `tiebreak`" in _bad_stream(table="orders")
    reserved = _bad_stream(query="select :omshub_k0", params={"omshub_k0": 1}, tiebreak="id")
    assert "names starting omshub_ are ours" in reserved
    assert "cannot also be a tiebreak" in _bad_stream(
        table="t", cursor_column="id", tiebreak=["id"]
    )
    assert "Extra inputs" in _bad_stream(**STREAM, chunk_size=10)
    ok = SqlStream.coerce(
        {"query": "-- orders\nWITH x AS (select 1 as id) SELECT * FROM x;", "tiebreak": "id"}
    )
    assert ok.query == "-- orders\nWITH x AS (select 1 as id) SELECT * FROM x"
    assert ok.tiebreak == ["id"] and ok.chunk_rows == 50_000
    assert SqlStream.coerce({**STREAM, "table": "erp.Orders"}).table == "erp.Orders"
    assert SqlStream.coerce({"query": "select ';' as a", "tiebreak": "a"}).query


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://erp:hunter2@db.example/erp",
        "postgresql://db.example/erp?password=hunter2",
        "mysql+pymysql://erp:hunter2@db/erp",
    ],
)
def test_a_url_with_a_password_is_refused(url: str) -> None:
    with pytest.raises(ConnectorConfigError) as e:
        transport("sql", {"url": url})
    assert "url holds a password" in str(e.value) and "conn_id" in str(e.value)
    assert "hunter2" not in str(e.value)


def test_conn_id_xor_url() -> None:
    with pytest.raises(ConnectorConfigError, match="either `conn_id`"):
        transport("sql", {})
    with pytest.raises(ConnectorConfigError, match="either `conn_id`"):
        transport("sql", {"conn_id": "erp", "url": "sqlite:///x.db"})


def test_a_sql_source_in_yaml_is_typed() -> None:
    cfg = SourceConfig.model_validate(
        {
            "name": "erp",
            "system": "erp",
            "kind": "erp",
            "connector": {"type": "sql", "conn_id": "erp_replica"},
            "streams": [
                {
                    "name": "orders",
                    "mapping": "m.yaml",
                    "format": {"type": "ndjson"},
                    "options": STREAM,
                }
            ],
        }
    )
    opts = cfg.stream_options(cfg.streams[0])
    assert isinstance(opts, SqlStream) and opts.order == ["updated_at", "id"]


# -- the database URL --------------------------------------------------------------------


def test_url_from_a_connection_names_the_driver(tmp_path: Path) -> None:
    config = SqlTransport.Config(conn_id="erp")
    creds = from_uri("erp", "postgresql://reader:p%40ss@db.example:6543/erp?sslmode=require&x=1")
    url = source_url(config, creds, tmp_path)
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port) == (
        "reader",
        "p@ss",
        "db.example",
        6543,
    )
    assert url.database == "erp" and dict(url.query) == {"sslmode": "require"}
    assert "p@ss" not in repr(url) and "p%40ss" not in str(url)
    mysql = source_url(config, from_uri("erp", "mysql://r:s@db/erp?charset=utf8mb4"), tmp_path)
    assert mysql.drivername == "mysql+pymysql" and mysql.query == {"charset": "utf8mb4"}
    lite = source_url(config, from_uri("erp", "sqlite:///data/erp.db"), tmp_path)
    assert lite.drivername == "sqlite" and lite.database == str(tmp_path / "data/erp.db")
    with pytest.raises(ConnectorConfigError, match="conn_type 'http' is not a SQL source"):
        source_url(config, from_uri("erp", "http://h/x"), tmp_path)


def test_url_in_yaml_gets_its_driver_and_database(tmp_path: Path) -> None:
    pg = SqlTransport.Config(url="postgresql://reader@db/erp", database="erp2")
    assert str(source_url(pg, None, tmp_path)) == "postgresql+psycopg://reader@db/erp2"
    lite = SqlTransport.Config(url="sqlite:///erp.db")
    assert source_url(lite, None, tmp_path).database == str(tmp_path / "erp.db")


def test_a_missing_sqlite_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    tr = transport("sql", {"url": "sqlite:///nope.db"}, TransportContext("erp", tmp_path))
    with pytest.raises(ConnectorError, match=r"nope\.db does not exist"):
        list(tr.fetch(StreamRequest("orders", "ndjson", STREAM)))
    assert not (tmp_path / "nope.db").exists()


def test_an_unreachable_server_is_retriable_and_the_password_never_shows(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    creds = from_uri("erp", f"postgres://reader:Sup3r-s3cret@127.0.0.1:{port}/erp")
    tr = transport("sql", {"conn_id": "erp"}, TransportContext("erp", tmp_path, creds))
    with pytest.raises(ConnectorError) as e:
        list(tr.fetch(StreamRequest("orders", "ndjson", STREAM)))
    assert "source 'erp' stream 'orders' (table:orders)" in str(e.value)
    assert "Sup3r-s3cret" not in str(e.value) and "\n" not in str(e.value)


def test_the_format_must_be_ndjson(tmp_path: Path) -> None:
    tr = transport("sql", {"url": "sqlite:///x.db"}, TransportContext("erp", tmp_path))
    with pytest.raises(ConnectorConfigError, match="format must be ndjson"):
        list(tr.fetch(StreamRequest("orders", "json", STREAM)))


def test_importing_the_transport_stays_light() -> None:
    code = "import sys, connectors.sql; print(any(m.startswith('sqlalchemy') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the cursor --------------------------------------------------------------------------


def test_cursor_key_orders_times_as_times_and_numbers_as_numbers() -> None:
    key = SqlTransport.cursor_key
    assert key("2026-11-20T10:00:00+02:00") < key("2026-11-20T09:00:00Z")
    assert key("9") < key("10") < key("10.5")
    same = "2026-11-20 10:00:00"
    assert key(same) == key("2026-11-20T10:00:00+00:00")
    j = lambda v, k: json.dumps({"value": v, "key": k})  # noqa: E731
    assert key(same) < key(j(same, [1])) < key(j(same, [2])) < key(j(same, [10]))
    assert key(j("2026-11-20T10:00:00+00:00", [99])) < key(j("2026-11-20T10:00:00.000001Z", [1]))
    assert key(j(9, ["b"])) < key(j(10, ["a"])) and key(j(10, ["a"])) < key(j(10, ["b"]))
    assert key(j(10, [None])) < key(j(10, [0])) < key(j(10, ["0"]))  # never a TypeError
    assert key('{"value": 1.5, "key": []}') == (*key("1.5")[:1], 1, ())


def test_parse_cursor_validates_and_normalises() -> None:
    parse = SqlTransport.parse_cursor
    assert parse(" 2026-11-20 ") == "2026-11-20T00:00:00+00:00"
    assert parse("2026-11-20T12:00:00+02:00") == "2026-11-20T10:00:00+00:00"
    assert parse("2026-11-20T10:00:00") == "2026-11-20T10:00:00+00:00"
    assert parse("1500") == "1500" and parse("12.50") == "12.50"
    assert parse('{"value":12.50,"key":["a",1]}') == '{"value": 12.50, "key": ["a", 1]}'
    for bad in ("", "yesterday", "{oops", '{"value": 1}', '{"value": true, "key": []}'):
        with pytest.raises(ValueError):
            parse(bad)


def test_a_cursor_to_round_trips_decimals_and_unicode(tmp_path: Path) -> None:
    from connectors.sqlsource.cursor import dumps, loads

    text = dumps(Decimal("12345678901234567890.123456789"), ("Zürich", uuid.UUID(int=1), 3))
    pos = loads(text)
    assert pos.value == Decimal("12345678901234567890.123456789")
    assert pos.key == ("Zürich", "00000000-0000-0000-0000-000000000001", 3)


# -- encoding ----------------------------------------------------------------------------


def test_values_are_encoded_losslessly() -> None:
    aware = dt.datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    row = (
        Decimal("0.10"),
        aware,
        dt.datetime(2026, 11, 20, 10, 0),
        dt.date(2026, 11, 20),
        b"\x00\xff",
        None,
        "Zoë 東京 \u2028",
        0.1,
        math.nan,
        [math.inf, -math.inf],
        {"a": [1, Decimal("2.5")]},
        dt.timedelta(days=1, seconds=1, microseconds=5),
        uuid.UUID(int=255),
        True,
        2**70,
    )
    cols = [f"c{i}" for i in range(len(row))]
    doc = json.loads(encode.ndjson(cols, [row]).decode("utf-8"))
    assert list(doc.values()) == [
        "0.10",
        "2026-11-20T10:00:00.123456+02:00",
        "2026-11-20T10:00:00",
        "2026-11-20",
        "AP8=",
        None,
        "Zoë 東京 \u2028",
        0.1,
        "NaN",
        ["Infinity", "-Infinity"],
        {"a": [1, "2.5"]},
        "86401.000005",
        "00000000-0000-0000-0000-0000000000ff",
        True,
        2**70,
    ]
    assert encode.ndjson(cols, []) == b""


# -- SQLite specifics --------------------------------------------------------------------


def _erp(tmp_path: Path, updated_at: str) -> Any:
    """A SQLite ERP file with one order, and a transport reading it."""
    with sqlite3.connect(tmp_path / "erp.db") as conn:
        conn.execute("create table orders (id integer primary key, updated_at text)")
        conn.execute("insert into orders values (1, ?)", (updated_at,))
    return transport("sql", {"url": "sqlite:///erp.db"}, TransportContext("erp", tmp_path))


def test_sqlite_is_opened_read_only(tmp_path: Path) -> None:
    tr = _erp(tmp_path, "2026-11-20 10:00:00")
    sneaky = {"query": "select * from orders where id in (select 1)", "tiebreak": "id"}
    assert len(list(tr.fetch(StreamRequest("orders", "ndjson", sneaky)))) == 1
    ro = create(source_url(tr.config, None, tmp_path), 5)
    try:
        with ro.connect() as conn, pytest.raises(Exception, match="readonly"):
            conn.exec_driver_sql("delete from orders")
    finally:
        ro.dispose()


def test_a_text_cursor_that_is_no_time_is_refused(tmp_path: Path) -> None:
    tr = _erp(tmp_path, "yesterday")
    with pytest.raises(ConnectorConfigError, match="neither a timestamp nor a number"):
        list(tr.fetch(StreamRequest("orders", "ndjson", STREAM)))


def test_a_missing_table_or_parameter_is_a_config_error(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "erp.db").close()
    tr = transport("sql", {"url": "sqlite:///erp.db"}, TransportContext("erp", tmp_path))
    with pytest.raises(ConnectorConfigError, match="no such table: orders"):
        list(tr.fetch(StreamRequest("orders", "ndjson", STREAM)))
    unbound = {"query": "select 1 as id where 1 = :one", "tiebreak": "id"}
    with pytest.raises(ConnectorConfigError, match="one"):
        list(tr.fetch(StreamRequest("orders", "ndjson", unbound)))
    with pytest.raises(ConnectorConfigError, match="backfill window needs a `cursor_column`"):
        req = StreamRequest(
            "orders", "ndjson", {"table": "t", "tiebreak": "id"}, window=(None, None)
        )
        list(tr.fetch(req))


def test_columns_of_mixed_types_encode_like_json() -> None:
    rows = [
        (1, 1.5, "a", None, Decimal("1"), True, dt.date(2026, 1, 1), {"x": math.nan}),
        (2**64, 2, 'q"\\\n%s', "x", None, False, "2026", [1, None]),
        (None, math.inf, "", 3, Decimal("-0.0"), None, None, None),
    ]
    cols = ["i", "f", "s", "m", "d", "b", "t", "j%s"]
    lines = encode.ndjson(cols, rows).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"i": 1, "f": 1.5, "s": "a", "m": None, "d": "1", "b": True, "t": "2026-01-01",
         "j%s": {"x": "NaN"}},
        {"i": 2**64, "f": 2, "s": 'q"\\\n%s', "m": "x", "d": None, "b": False, "t": "2026",
         "j%s": [1, None]},
        {"i": None, "f": "Infinity", "s": "", "m": 3, "d": "-0.0", "b": None, "t": None,
         "j%s": None},
    ]  # fmt: skip


def test_a_password_in_the_yaml_url_names_file_and_line_not_the_password(tmp_path: Path) -> None:
    from oms.errors import ConfigError
    from omshub.config import load_source

    path = tmp_path / "erp.yaml"
    path.write_text(
        "name: erp\nsystem: erp\nkind: erp\nconnector:\n  type: sql\n"
        "  url: postgresql://erp:hunter2@db/erp\nstreams:\n  - name: orders\n"
        "    mapping: m.yaml\n    format: {type: ndjson}\n    options: {table: orders, tiebreak: id}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_source(path)
    assert f"{path}:6 connector.url: url holds a password" in str(e.value)
    assert "hunter2" not in str(e.value)
