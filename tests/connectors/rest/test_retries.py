"""429, 5xx, connection errors, token expiry: retried, re-authenticated, or a clear error."""

from __future__ import annotations

import datetime as dt
import email.utils
import time

import pytest
from resthelp import GENERIC_SECRET, SHOP_TOKEN, creds, fetch, records, salesforce_rest

from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.rest.http import retry_after

ORDERS = {"path": "/admin/api/2024-01/orders.json", "records_path": "orders", "page_size": 50}
SHOP = {"auth": {"type": "api_key", "name": "X-Shopify-Access-Token"}, "paginator": "link_header"}
SOQL = "SELECT Id, LastModifiedDate FROM Contact ORDER BY LastModifiedDate"
QUERY = {"path": "/services/data/v60.0/query", "params": {"q": SOQL}, "records_path": "records"}


def test_429_waits_retry_after(shopify, make_rest) -> None:
    shopify.throttle_pages, shopify.retry_after = {2}, "1"
    tr = make_rest({**SHOP, "retry_after_cap_seconds": 5}, creds(shopify, password=SHOP_TOKEN))
    started = time.monotonic()
    batches = fetch(tr, ORDERS)
    assert time.monotonic() - started >= 1.0
    assert len(batches) == 5 and shopify.hits["429"] == 1 and shopify.hits["orders"] == 6


def test_retry_after_is_capped_and_read_as_a_date() -> None:
    assert retry_after("30", cap=0.05) == 0.05
    assert retry_after("2.0", cap=60) == 2.0
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20), True)
    assert 15 < (retry_after(when, cap=60) or 0) <= 20
    assert retry_after("soon", cap=60) is None and retry_after(None, cap=60) is None


def test_500_is_retried_with_backoff(shopify, make_rest) -> None:
    shopify.error_pages = {1, 3}
    tr = make_rest(SHOP, creds(shopify, password=SHOP_TOKEN))
    batches = fetch(tr, ORDERS)
    assert sum(len(records(b, "orders")) for b in batches) == 250
    assert shopify.hits["500"] == 2


def test_exhausted_retries_keep_the_pages_before(shopify, make_rest) -> None:
    shopify.fail_from_page = 3
    tr = make_rest({**SHOP, "max_retries": 2}, creds(shopify, password=SHOP_TOKEN))
    got = []
    with pytest.raises(
        ConnectorError, match=r"gave up after 3 attempts: 500 Internal Server Error"
    ):
        for batch in tr.fetch(_request(ORDERS)):
            got.append(batch)
    assert [b.metadata["page"] for b in got] == [1, 2]
    assert shopify.hits["500"] == 3


def test_connection_refused_is_retried_then_a_connector_error(make_rest) -> None:
    tr = make_rest({"base_url": "http://127.0.0.1:9", "max_retries": 1, "auth": "none"})
    with pytest.raises(
        ConnectorError, match=r"127.0.0.1:9/x: gave up after 2 attempts: ConnectionError"
    ):
        fetch(tr, {"path": "/x"})


def test_a_timeout_is_retried_then_a_connector_error(generic, make_rest) -> None:
    tr = make_rest(
        {"auth": "bearer", "timeout_seconds": 0.1, "max_retries": 1},
        creds(generic, password=GENERIC_SECRET),
    )
    with pytest.raises(ConnectorError, match="gave up after 2 attempts: ReadTimeout"):
        fetch(tr, {"path": "/items", "params": {"slow": 0.3}})


def test_min_interval_spaces_requests(generic, make_rest) -> None:
    tr = make_rest(
        {"auth": "bearer", "paginator": {"type": "page_number"}, "page_size": 5},
        creds(generic, password=GENERIC_SECRET),
    )
    tr.config = tr.config.model_copy(update={"min_interval_seconds": 0.05})
    started = time.monotonic()
    assert len(fetch(tr, {"path": "/items", "records_path": "data"})) == 5
    assert time.monotonic() - started >= 0.2  # 5 requests, 4 gaps


def test_revoked_token_is_a_clear_error(shopify, make_rest) -> None:
    shopify.revoke()
    tr = make_rest(SHOP, creds(shopify, password=SHOP_TOKEN))
    with pytest.raises(ConnectorConfigError, match=r"401 Unauthorized.*Invalid API key"):
        fetch(tr, ORDERS)
    assert shopify.hits["401"] == 1


def test_expired_session_is_renewed_once_on_401(salesforce, make_rest) -> None:
    tr = salesforce_rest(make_rest, salesforce)
    got = []
    for batch in tr.fetch(_request(QUERY)):
        got.append(batch)
        if len(got) == 2:
            salesforce.expire_sessions()
    assert sum(len(records(b, "records")) for b in got) == 23
    assert salesforce.hits["token"] == 2 and salesforce.hits["401"] == 1


def test_token_renewed_before_expires_in(salesforce, make_rest) -> None:
    salesforce.token_ttl, salesforce.advertise_expiry = 0.3, True
    tr = salesforce_rest(make_rest, salesforce, expiry_skew_seconds=0.1)
    for batch in tr.fetch(_request(QUERY)):
        if batch.metadata["page"] == 2:
            time.sleep(0.25)
    assert salesforce.hits["token"] == 2 and salesforce.hits["401"] == 0


def test_a_401_that_persists_after_renewal_is_a_clear_error(salesforce, make_rest) -> None:
    salesforce.token_ttl = 0  # every session is over at once
    tr = salesforce_rest(make_rest, salesforce)
    with pytest.raises(ConnectorConfigError, match=r"401.*INVALID_SESSION_ID.*re-authenticating"):
        fetch(tr, QUERY)
    assert salesforce.hits["token"] == 2 and salesforce.hits["401"] == 2


def test_4xx_is_a_config_error_naming_the_url(shopify, make_rest) -> None:
    tr = make_rest(SHOP, creds(shopify, password=SHOP_TOKEN))
    with pytest.raises(
        ConnectorConfigError, match=r"GET http://127.0.0.1:\d+/admin/api/2024-01/nope.json: 404"
    ):
        fetch(tr, {"path": "/admin/api/2024-01/nope.json"})
    with pytest.raises(ConnectorConfigError, match=r"400 Bad Request.*status must be one of"):
        fetch(tr, {**ORDERS, "params": {"status": "weird"}})


def test_next_link_to_another_host_is_refused(shopify, make_rest) -> None:
    tr = make_rest(SHOP, creds(shopify, password=SHOP_TOKEN))
    with pytest.raises(ConnectorError, match=r"refusing to follow https://evil.example/x"):
        tr.http.follow("https://evil.example/x?token=abc")
    assert tr.http.follow("/admin/api/2024-01/orders.json?page_info=x").startswith(shopify.base_url)


def _request(options):
    from connectors.base import StreamRequest

    return StreamRequest("s", "json", options)
