"""A tiny throwaway omshub project (one folder source) for failure-mode tests."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def write_source(home: Path, reject_threshold: float = 0.5, incremental: bool = False) -> Path:
    """A tiny project with one folder source, for failure-mode tests.

    `incremental`: loaded files are skipped by later runs (else every run reprocesses all).
    """
    for sub in ("config/codes", "config/sources", "mappings/shop", "drop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config/codes/shopify_financial_status.yaml", home / "config/codes/")
    (home / "config/sources/shop.yaml").write_text(
        textwrap.dedent(f"""\
        name: shop
        system: shop
        kind: channel
        connector: {{type: local_folder, path: drop}}
        mode: {"incremental" if incremental else "full"}
        retries: 0
        reject_threshold: {reject_threshold}
        streams:
          - name: orders
            pattern: "*.json"
            format: {{type: json, records_path: orders}}
            mapping: shop/orders.yaml
        """)
    )
    (home / "mappings/shop/orders.yaml").write_text(
        textwrap.dedent("""\
        mapping: shop.orders
        version: 1
        entity: sales_order
        external_id: id
        updated_at: updated_at
        fields:
          order_number: {path: number, required: true}
          payment_status: {path: status, code: shopify_financial_status}
          grand_total: total
        """)
    )
    return home


def use_project(tmp_path: Path, monkeypatch: Any, incremental: bool = False) -> Path:
    """The tiny project under `tmp_path/proj`, made the current omshub project."""
    home = write_source(tmp_path / "proj", incremental=incremental)
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    return home


def drop(home: Path, name: str, orders: list[dict]) -> None:
    (home / "drop" / name).write_text(json.dumps({"orders": orders}))


def shop_order(
    id: int,
    number: str | None,
    status: str = "paid",
    total: str = "1",
    updated_at: str | None = None,
) -> dict:
    """One record of the tiny source's order feed."""
    rec: dict = {"id": id, "number": number, "status": status, "total": total}
    if updated_at:
        rec["updated_at"] = updated_at
    return rec
