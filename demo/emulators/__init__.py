"""Local emulators of vendor APIs, for the tests and the demo (`make demo`).

Each is a real HTTP server on 127.0.0.1 (a free port) following the vendor's documented
protocol, failure modes included: `ShopifyEmulator` (Admin REST API: Link-header cursor
pages, 429 with Retry-After, 500s, revoked tokens) and `SalesforceEmulator` (OAuth2
client credentials, SOQL query with `nextRecordsUrl`, 401 INVALID_SESSION_ID).

`start_salesforce_demo(home)` / `start_shopify_demo(home)` serve the demo's data and
return `(base_url, stop)`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from demo.emulators.salesforce import SalesforceEmulator, load_records
from demo.emulators.shopify import ShopifyEmulator, generate_orders, load_orders

__all__ = [
    "SalesforceEmulator",
    "ShopifyEmulator",
    "connection_uri",
    "generate_orders",
    "load_orders",
    "load_records",
    "start_salesforce_demo",
    "start_shopify_demo",
]

#: the demo's OAuth2 client id (the secret is the caller's: see start_salesforce_demo)
DEMO_CLIENT_ID = "omshub-demo"


def start_salesforce_demo(
    home: Path, client_secret: str, files: tuple[str, ...] = ("contacts_2026-11-21.json",)
) -> tuple[str, Callable[[], None]]:
    """Serve demo/systems/salesforce_crm's contacts as the Contact object.

    The caller picks the client secret (e.g. `secrets.token_urlsafe()`) and hands the
    same one to omshub through the connection (`connection_uri`).
    """
    folder = Path(home) / "demo/systems/salesforce_crm"
    contacts = [r for name in files for r in load_records(folder / name)]
    emu = SalesforceEmulator(
        {"Contact": contacts}, client_id=DEMO_CLIENT_ID, client_secret=client_secret
    )
    return emu.start(), emu.stop


def start_shopify_demo(home: Path, token: str) -> tuple[str, Callable[[], None]]:
    """Serve demo/systems/shopify's orders (status=any lists all of them) to `token`."""
    folder = Path(home) / "demo/systems/shopify"
    emu = ShopifyEmulator(load_orders(sorted(folder.glob("orders_*.json"))), token=token)
    return emu.start(), emu.stop


def connection_uri(base_url: str, login: str, secret: str) -> str:
    """An Airflow connection URI (`AIRFLOW_CONN_<ID>`) for an emulator at `base_url`."""
    from urllib.parse import quote, urlsplit

    parts = urlsplit(base_url)
    return f"{parts.scheme}://{quote(login, safe='')}:{quote(secret, safe='')}@{parts.netloc}"
