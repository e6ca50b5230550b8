"""`omshub mapping check` on a copy of the shipped project with one mistake per file.

Each mistake the issue lists is reported once, with file, line and column; the other
files are still checked (every other mapping is ok); the exit code is 1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from omshub.cli import app

runner = CliRunner()


def edit(path: Path, old: str, new: str) -> tuple[int, str]:
    """Replace `old` (once) in `path`; the 1-based line of the first changed line, and it."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    at = text.index(new)
    line_no = text.count("\n", 0, at) + 1
    return line_no, text.splitlines()[line_no - 1]


def check(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["mapping", "check", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def problems(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["file"]: p for p in report["problems"] if p["severity"] == "error"}


def test_the_shipped_project_has_no_errors(shipped_project: Path) -> None:
    code, report = check()
    assert code == 0 and report["errors"] == 0, report["problems"]
    assert len(report["mappings"]) == len(list(shipped_project.glob("mappings/**/*.yaml")))


def test_each_mistake_is_reported_at_its_file_line_and_column(shipped_project: Path) -> None:
    home = shipped_project
    m = home / "mappings"
    dup_line, _ = edit(
        m / "shopify/customers.yaml", "  last_name:", "  first_name: x\n  last_name:"
    )
    zf_line, zf = edit(m / "shopify/orders.yaml", '{lstrip: "#"}', "{zfill: abc}")
    ty_line, ty = edit(
        m / "salesforce/contacts.yaml", "email: {path: Email", "email: {type: int, path: Email"
    )
    gold_line, _ = edit(m / "easypost/rates.yaml", "golden: golden/", "golden: golden/gone_")
    sched_line, _ = edit(home / "config/sources/shopify.yaml", '"@hourly"', '"@hourli"')
    conn_line, conn = edit(
        home / "config/sources/carrier_tms.yaml", "{type: local_folder", "{type: ftp"
    )
    code_line, _ = edit(home / "config/codes/carrier.yaml", "  UPS Ground:", "  Ups: x\n  Ups:")
    code_line += 1  # the second `Ups:` (six mappings use the list)

    code, report = check()
    got = problems(report)
    assert code == 1
    expected = {
        "mappings/shopify/customers.yaml": (dup_line, 3, "duplicate key 'first_name'"),
        "mappings/shopify/orders.yaml": (zf_line, zf.index("{zfill") + 1, "argument 'width'"),
        "mappings/salesforce/contacts.yaml": (ty_line, ty.index("type") + 1, "`type: int`"),
        "mappings/easypost/rates.yaml": (gold_line, 1, "golden/gone_rates.json' does not exist"),
        "config/sources/shopify.yaml": (sched_line, 1, "unknown schedule preset '@hourli'"),
        "config/sources/carrier_tms.yaml": (conn_line, conn.index("type") + 1, "'ftp'"),
        "config/codes/carrier.yaml": (code_line, 3, "duplicate key 'Ups'"),
    }
    for file, (line, column, text) in expected.items():
        p = got.get(file)
        assert p is not None, f"no problem reported for {file}: {report['problems']}"
        assert p["line"] == line and text in p["message"], p
        assert p["column"] == column, p
    # the broken code list is one problem, not one per mapping using it
    assert sum("carrier.yaml" in json.dumps(p) for p in report["problems"]) == 1
    assert set(got) == set(expected) and report["errors"] == len(expected)
    # every other mapping was still checked
    ok = {x["file"] for x in report["mappings"]}
    assert "mappings/shopify/products.yaml" in ok and "mappings/sap/orders.yaml" in ok


def test_text_output_is_file_line_column(shipped_project: Path) -> None:
    edit(shipped_project / "mappings/shopify/orders.yaml", '{lstrip: "#"}', "{zfill: abc}")
    result = runner.invoke(app, ["mapping", "check", "shopify/orders.yaml"])  # in mappings/
    assert result.exit_code == 1
    assert re.search(
        r"error mappings/shopify/orders\.yaml:\d+:\d+: order_number: transform 'zfill'",
        result.stderr,
    ), result.stderr


def test_a_partner_file_mistake_is_reported_at_its_line(shipped_project: Path) -> None:
    path = shipped_project / "config/partners/acme_retail.yaml"
    path.write_text(path.read_text() + "schedule: '@hourli'\n")
    line = len(path.read_text().splitlines())
    code, report = check()
    got = problems(report)["config/partners/acme_retail.yaml"]
    assert code == 1 and (got["line"], got["column"]) == (line, 1), got
    assert "schedule: unknown schedule preset '@hourli'" in got["message"]
