"""No secret anywhere: a token, a client secret or an issued access token never shows in
logs (DEBUG, urllib3 included), landing files, manifests, the store or CLI output."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from resthelp import SF_CLIENT_ID, SF_SECRET, SHOP_TOKEN
from restproject import SALESFORCE_SOURCE, use_project
from sqlalchemy import MetaData, create_engine, select
from typer.testing import CliRunner

from demo.emulators import (
    SalesforceEmulator,
    ShopifyEmulator,
    connection_uri,
    generate_orders,
    load_records,
)
from omshub.cli import app

ROOT = Path(__file__).resolve().parents[3]
CONTACTS = ROOT / "demo/systems/salesforce_crm/contacts_2026-11-21.json"


@pytest.fixture
def servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str
) -> Iterator[tuple[ShopifyEmulator, SalesforceEmulator]]:
    shop = ShopifyEmulator(
        generate_orders(300), token=SHOP_TOKEN, throttle_pages={2}, error_pages={3}
    )
    crm = SalesforceEmulator(
        {"Contact": load_records(CONTACTS)},
        client_id=SF_CLIENT_ID,
        client_secret=SF_SECRET,
        batch_size=5,
    )
    with shop, crm:
        use_project(tmp_path, monkeypatch, extra_sources={"salesforce_api": SALESFORCE_SOURCE})
        monkeypatch.setenv("OMSHUB_LOG_DIR", str(tmp_path / "logs"))
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_API", connection_uri(shop.base_url, "", SHOP_TOKEN))
        monkeypatch.setenv(
            "AIRFLOW_CONN_SALESFORCE_DEMO", connection_uri(crm.base_url, SF_CLIENT_ID, SF_SECRET)
        )
        yield shop, crm


def store_text(url: str) -> str:
    """Every text value of every table of the store, as one string."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for tbl in meta.sorted_tables:
            for row in conn.execute(select(tbl)):
                parts += [str(v) for v in row if isinstance(v, str | bytes)]
    engine.dispose()
    return "\n".join(parts)


def files_text(*folders: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace")
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )


def test_no_secret_in_logs_landing_manifests_store_or_cli_output(
    servers: tuple[ShopifyEmulator, SalesforceEmulator],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    sqlite_store: str,
) -> None:
    shop, crm = servers
    caplog.set_level(logging.DEBUG)
    # the CLI stops its packages' loggers from propagating: listen on each of them too
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setLevel(logging.DEBUG)
    names = ("", "urllib3", "connectors", "connectors.rest", "oms", "omshub", "transforms")
    for name in names:
        logging.getLogger(name).addHandler(handler)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    try:
        outputs = run_everything(shop, crm)
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(handler)
    secrets = [SHOP_TOKEN, SF_SECRET, *crm.issued]
    assert len(crm.issued) == 2
    places = {
        "logs": caplog.text + sink.getvalue(),
        "cli": outputs,
        "landing and manifests": files_text(tmp_path / "landing"),
        "log files": files_text(tmp_path / "logs"),
        "store": store_text(sqlite_store),
    }
    assert "INFO" in places["log files"]  # the CLI's log file is there
    assert '"GET /admin/api/2024-01/orders.json?' in places["logs"]  # urllib3 did log
    assert "429 Too Many Requests" in places["logs"]  # and the retries
    assert "X-Shopify-Access-Token" not in places["landing and manifests"]
    assert '"url": "http://127.0.0.1' in places["landing and manifests"]  # manifests are there
    for where, text in places.items():
        leaked = [s[:6] + "..." for s in secrets if s in text]
        assert not leaked, f"secret in {where}: {leaked}"


def run_everything(shop: ShopifyEmulator, crm: SalesforceEmulator) -> str:
    """Runs that succeed, renew a session, fail on a revoked token; the CLI's output."""
    runner = CliRunner()
    ok = runner.invoke(app, ["run", "shop", "salesforce_api"])
    assert ok.exit_code == 0, ok.output
    assert shop.hits["429"] == 1 and shop.hits["500"] == 1 and crm.hits["token"] == 1
    crm.expire_sessions()  # the old session is over: the next run takes a new token
    again = runner.invoke(app, ["run", "salesforce_api"])
    assert again.exit_code == 0, again.output
    assert crm.hits["401"] == 0 and crm.hits["token"] == 2  # a new run, a new token
    shop.revoke()
    failed = runner.invoke(app, ["run", "shop"])
    assert failed.exit_code != 0 and "401" in failed.output
    stats = runner.invoke(app, ["stats"])
    batches = runner.invoke(app, ["batches", "list"])

    return "\n".join(r.output for r in (ok, again, failed, stats, batches))
