"""The CLI contract: exit codes, `stats --json` shape, quarantine commands, mapping test."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omshub.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_run_stats_quarantine_on_one_source(sqlite_store: str) -> None:
    result = runner.invoke(app, ["run", "shopify"])
    assert result.exit_code == 0, result.output
    assert "sales_order" in result.output

    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert set(stats) == {"entities", "last_runs", "sources"}
    assert stats["entities"]["sales_order"]["shopify"] >= 1
    run = stats["last_runs"][0]
    assert {"source", "entity", "extracted", "loaded", "changed", "quarantined", "status"} <= set(
        run
    )

    listed = json.loads(runner.invoke(app, ["quarantine", "list", "--json"]).stdout)["entries"]
    assert listed and all(e["status"] == "open" for e in listed)
    shown = json.loads(runner.invoke(app, ["quarantine", "show", str(listed[0]["id"])]).stdout)
    assert shown["raw_record"]["financial_status"] == "disputed_hold"
    assert "unknown code" in shown["reasons"][0]["message"]
    assert runner.invoke(app, ["quarantine", "show", "99999"]).exit_code == 2


def test_unknown_source_is_a_clear_error(sqlite_store: str) -> None:
    result = runner.invoke(app, ["run", "nope"])
    assert result.exit_code == 2
    assert "unknown source 'nope'" in result.output


def test_mapping_test_golden_diff_exit_codes(tmp_path: Path) -> None:
    mapping = ROOT / "mappings/shopify/orders.yaml"
    sample = ROOT / "mappings/shopify/samples/orders.json"
    golden = ROOT / "mappings/shopify/golden/orders.json"
    ok = runner.invoke(
        app, ["mapping", "test", str(mapping), "--input", str(sample), "--golden", str(golden)]
    )
    assert ok.exit_code == 0, ok.output
    wrong = tmp_path / "golden.json"
    wrong.write_text(golden.read_text().replace('"1002"', '"9999"', 1))
    bad = runner.invoke(
        app, ["mapping", "test", str(mapping), "--input", str(sample), "--golden", str(wrong)]
    )
    assert bad.exit_code == 1
    assert "differs from golden" in bad.output


def test_mapping_check_all() -> None:
    result = runner.invoke(app, ["mapping", "check"])
    assert result.exit_code == 0, result.output


def test_state_set_and_show_and_a_hand_set_cursor_is_survivable(sqlite_store: str) -> None:
    assert runner.invoke(app, ["state", "set", "shopify", "orders", "not-a-time"]).exit_code == 0
    assert "not-a-time" in runner.invoke(app, ["state", "show"]).output
    assert runner.invoke(app, ["run", "shopify"]).exit_code == 0
    shown = runner.invoke(app, ["state", "show"]).output
    assert "2026-11-2" in shown and "not-a-time" not in shown
