"""Fixtures of the REST transport tests: real local servers (the vendor emulators and a
generic API with every pagination style), and transports built against them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[3]))  # demo.emulators, however run

from resthelp import FAST, SF_CLIENT_ID, SF_SECRET, SHOP_TOKEN, GenericApi

from connectors.base import TransportContext
from connectors.credentials import Credentials
from connectors.registry import transport
from demo.emulators import SalesforceEmulator, ShopifyEmulator, generate_orders


@pytest.fixture
def generic() -> Iterator[GenericApi]:
    with GenericApi() as api:
        yield api


@pytest.fixture
def shopify() -> Iterator[ShopifyEmulator]:
    with ShopifyEmulator(generate_orders(250), token=SHOP_TOKEN, retry_after="0.01") as emu:
        yield emu


@pytest.fixture
def salesforce() -> Iterator[SalesforceEmulator]:
    contacts = [
        {
            "Id": f"0035e000000{i:05d}AAA",
            "Email": f"c{i}@example.com",
            "LastName": f"Last{i}",
            "LastModifiedDate": f"2026-11-21T{i // 60:02d}:{i % 60:02d}:00.000+0000",
        }
        for i in range(23)
    ]
    with SalesforceEmulator(
        {"Contact": contacts}, client_id=SF_CLIENT_ID, client_secret=SF_SECRET, batch_size=5
    ) as emu:
        yield emu


MakeRest = Callable[..., Any]


@pytest.fixture
def make_rest() -> MakeRest:
    """`make_rest(connector_options, credentials)`: a RestTransport, fast retries."""

    def make(options: dict[str, Any], credentials: Credentials | None = None) -> Any:
        return transport(
            "rest",
            {"conn_id": "api", **FAST, **options},
            TransportContext("src", Path("."), credentials),
        )

    return make
