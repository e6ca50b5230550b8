"""The YAML of docs/transports/rest.md validates, and a child stream finds its parent's
options in the source's config (as a source file declares them)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml
from resthelp import SHOP_TOKEN

from demo.emulators import ShopifyEmulator, connection_uri, generate_orders
from omshub.config import SourceConfig, get_source
from omshub.extract import open_transport

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs/transports/rest.md"


def test_every_source_in_the_doc_validates() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    sources = [d for d in map(yaml.safe_load, blocks) if isinstance(d, dict) and "connector" in d]
    assert sources
    for doc in sources:
        cfg = SourceConfig.model_validate(doc)
        assert [type(cfg.stream_options(s)).__name__ for s in cfg.streams] == ["RestStream"] * len(
            cfg.streams
        )


def test_inline_token_is_refused() -> None:
    doc = {
        "name": "shop",
        "system": "shop",
        "kind": "channel",
        "connector": {"type": "rest", "headers": {"X-Shopify-Access-Token": "shpat_x"}},
        "streams": [],
    }
    with pytest.raises(ValueError, match="secret written inline"):
        SourceConfig.model_validate(doc)


CHILD = """\
name: shop_tx
system: shop
kind: channel
connector:
  type: rest
  conn_id: shop_api
  auth: {type: api_key, name: X-Shopify-Access-Token}
  paginator: {type: link_header}
  page_size: 10
streams:
  - name: orders
    format: {type: json, records_path: orders}
    mapping: shop/orders.yaml
    options:
      path: /admin/api/2024-01/orders.json
      records_path: orders
      incremental: {param: updated_at_min, cursor_path: updated_at}
  - name: transactions
    format: {type: ndjson}
    mapping: shop/transactions.yaml
    options:
      parent: orders
      path: /admin/api/2024-01/orders/{id}/transactions.json
      records_path: transactions
      paginator: {type: single}
      parent_fields: [id, name]
"""


def test_child_stream_reads_its_parent_from_the_source_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.base import StreamRequest

    (tmp_path / "config/sources").mkdir(parents=True)
    (tmp_path / "config/sources/shop_tx.yaml").write_text(textwrap.dedent(CHILD))
    monkeypatch.setenv("OMSHUB_HOME", str(tmp_path))
    with ShopifyEmulator(generate_orders(25), token=SHOP_TOKEN) as shop:
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_API", connection_uri(shop.base_url, "", SHOP_TOKEN))
        source = get_source("shop_tx")
        stream = source.stream("transactions")
        request = StreamRequest(stream.name, "ndjson", source.stream_options(stream))
        batches = list(open_transport(source).fetch(request))
    lines = [json.loads(x) for b in batches for x in b.content.decode().splitlines()]
    assert [b.metadata["parents"] for b in batches] == [10, 10, 5]
    assert len(lines) == sum(2 if o["id"] % 2 else 1 for o in shop.orders)
    assert {x["_parent_name"] for x in lines} == {o["name"] for o in shop.orders}
    assert all(x["order_id"] == x["_parent_id"] for x in lines)
    assert batches[-1].cursor_to == "2026-01-01T00:08:00+00:00"


def test_importing_the_transport_stays_light() -> None:
    """DAG files parse every source's config: requests and tenacity load on first use."""
    import subprocess
    import sys

    code = (
        "import sys, connectors.rest, connectors.rest.auth, connectors.rest.paginate\n"
        "print(sorted(m for m in ('requests', 'tenacity', 'urllib3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
