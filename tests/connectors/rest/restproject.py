"""A throwaway omshub project with REST sources served by the emulators."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

FAST = """\
  max_retries: 3
  backoff_base_seconds: 0.01
  backoff_cap_seconds: 0.05
  retry_after_cap_seconds: 0.05
"""

SHOP_SOURCE = f"""\
name: shop
system: shop
kind: channel
connector:
  type: rest
  conn_id: shop_api
  auth: {{type: api_key, name: X-Shopify-Access-Token}}
  paginator: {{type: link_header}}
  page_size: 100
{FAST}mode: incremental
retries: 0
streams:
  - name: orders
    format: {{type: json, records_path: orders}}
    mapping: shop/orders.yaml
    options:
      path: /admin/api/2024-01/orders.json
      records_path: orders
      params: {{status: any}}
      incremental:
        param: updated_at_min
        end_param: updated_at_max
        cursor_path: updated_at
        ordered: true
"""

SHOP_MAPPING = """\
mapping: shop.orders
version: 1
entity: sales_order
external_id: id
updated_at: updated_at
fields:
  order_number: {path: name, required: true}
  payment_status: {path: financial_status, code: shopify_financial_status}
  grand_total: total_price
"""

#: the demo's REST source for the CRM, as the integrator is asked to add it
SALESFORCE_SOURCE = """\
name: salesforce_api
system: salesforce
kind: crm
description: Northwind CRM (Salesforce REST API; `make demo` serves it from demo/emulators)
connector:
  type: rest
  conn_id: salesforce_demo
  auth: {type: oauth2_client_credentials, token_url: /services/oauth2/token}
  paginator: {type: next_url, next_url_path: nextRecordsUrl}
  headers: {Sforce-Query-Options: batchSize=200}
schedule: "@hourly"
mode: incremental
reject_threshold: 0.25
streams:
  - name: contacts
    format: {type: json, records_path: records}
    mapping: salesforce/contacts.yaml
    options:
      path: /services/data/v60.0/query
      records_path: records
      params:
        q: >-
          SELECT Id, FirstName, LastName, Email, Phone, MailingStreet, MailingCity,
          MailingState, MailingPostalCode, MailingCountry, LastModifiedDate
          FROM Contact WHERE LastModifiedDate >= {since} ORDER BY LastModifiedDate ASC
      incremental:
        cursor_path: LastModifiedDate
        ordered: true
        start: "2000-01-01T00:00:00Z"
"""


def write_project(home: Path, extra_sources: dict[str, str] | None = None) -> Path:
    """The shop source (and any `extra_sources`: file stem -> YAML) under `home`."""
    for sub in ("config/codes", "config/sources", "mappings/shop", "mappings/salesforce"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    for code in ("shopify_financial_status", "country_name"):
        shutil.copy(ROOT / f"config/codes/{code}.yaml", home / "config/codes/")
    shutil.copy(ROOT / "mappings/salesforce/contacts.yaml", home / "mappings/salesforce/")
    (home / "config/sources/shop.yaml").write_text(SHOP_SOURCE)
    (home / "mappings/shop/orders.yaml").write_text(SHOP_MAPPING)
    for stem, text in (extra_sources or {}).items():
        (home / f"config/sources/{stem}.yaml").write_text(textwrap.dedent(text))
    return home


def use_project(tmp_path: Path, monkeypatch: Any, **kw: Any) -> Path:
    home = write_project(tmp_path / "proj", **kw)
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home
