"""`omshub mapping test` on a throwaway project: discovery by convention, exit codes,
the keyed diff, `--update`, `--json`, `--all` past a broken mapping, no GX import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from projects import ROOT, use_project
from typer.testing import CliRunner

from omshub.cli import app

runner = CliRunner()
ORDERS = {
    "orders": [
        {"id": 1, "number": "A-1", "status": "paid", "total": "10.50", "updated_at": "2026-01-01T00:00:00Z"},
        {"id": 2, "number": "A-2", "status": "refunded", "total": "3", "updated_at": "2026-01-01T00:00:00Z"},
        {"id": 3, "number": "A-3", "status": "weird", "total": "1", "updated_at": "2026-01-01T00:00:00Z"},
    ]
}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny project, its sample in samples/orders.json (found by convention)."""
    home = use_project(tmp_path, monkeypatch)
    (home / "mappings/shop/samples").mkdir()
    (home / "mappings/shop/samples/orders.json").write_text(json.dumps(ORDERS))
    monkeypatch.chdir(home)
    return home


def cli(*args: str) -> Any:
    return runner.invoke(app, ["mapping", "test", *args])


def test_golden_is_found_written_and_compared_by_convention(home: Path) -> None:
    golden = home / "mappings/shop/golden/orders.json"
    missing = cli("shop/orders.yaml")
    assert missing.exit_code == 1 and "no golden file" in missing.output
    wrote = cli("shop/orders.yaml", "--update")
    assert wrote.exit_code == 0, wrote.output
    data = json.loads(golden.read_text())
    assert [r["order_number"] for r in data["entities"]["sales_order"]] == ["A-1", "A-2", "A-3"]
    assert "weird" in data["rejected"][0]["reasons"][0]["message"]
    assert cli("mappings/shop/orders.yaml").exit_code == 0


def test_a_comment_line_does_not_break_the_golden(home: Path) -> None:
    assert cli("shop/orders.yaml", "--update").exit_code == 0
    mapping = home / "mappings/shop/orders.yaml"
    mapping.write_text("# a comment\n# another\n" + mapping.read_text())
    result = cli("shop/orders.yaml")
    assert result.exit_code == 0, result.output


def test_the_diff_is_keyed_by_entity_and_external_id(home: Path) -> None:
    assert cli("shop/orders.yaml", "--update").exit_code == 0
    golden = home / "mappings/shop/golden/orders.json"
    data = json.loads(golden.read_text())
    data["entities"]["sales_order"].reverse()  # order alone is not a difference
    data["entities"]["sales_order"][0]["grand_total"] = "4"
    golden.write_text(json.dumps(data))
    result = cli("shop/orders.yaml", "--json")
    assert result.exit_code == 1
    [report] = json.loads(result.stdout)
    assert report["differences"] == [
        {"entity": "sales_order", "key": "3", "field": "grand_total", "golden": "4", "actual": "1"}
    ]
    shown = cli("shop/orders.yaml")
    assert "grand_total" in shown.output and "differs from golden" in shown.output


def test_usage_and_configuration_errors_exit_2(home: Path) -> None:
    assert cli("shop/nope.yaml").exit_code == 2
    assert cli().exit_code == 2
    assert cli("shop/orders.yaml", "--all").exit_code == 2
    (home / "mappings/shop/broken.yaml").write_text("mapping: x\nversion: 1\nfields: 3\n")
    result = cli("--all", "--update")
    assert result.exit_code == 2
    assert "broken.yaml" in result.output and "1 passed, 1 failed" in result.output
    assert (home / "mappings/shop/golden/orders.json").exists()  # the others still ran


def test_cases_fail_with_exit_1_and_name_the_problem(home: Path) -> None:
    mapping = home / "mappings/shop/orders.yaml"
    mapping.write_text(
        mapping.read_text()
        + "tests:\n"
        + "  - name: paid\n"
        + "    given: [{id: 9, number: B-9, status: paid, total: '2.50'}]\n"
        + "    expect: {sales_order: [{order_number: B-9, grand_total: 2.5}]}\n"
        + "  - name: wrong on purpose\n"
        + "    given: [{id: 9, number: B-9, status: paid, total: '2.50'}]\n"
        + "    expect: {sales_order: [{grand_total: 3}]}\n"
    )
    assert cli("shop/orders.yaml", "--update").exit_code == 1
    result = cli("shop/orders.yaml", "--json")
    [report] = json.loads(result.stdout)
    assert [c["ok"] for c in report["cases"]] == [True, False]
    assert report["cases"][1]["problems"] == [
        "sales_order row 0: grand_total expected 3, got '2.5'"
    ]


def test_mapping_test_never_imports_great_expectations() -> None:
    code = (
        "import sys\n"
        "from omshub.mappingtest.runner import run_mapping_test\n"
        "from omshub.mappings import all_mapping_files\n"
        "assert all(run_mapping_test(str(p)).ok for p in all_mapping_files())\n"
        "print('great_expectations' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
