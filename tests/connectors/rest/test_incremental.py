"""Updated-since parameters from the watermark, backfill windows, cursor_to, child endpoints."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from resthelp import SHOP_TOKEN, creds, fetch, records, salesforce_rest

from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.rest import RestTransport

SHOP = {"auth": {"type": "api_key", "name": "X-Shopify-Access-Token"}, "paginator": "link_header"}
INC = {"param": "updated_at_min", "cursor_path": "updated_at", "end_param": "updated_at_max"}


def orders(**inc):
    return {
        "path": "/admin/api/2024-01/orders.json",
        "records_path": "orders",
        "page_size": 50,
        "params": {"status": "any"},
        "incremental": {**INC, **inc},
    }


@pytest.fixture
def shop(shopify, make_rest):
    return make_rest(SHOP, creds(shopify, password=SHOP_TOKEN))


def newest(batches) -> str:
    times = [o["updated_at"] for b in batches for o in records(b, "orders")]
    return RestTransport.parse_cursor(max(times, key=RestTransport.parse_cursor))


def test_first_run_sends_no_bound_and_ordered_cursor_is_the_running_max(shop, shopify) -> None:
    batches = fetch(shop, orders(ordered=True))
    assert "updated_at_min" not in shopify.sent("orders")[0].query
    assert [b.cursor_to for b in batches] == [newest(batches[: i + 1]) for i in range(5)]
    assert batches[0].cursor_from is None


def test_watermark_less_overlap_is_sent(shop, shopify) -> None:
    fetch(shop, orders(), cursor="2026-01-01T01:00:00+00:00")
    assert shopify.sent("orders")[0].query["updated_at_min"] == "2026-01-01T00:55:00Z"
    fetch(
        shop,
        orders(overlap_seconds=0, format="%Y-%m-%dT%H:%M:%S+00:00"),
        cursor="2026-01-01T01:00:00Z",
    )
    first = [r for r in shopify.sent("orders") if "page_info" not in r.query][-1]
    assert first.query["updated_at_min"] == "2026-01-01T01:00:00+00:00"


def test_unordered_moves_the_mark_only_with_the_last_page(shop) -> None:
    start = "2026-01-01T00:10:00+00:00"
    batches = fetch(shop, orders(), cursor=start)
    assert len(batches) > 2
    assert [b.cursor_to for b in batches[:-1]] == [start] * (len(batches) - 1)
    assert batches[-1].cursor_to == newest(batches)
    assert {b.cursor_from for b in batches} == {start}


def test_unordered_failure_lands_what_was_fetched_without_moving_the_mark(shop, shopify) -> None:
    shopify.fail_from_page = 3
    shop.config = shop.config.model_copy(update={"max_retries": 0})
    got = []
    with pytest.raises(ConnectorError):
        for batch in shop.fetch(_request(orders(), cursor="2026-01-01T00:00:00Z")):
            got.append(batch)
    assert [b.metadata["page"] for b in got] == [1, 2]
    assert {b.cursor_to for b in got} == {"2026-01-01T00:00:00+00:00"}


def test_window_sends_both_bounds_and_never_moves_the_mark(shop, shopify) -> None:
    start, end = dt.datetime(2026, 1, 1, 0, 30), dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)
    batches = fetch(shop, orders(ordered=True), cursor="2026-06-01T00:00:00Z", window=(start, end))
    sent = shopify.sent("orders")[0].query
    assert (sent["updated_at_min"], sent["updated_at_max"]) == (
        "2026-01-01T00:30:00Z",
        "2026-01-01T01:00:00Z",
    )
    assert all(b.cursor_to is None for b in batches)
    times = {o["updated_at"] for b in batches for o in records(b, "orders")}
    assert min(times) == "2026-01-01T00:30:00+00:00" and max(times) == "2026-01-01T01:00:00+00:00"


def test_window_errors(shop) -> None:
    window = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    no_end = orders()
    del no_end["incremental"]["end_param"]
    with pytest.raises(ConnectorConfigError, match=r"needs incremental.end_param"):
        fetch(shop, no_end, window=window)
    assert fetch(shop, no_end, window=(window[0], None))  # an open end needs no end_param
    with pytest.raises(
        ConnectorConfigError, match=r"no `incremental` options, so it cannot fetch a window"
    ):
        fetch(shop, {"path": "/admin/api/2024-01/orders.json"}, window=window)


def test_incremental_without_records_path_is_a_config_error(shop) -> None:
    opts = orders()
    del opts["records_path"], opts["page_size"]
    with pytest.raises(
        ConnectorConfigError,
        match=r"reads each record's 'updated_at': set the stream's `records_path`",
    ):
        fetch(shop, opts)


def test_bad_watermark_is_a_config_error(shop) -> None:
    with pytest.raises(ConnectorConfigError, match=r"the watermark 'yesterday' is not an ISO time"):
        fetch(shop, orders(), cursor="yesterday")


def test_cursor_key_orders_iso_times_and_parse_cursor_normalises() -> None:
    values = ["2026-11-21T09:08:00.000+0000", "2026-11-21T05:00:00-05:00", "2026-11-21"]
    assert sorted(values, key=RestTransport.cursor_key) == [values[2], values[0], values[1]]
    assert RestTransport.parse_cursor("2026-11-21T09:08:00Z") == "2026-11-21T09:08:00+00:00"
    with pytest.raises(ValueError):
        RestTransport.parse_cursor("not a time")


def test_soql_since_template_for_salesforce(salesforce, make_rest) -> None:
    tr = salesforce_rest(make_rest, salesforce)
    soql = "SELECT Id, LastModifiedDate FROM Contact WHERE LastModifiedDate >= {since} ORDER BY LastModifiedDate"
    opts = {
        "path": "/services/data/v60.0/query",
        "params": {"q": soql},
        "records_path": "records",
        "incremental": {"cursor_path": "LastModifiedDate", "ordered": True, "overlap_seconds": 60},
    }
    with pytest.raises(ConnectorConfigError, match=r"set incremental.start"):
        fetch(tr, opts)
    batches = fetch(tr, opts, cursor="2026-11-21T00:15:00+00:00")
    assert "LastModifiedDate >= 2026-11-21T00:14:00Z" in salesforce.sent("query")[-1].query["q"]
    assert sum(len(records(b, "records")) for b in batches) == 9  # minutes 14..22
    assert batches[-1].cursor_to == "2026-11-21T00:22:00+00:00"
    opts["incremental"]["start"] = "2026-11-21T00:20:00Z"
    assert sum(len(records(b, "records")) for b in fetch(tr, opts)) == 3


def test_child_endpoints_land_ndjson_per_parent_page(generic, make_rest) -> None:
    tr = make_rest(
        {"auth": "bearer", "paginator": {"type": "offset"}, "page_size": 10},
        creds(generic, password=generic.secret),
    )
    tr.streams["items"] = {
        "path": "/items",
        "records_path": "data",
        "incremental": {"param": "since", "cursor_path": "updated_at"},
    }
    child = {
        "parent": "items",
        "path": "/items/{id}/parts",
        "records_path": "parts",
        "paginator": {"type": "single"},
        "parent_fields": ["id", "name"],
    }
    batches = fetch(tr, child, fmt="ndjson")
    assert [b.format for b in batches] == ["ndjson"] * 3
    rows = [json.loads(line) for b in batches for line in b.content.decode().splitlines()]
    expected = [(i, k) for i in range(1, 24) if i % 5 for k in range(i % 3)]
    assert [(r["_parent_id"], int(r["sku"].split("-")[1])) for r in rows] == expected
    assert rows[0]["_parent_name"] == "item 1"
    assert generic.hits["404"] == 4  # items 5, 10, 15, 20: gone, skipped with a warning
    assert [b.metadata["parents"] for b in batches] == [10, 10, 3]
    assert batches[0].name == "/items?limit=10&offset=0 -> /items/{id}/parts"
    assert [b.cursor_to for b in batches] == [None, None, "2026-03-01T00:23:00+00:00"]


def test_child_stream_errors(generic, make_rest) -> None:
    tr = make_rest({"auth": "bearer"}, creds(generic, password=generic.secret))
    tr.streams["items"] = {"path": "/items", "records_path": "data"}
    with pytest.raises(ConnectorConfigError, match=r"a child stream lands NDJSON"):
        fetch(tr, {"parent": "items", "path": "/items/{id}/parts"})
    with pytest.raises(ConnectorConfigError, match=r"the parent record has no 'sku'"):
        fetch(tr, {"parent": "items", "path": "/items/{sku}/parts"}, fmt="ndjson")
    with pytest.raises(ConnectorConfigError, match=r"follows its parent's `incremental`"):
        fetch(
            tr,
            {
                "parent": "items",
                "path": "/x/{id}",
                "incremental": {"param": "a", "cursor_path": "b"},
            },
        )


def _request(options, **kw):
    from connectors.base import StreamRequest

    return StreamRequest("s", "json", options, **kw)
