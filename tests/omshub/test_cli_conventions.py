"""The CLI conventions every command follows (docs/cli.md), driven through the real CLI
against a real store: arguments checked against the configuration and the store, exit
codes, read commands that never migrate, one `--json` listing shape, ISO 8601 UTC times,
`--version`, `--log-level` and `--log-format json`, no traceback without debug."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from projects import drop, shop_order, use_project
from typer.testing import CliRunner

from omshub.cli import app

runner = CliRunner()
#: every time a user reads: ISO 8601, UTC, `Z`
ZULU = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture(autouse=True)
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMSHUB_LOG_DIR", str(tmp_path / "logs"))
    return tmp_path / "logs" / "omshub.log"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> Path:
    """A project with one source `shop` that has run once: one loaded batch, one failed."""
    home = use_project(tmp_path, monkeypatch)
    drop(home, "a.json", [shop_order(1, "A1"), shop_order(2, "A2", status="weird")])
    (home / "drop" / "b.json").write_text('{"orders": [{"id": 4, ')
    assert runner.invoke(app, ["run", "shop"]).exit_code == 1
    return home


def one_error(args: list[str], code: int, start: str) -> str:
    """Run `args`: it must end with `code` and exactly one `error: ...` line on stderr."""
    result = runner.invoke(app, args)
    assert result.exit_code == code, (args, result.output)
    assert result.stderr.startswith(f"error: {start}"), (args, result.stderr)
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output, args
    return result.stderr


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"omshub {version('omshub')}\n"


def test_unknown_names_are_one_line_and_exit_2(project: Path) -> None:
    cases: list[tuple[list[str], str]] = [
        (["replay", "--source", "shoq"], "unknown source 'shoq' (known: shop)"),
        (["quarantine", "list", "--status", "bogus"], "unknown status 'bogus'"),
        (["state", "set", "shoq", "orders", "2026-11-20", "--yes"], "unknown source 'shoq'"),
        (["state", "set", "shop", "orders", "yesterday", "--yes"], "watermark 'yesterday' is not"),
        (["state", "set", "shop", "ordres", "2026-11-20", "--yes"], "source 'shop' has no stream"),
        (["batches", "list", "--source", "shoq"], "unknown source 'shoq'"),
        (["batches", "list", "--status", "lost"], "unknown status 'lost'"),
        (["batches", "show", "shop.orders.nope"], "no batch 'shop.orders.nope'"),
        (["quarantine", "list", "--source", "shoq"], "unknown source 'shoq'"),
        (["quarantine", "list", "--batch", "nope"], "no batch 'nope'"),
        (["quarantine", "replay", "999"], "no quarantine entry 999"),
        (["quarantine", "replay", "--source", "shoq"], "unknown source 'shoq'"),
        (["state", "show", "shop", "--stream", "ordres"], "source 'shop' has no stream 'ordres'"),
        (["edi", "interchanges", "--partner", "acme"], "unknown partner 'acme'"),
        (["edi", "chain", "PO-1", "--partner", "acme"], "unknown partner 'acme'"),
        (["db", "upgrade", "--revision", "9999"], "cannot upgrade to revision '9999'"),
    ]
    for args, start in cases:
        one_error(args, 2, start)


def test_a_source_only_in_the_stores_history_can_still_be_listed(project: Path) -> None:
    from omshub.config import _load_sources

    (project / "config/sources/shop.yaml").unlink()  # the source left the configuration
    _load_sources.cache_clear()  # a new `omshub` process reads the folder afresh
    listed = runner.invoke(app, ["batches", "list", "--source", "shop", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["total"] == 2
    gone = runner.invoke(app, ["quarantine", "list", "--source", "shop", "--json"])
    assert gone.exit_code == 0 and json.loads(gone.stdout)["total"] == 1
    one_error(["replay", "--source", "shop"], 2, "unknown source 'shop'")  # needs its config


def test_quarantine_replay_of_a_done_entry_is_refused(project: Path) -> None:
    entry = json.loads(runner.invoke(app, ["quarantine", "list", "--json"]).stdout)["items"][0]
    codes = project / "config/codes/shopify_financial_status.yaml"
    codes.write_text(codes.read_text() + "  weird: paid\n")
    assert runner.invoke(app, ["quarantine", "replay", str(entry["id"])]).exit_code == 0
    one_error(["quarantine", "replay", str(entry["id"])], 2, f"quarantine entry {entry['id']} is")


READS = [
    ["stats"],
    ["batches", "list"],
    ["batches", "show", "x"],
    ["quarantine", "list"],
    ["quarantine", "show", "1"],
    ["state", "show"],
    ["edi", "interchanges"],
    ["edi", "overdue"],
    ["edi", "chain", "PO-1"],
    ["edi", "gaps", "acme_retail"],
]


def test_read_commands_never_migrate_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.db import get_engine, upgrade

    db = tmp_path / "store.db"
    monkeypatch.setenv("OMSHUB_DATABASE_URL", f"sqlite:///{db}")
    for args in READS:
        one_error(args, 5, f"no store at {db}: run `omshub db upgrade` to create it")
    assert not db.exists()
    upgrade(f"sqlite:///{db}", revision="0004")
    for args in READS:
        assert "run `omshub db upgrade` first" in one_error(args, 5, "the store at ")
    with get_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0004"
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["stats"]).exit_code == 0


def times(data: object) -> list[str]:
    """Every value under a key that names a time (`*_at`, `now`, `from`, `to`)."""
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, str) and (k.endswith("_at") or k in ("now", "from", "to")):
                found.append(v)
            else:
                found += times(v)
    elif isinstance(data, list):
        for v in data:
            found += times(v)
    return found


LISTINGS = [
    ["sources"],
    ["batches", "list"],
    ["quarantine", "list"],
    ["state", "show"],
    ["edi", "partners"],
    ["edi", "interchanges"],
    ["edi", "overdue"],
]


def test_every_listing_has_one_json_shape_and_utc_z_times(project: Path) -> None:
    every: list[str] = []
    for args in LISTINGS:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, (args, result.output)
        data = json.loads(result.stdout)
        assert isinstance(data["items"], list), args
        assert all(re.fullmatch(r"[a-z0-9_]+", k) for k in data), (args, list(data))
        every += times(data)
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    every += times(stats)
    assert len(every) > 5 and all(ZULU.match(t) for t in every), every
    batches = runner.invoke(app, ["batches", "list"]).stdout
    shown = re.findall(r"\d{4}-\d\d-\d\d[T ][\d:]+\S*", batches)
    assert shown and all(ZULU.match(t) for t in shown), shown


def test_log_level_and_json_log_format(project: Path) -> None:
    drop(project, "c.json", [shop_order(5, "C5")])
    quiet = runner.invoke(app, ["--log-level", "error", "run", "shop"])
    assert quiet.exit_code == 1, quiet.output  # b.json is still cut short
    assert "c.json" not in quiet.stderr and "INFO" not in quiet.stderr  # no progress lines
    assert "ERROR" in quiet.stderr and "b.json" in quiet.stderr
    drop(project, "d.json", [shop_order(6, "D6")])
    loud = runner.invoke(app, ["--log-level", "info", "--log-format", "json", "run", "shop"])
    assert loud.exit_code == 1, loud.output
    records = [json.loads(line) for line in loud.stderr.splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert all(ZULU.match(r["time"]) for r in records)
    assert any(r["level"] == "INFO" and "d.json" in r["message"] for r in records)
    failed = runner.invoke(app, ["--log-format", "json", "batches", "list", "--source", "x"])
    assert failed.exit_code == 2
    (line,) = failed.stderr.splitlines()
    error = json.loads(line)
    assert (error["level"], error["exit_code"]) == ("ERROR", 2)
    assert error["message"].startswith("unknown source 'x'")
    bad = runner.invoke(app, ["--log-level", "loud", "stats"])
    assert bad.exit_code == 2


def test_an_unexpected_error_shows_its_traceback_only_at_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: Path
) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"not a database" * 500)
    monkeypatch.setenv("OMSHUB_DATABASE_URL", f"sqlite:///{corrupt}")
    plain = one_error(["stats"], 70, "internal error: DatabaseError:")
    assert "run with --log-level debug" in plain
    debug = runner.invoke(app, ["--log-level", "debug", "stats"])
    assert debug.exit_code == 70
    assert debug.stderr.startswith("error: internal error:") and "Traceback" in debug.stderr
    assert "Traceback (most recent call last)" in logs.read_text()
