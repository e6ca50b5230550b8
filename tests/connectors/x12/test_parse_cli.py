"""`omshub edi parse`: the tree, --json, and exit 0 only for a clean file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12text import group, interchange, po, render

from omshub.cli import app

runner = CliRunner()


def write(tmp_path: Path, segments: list[str], name: str = "po.x12") -> Path:
    path = tmp_path / name
    path.write_bytes(render(segments))
    return path


def test_clean_file_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, interchange(group(po("0001"), po("0002"))))
    result = runner.invoke(app, ["edi", "parse", str(path)])
    assert result.exit_code == 0, result.output
    assert "ST 850 0001  7 segments  (segments 3-9)" in result.stdout
    assert "GS 1  PO  SENDER -> RECEIVER  004010  2 set(s)" in result.stdout
    assert "error" not in result.output


def test_issues_exit_1_with_one_error_line(tmp_path: Path) -> None:
    path = write(tmp_path, interchange(group(po("0001", count=3)), iea="000000009"))
    result = runner.invoke(app, ["edi", "parse", str(path)])
    assert result.exit_code == 1
    assert "transaction 4 segment 9: SE01 says '3' segments" in result.stdout
    assert "interchange 001 segment 11" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "2 issues" in errors[0] and "Traceback" not in result.output


def test_json_is_one_object(tmp_path: Path) -> None:
    path = write(tmp_path, interchange(group(po("0001"), po("0001"))))
    result = runner.invoke(app, ["edi", "parse", str(path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["clean"] is False and data["issue_count"] == 1
    (ic,) = data["interchanges"]
    assert ic["control"] == "000000001" and ic["delimiters"]["segment"] == "~"
    sets = ic["groups"][0]["transactions"]
    assert [s["control"] for s in sets] == ["0001", "0001"]
    assert sets[1]["issues"][0]["code"] == "23" and sets[1]["issues"][0]["segment"] == 10


def test_unreadable_file_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "junk.x12"
    path.write_bytes(b"ISA*00*trunc")
    result = runner.invoke(app, ["edi", "parse", str(path)])
    assert result.exit_code == 1
    assert "error:" in result.stderr and "junk.x12: segment 1 (byte 0): " in result.stderr
    assert "Traceback" not in result.output


def test_data_is_never_markup(tmp_path: Path) -> None:
    segs = interchange(group(po("[bold]x[/bold]")))
    result = runner.invoke(app, ["edi", "parse", str(write(tmp_path, segs))])
    assert "ST 850 [bold]x[/bold]" in result.stdout
