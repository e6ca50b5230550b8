"""Every paginator and authenticator against real local servers."""

from __future__ import annotations

import json
import logging

import pytest
from resthelp import (
    GENERIC_SECRET,
    SF_CLIENT_ID,
    SF_SECRET,
    SHOP_TOKEN,
    creds,
    fetch,
    records,
    salesforce_rest,
)

from connectors.errors import ConnectorConfigError
from connectors.rest.auth import AUTHENTICATORS
from connectors.rest.paginate import PAGINATORS

ITEMS = {"path": "/items", "records_path": "data"}


def ids(batches: list, path: str = "data") -> list[int]:
    return [r["id"] for b in batches for r in records(b, path)]


def test_registries_name_every_kind() -> None:
    assert set(PAGINATORS) == {
        "single",
        "link_header",
        "cursor",
        "page_number",
        "offset",
        "next_url",
    }
    assert set(AUTHENTICATORS) == {
        "none",
        "api_key",
        "bearer",
        "basic",
        "oauth2_client_credentials",
    }


def test_link_header_pages_of_shopify(shopify, make_rest) -> None:
    tr = make_rest(
        {"auth": {"type": "api_key", "name": "X-Shopify-Access-Token"}, "paginator": "link_header"},
        creds(shopify, password=SHOP_TOKEN),
    )
    batches = fetch(
        tr,
        {"path": "/admin/api/2024-01/orders.json", "records_path": "orders", "page_size": 100},
    )
    assert [len(records(b, "orders")) for b in batches] == [100, 100, 50]
    assert len({o["id"] for b in batches for o in records(b, "orders")}) == 250
    assert [b.metadata["page"] for b in batches] == [1, 2, 3]
    assert batches[0].name == "/admin/api/2024-01/orders.json?limit=100"
    assert "page_info=" in batches[1].name and batches[1].format == "json"
    # the page body is landed exactly as the API sent it
    assert json.loads(batches[0].content)["orders"][0]["id"] == shopify.orders[0]["id"]
    # page_info requests carry no other filter (Shopify answers 400 to that)
    assert all(set(r.query) == {"limit", "page_info"} for r in shopify.sent("orders")[1:])


@pytest.mark.parametrize(
    "paginator",
    [
        {"type": "page_number", "param": "page", "limit_param": "per_page"},
        {"type": "offset", "limit": 10},
        {
            "type": "cursor",
            "cursor_path": "meta.next",
            "cursor_param": "cursor",
            "limit_param": "limit",
        },
    ],
    ids=lambda p: p["type"],
)
def test_counting_paginators(generic, make_rest, paginator) -> None:
    tr = make_rest(
        {"auth": {"type": "bearer"}, "paginator": paginator, "page_size": 10},
        creds(generic, password=generic.secret),
    )
    batches = fetch(tr, ITEMS)
    assert ids(batches) == list(range(1, 24))
    assert [len(records(b, "data")) for b in batches] == [10, 10, 3]
    assert generic.hits["items"] == 3  # a short page is the last: no empty page asked for


def test_page_number_stops_at_an_empty_page_which_is_not_landed(generic, make_rest) -> None:
    generic.items = generic.items[:20]
    tr = make_rest(
        {"auth": "bearer", "paginator": {"type": "page_number"}, "page_size": 10},
        creds(generic, password=generic.secret),
    )
    batches = fetch(tr, ITEMS)
    assert [len(records(b, "data")) for b in batches] == [10, 10]
    assert generic.hits["items"] == 3


def test_next_url_pages_of_salesforce_with_oauth2(salesforce, make_rest) -> None:
    tr = salesforce_rest(make_rest, salesforce)
    q = "SELECT Id, Email, LastModifiedDate FROM Contact ORDER BY LastModifiedDate"
    batches = fetch(
        tr, {"path": "/services/data/v60.0/query", "params": {"q": q}, "records_path": "records"}
    )
    assert [len(records(b, "records")) for b in batches] == [5, 5, 5, 5, 3]
    assert salesforce.hits["token"] == 1 and salesforce.hits["query_more"] == 4
    assert batches[1].name.startswith("/services/data/v60.0/query/01g")


def test_single_page_by_default(generic, make_rest) -> None:
    tr = make_rest({"auth": "bearer"}, creds(generic, password=generic.secret))
    batches = fetch(
        tr, {"path": "/items", "params": {"limit": 100, "flag": True}, "records_path": "data"}
    )
    assert len(batches) == 1 and ids(batches) == list(range(1, 24))
    assert generic.sent("items")[0].query["flag"] == "true"  # JSON's spelling, not Python's


@pytest.mark.parametrize(
    ("auth", "fields"),
    [
        ({"type": "bearer"}, {"password": GENERIC_SECRET}),
        ({"type": "basic"}, {"login": "u", "password": GENERIC_SECRET}),
        ({"type": "api_key"}, {"password": GENERIC_SECRET}),
        (
            {"type": "api_key", "location": "query", "name": "api_key"},
            {"password": GENERIC_SECRET},
        ),
        (
            {"type": "bearer", "secret_field": "api_token"},
            {"extra": {"api_token": GENERIC_SECRET}},
        ),
    ],
    ids=["bearer", "basic", "api_key_header", "api_key_query", "bearer_extra"],
)
def test_authenticators(generic, make_rest, auth, fields) -> None:
    tr = make_rest({"auth": auth}, creds(generic, **fields))
    batches = fetch(tr, {"path": "/items", "records_path": "data"})
    assert len(ids(batches)) == 10
    # a key sent in the query never shows in the batch's name or metadata
    assert GENERIC_SECRET not in batches[0].name + json.dumps(batches[0].metadata)


def test_wrong_secret_is_a_clear_config_error(generic, make_rest) -> None:
    tr = make_rest({"auth": "bearer"}, creds(generic, password="wrong-secret-value"))
    with pytest.raises(ConnectorConfigError, match=r"GET http://127.0.0.1:\d+/items: 401") as e:
        fetch(tr, ITEMS)
    assert "check the connection's credentials" in str(e.value)
    assert generic.hits["401"] == 1  # a static secret is not retried


def test_missing_credentials_name_the_connection(generic, make_rest) -> None:
    tr = make_rest({"auth": "bearer", "base_url": generic.base_url})
    with pytest.raises(ConnectorConfigError, match=r"connection 'api' was not resolved"):
        fetch(tr, ITEMS)
    tr = make_rest({"auth": "bearer"}, creds(generic))
    with pytest.raises(ConnectorConfigError, match=r"connection 'api' has no password"):
        fetch(tr, ITEMS)


def test_oauth2_client_id_and_secret_from_extras_and_basic_client_auth(
    salesforce, make_rest
) -> None:
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"{salesforce.base_url}/services/oauth2/token",
        "client_id_field": "client_id",
        "client_secret_field": "client_secret",
        "client_auth": "basic",
        "scopes": ["api"],
    }
    extra = {"client_id": SF_CLIENT_ID, "client_secret": SF_SECRET}
    tr = make_rest({"auth": auth}, creds(salesforce, extra=extra))
    q = {"q": "SELECT Id FROM Contact LIMIT 3"}
    batches = fetch(
        tr, {"path": "/services/data/v60.0/query", "params": q, "records_path": "records"}
    )
    assert len(records(batches[0], "records")) == 3
    token_request = salesforce.sent("token")[0]
    assert "client_secret" not in token_request.form() and token_request.form()["scope"] == "api"


def test_oauth2_wrong_client_is_a_config_error(salesforce, make_rest) -> None:
    auth = {"type": "oauth2_client_credentials", "token_url": "/services/oauth2/token"}
    tr = make_rest({"auth": auth}, creds(salesforce, login=SF_CLIENT_ID, password="nope-nope"))
    with pytest.raises(ConnectorConfigError, match=r"400.*invalid_client"):
        fetch(tr, {"path": "/services/data/v60.0/query", "params": {"q": "SELECT Id FROM Contact"}})


def test_a_key_in_the_query_is_scrubbed_from_urllib3_debug_lines(
    generic, make_rest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="urllib3")
    auth = {"type": "api_key", "location": "query", "name": "api_key"}
    tr = make_rest({"auth": auth}, creds(generic, password=GENERIC_SECRET))
    fetch(tr, {"path": "/items", "records_path": "data"})
    assert "GET /items?api_key=***" in caplog.text
    assert GENERIC_SECRET not in caplog.text
