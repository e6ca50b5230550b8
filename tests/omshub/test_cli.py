"""The CLI contract: exit codes, one-line errors, `stats --json`, batches and quarantine
commands, mapping test; through typer's runner and, for what a user's shell sees, the
installed `omshub` console script."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from projects import drop, shop_order, use_project
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from oms.locks import source_run_lock
from oms.models import LandedBatch, table
from omshub.cli import app

ROOT = Path(__file__).resolve().parents[2]
OMSHUB = Path(sys.executable).parent / "omshub"
runner = CliRunner()
lb = table(LandedBatch)


@pytest.fixture(autouse=True)
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OMSHUB_LOG_DIR", str(tmp_path / "logs"))
    return tmp_path / "logs" / "omshub.log"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str, logs: Path) -> Path:
    return use_project(tmp_path, monkeypatch, incremental=True)


def ids_by_file(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(lb.c.original_name, lb.c.batch_id)).all())


def cli_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_run_stats_quarantine_on_one_source(sqlite_store: str, logs: Path) -> None:
    result = runner.invoke(app, ["run", "shopify"])
    assert result.exit_code == 0, result.output
    assert "shopify: success" in result.stdout and "sales_order" in result.stdout

    stats = cli_json("stats")
    assert set(stats) == {"entities", "last_runs", "sources"}
    assert stats["entities"]["sales_order"]["shopify"] >= 1
    run = stats["last_runs"][0]
    assert {"source", "entity", "extracted", "loaded", "changed", "quarantined", "status"} <= set(
        run
    )
    shop = stats["sources"]["shopify"]
    assert shop["last_run"]["status"] == "success"
    assert shop["last_success"]["run_id"] == shop["last_run"]["run_id"]
    assert stats["sources"]["sap_erp"]["last_run"] is None  # configured, never ran

    listed = cli_json("quarantine", "list")["items"]
    assert listed and all(e["status"] == "open" for e in listed)
    shown = json.loads(runner.invoke(app, ["quarantine", "show", str(listed[0]["id"])]).stdout)
    assert shown["raw_record"]["financial_status"] == "disputed_hold"
    assert "unknown code" in shown["reasons"][0]["message"]
    missing = runner.invoke(app, ["quarantine", "show", "99999"])
    assert missing.exit_code == 2
    assert missing.stderr == "error: no quarantine entry 99999 (see `omshub quarantine list`)\n"


def test_read_commands_work_on_an_empty_store(sqlite_store: str, logs: Path) -> None:
    for args in (
        ["stats"],
        ["batches", "list"],
        ["quarantine", "list"],
        ["state", "show"],
        ["quarantine", "replay"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    assert "0 of 0" in runner.invoke(app, ["batches", "list"]).stdout
    assert cli_json("batches", "list") == {"total": 0, "limit": 50, "offset": 0, "items": []}


def test_unknown_source_is_a_clear_error(sqlite_store: str, logs: Path) -> None:
    result = runner.invoke(app, ["run", "nope"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown source 'nope' (known: ")
    assert "shopify" in result.stderr and len(result.stderr.splitlines()) == 1


def test_find_retry_and_discard_failed_batches(project: Path, engine: Engine) -> None:
    drop(project, "a.json", [shop_order(1, "A1")])
    drop(project, "b.json", [shop_order(2, "B2", status="weird"), shop_order(3, "B3", "odd")])
    (project / "drop" / "c.json").write_text('{"orders": [{"id": 4, "number": "C4"}, ')
    first = runner.invoke(app, ["run", "shop"])
    assert first.exit_code == 1, first.output
    assert "shop: partial" in first.stdout
    assert "c.json:1" in first.stderr  # the reason names the file and line
    ids = ids_by_file(engine)
    b, c = ids["b.json"], ids["c.json"]

    failed = cli_json("batches", "list", "--status", "failed")
    assert failed["total"] == 2 and {r["batch_id"] for r in failed["items"]} == {b, c}
    page = runner.invoke(app, ["batches", "list", "--limit", "1"])
    assert "batches (all): 1 of 3 (rows 1-1)" in page.stdout
    assert "next page: --offset 1" in page.stdout
    shown = cli_json("batches", "show", c)
    assert shown["status"] == "failed" and shown["attempts"] == 1
    assert "c.json:1" in shown["message"]
    assert [r["status"] for r in shown["runs"]] == ["failed"]
    human = runner.invoke(app, ["batches", "show", b])
    assert human.exit_code == 0 and "reject_threshold" in human.stdout

    # the code list learns the two statuses; c.json stays cut short
    codes = project / "config/codes/shopify_financial_status.yaml"
    codes.write_text(codes.read_text() + "  weird: paid\n  odd: paid\n")
    retried = runner.invoke(app, ["batches", "retry", b, c])
    assert retried.exit_code == 1, retried.output
    assert f"{b}: loaded" in retried.stdout
    assert f"{c}: failed: " in retried.stdout and "c.json:1" in retried.stdout
    assert cli_json("stats")["sources"]["shop"]["last_run"]["trigger"] == "retry"

    refused = runner.invoke(app, ["batches", "discard", b, "--reason", "oops"])
    assert refused.exit_code == 2
    assert refused.stderr.startswith(f"error: batch {b} is loaded: its rows are in the store")
    gone = runner.invoke(app, ["batches", "discard", c, "--reason", "re-sent as c2", "--by", "ann"])
    assert gone.exit_code == 0, gone.output
    assert f"{c}: discarded by ann at " in gone.stdout and "re-sent as c2" in gone.stdout
    kept = cli_json("batches", "show", c)
    assert (kept["status"], kept["discarded_by"], kept["discarded_reason"]) == (
        "discarded",
        "ann",
        "re-sent as c2",
    )
    assert "c.json:1" in kept["message"]  # the failure stays on the row
    again = runner.invoke(app, ["batches", "retry", c])
    assert again.exit_code == 2 and "--force" in again.stderr
    assert runner.invoke(app, ["batches", "retry", "shop.orders.nope"]).exit_code == 2

    # the next run finds nothing new: success, and nothing needs attention any more
    assert runner.invoke(app, ["run", "shop"]).exit_code == 0
    shop = cli_json("stats")["sources"]["shop"]
    assert shop["last_run"]["status"] == "success" and shop["last_run"]["trigger"] == "cli"
    assert shop["last_success"]["run_id"] == shop["last_run"]["run_id"]
    assert shop["attention"] == {"failed": 0, "dead": 0}


def test_quarantine_list_shows_true_totals_and_replay_exits_1_on_failure(
    project: Path, engine: Engine
) -> None:
    drop(
        project, "a.json", [shop_order(1, "A1", "weird"), shop_order(2, "A2"), shop_order(3, "A3")]
    )
    drop(project, "b.json", [shop_order(4, "B4", "odd"), shop_order(5, "B5"), shop_order(6, "B6")])
    assert runner.invoke(app, ["run", "shop"]).exit_code == 0
    page = runner.invoke(app, ["quarantine", "list", "--limit", "1"])
    assert "quarantine (open): 1 of 2 (rows 1-1)" in page.stdout
    assert "next page: --offset 1" in page.stdout
    listed = cli_json("quarantine", "list", "--limit", "1", "--offset", "1")
    assert (listed["total"], len(listed["items"])) == (2, 1)
    bogus = runner.invoke(app, ["quarantine", "list", "--status", "bogus"])
    assert bogus.exit_code == 2
    assert bogus.stderr == (
        "error: unknown status 'bogus' (one of: open, replayed, dismissed, all)\n"
    )
    assert "0 of 0" in runner.invoke(app, ["quarantine", "list", "--status", "dismissed"]).stdout

    # a landed file deleted behind omshub's back: the replay fails that batch and says so
    with engine.connect() as conn:
        uri = conn.execute(select(lb.c.uri).where(lb.c.original_name == "a.json")).scalar_one()
    Path(uri).unlink()
    replayed = runner.invoke(app, ["quarantine", "replay"])
    assert replayed.exit_code == 1, replayed.output
    assert "a.json" in replayed.stderr and "Traceback" not in replayed.output
    assert "replayed 2 batches; " in replayed.stdout


def test_a_busy_source_waits_with_a_message_or_exits_3(project: Path, engine: Engine) -> None:
    drop(project, "a.json", [shop_order(1, "A1")])
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with source_run_lock(engine, "shop"):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(30)
        busy = runner.invoke(app, ["run", "shop", "--no-wait"])
        assert busy.exit_code == 3, busy.output
        assert "another run of shop is in progress" in busy.stderr
        threading.Timer(1.0, release.set).start()
        waited = runner.invoke(app, ["run", "shop"])
    finally:
        release.set()
        holder.join()
    assert waited.exit_code == 0, waited.output
    assert "shop: another run of shop is in progress; waiting" in waited.stderr
    assert "shop: success" in waited.stdout


def test_a_broken_source_file_never_stops_the_others(project: Path) -> None:
    (project / "config/sources/broken.yaml").write_text("name: broken\nsystem: x\nkind: nope\n")
    drop(project, "a.json", [shop_order(1, "A1")])
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 1, result.output
    assert "broken: failed: " in result.stderr and "broken.yaml:3 kind" in result.stderr
    assert "shop: success" in result.stdout
    sources = runner.invoke(app, ["sources"])
    assert sources.exit_code == 2 and "broken.yaml:3" in sources.stderr
    human = runner.invoke(app, ["stats"])
    assert human.exit_code == 0 and "config error" in human.stdout
    assert cli_json("stats")["sources"]["broken"]["config_error"].endswith(
        "Input should be 'erp', 'wms', 'tms', 'pos', 'crm', 'channel', '3pl', 'edi' or 'carrier'"
    )


def test_an_internal_error_is_one_line_exit_70_and_its_traceback_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: Path
) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database, it is a text file" * 200)
    monkeypatch.setenv("OMSHUB_DATABASE_URL", f"sqlite:///{corrupt}")
    result = subprocess.run([str(OMSHUB), "stats"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 70
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: internal error: DatabaseError: (sqlite3.DatabaseError) file is not a database "
        f"(traceback in {logs}; run with --log-level debug to see it here)"
    )
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    logged = logs.read_text()
    assert "omshub stats: exit 70" in logged and "Traceback (most recent call last)" in logged

    debug = runner.invoke(app, ["--debug", "stats"])
    assert debug.exit_code == 70
    assert debug.stderr.startswith("error: internal error: DatabaseError")
    assert "Traceback" in debug.stderr and "file is not a database" in debug.stderr


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


def test_an_unreachable_source_exits_4_and_stats_shows_the_failed_extraction(
    project: Path,
) -> None:
    (project / "drop").rmdir()  # the mounted drop folder is gone
    result = runner.invoke(app, ["run", "shop"])
    assert result.exit_code == 4, result.output
    assert "shop: failed: " in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.output
    last = cli_json("stats")["sources"]["shop"]["last_run"]
    assert last["status"] == "failed" and "does not exist" in last["message"]
    assert (last["entities"], last["batches"]) == ({}, {})
    assert last["finished_at"] is not None


@pytest.mark.parametrize(
    ("codes", "worst"),
    [([0, 0], 0), ([0, 3], 3), ([3, 4], 4), ([4, 1, 3], 1), ([1, 70], 70), ([], 0)],
)
def test_several_sources_exit_with_the_most_serious_outcome(codes: list[int], worst: int) -> None:
    from omshub.cli.run_cmds import _worst

    assert _worst(codes) == worst


def test_listings_show_data_as_is_and_refuse_a_bogus_status(project: Path) -> None:
    name = "[b]x[i].json"  # rich markup in a file name is shown, not applied
    (project / "drop" / name).write_text('{"orders": [{"id": 1, "number": "X"}, ')
    assert runner.invoke(app, ["run", "shop"]).exit_code == 1
    listed = runner.invoke(app, ["batches", "list"])
    assert listed.exit_code == 0, listed.output
    assert name in listed.stdout
    bogus = runner.invoke(app, ["batches", "list", "--status", "broken"])
    assert bogus.exit_code == 2
    assert bogus.stderr == (
        "error: unknown status 'broken' (one of: landed, loaded, failed, dead, discarded, all)\n"
    )
    assert runner.invoke(app, ["batches", "list", "--limit", "0"]).exit_code == 2
    assert runner.invoke(app, ["batches", "discard", "x"]).exit_code == 2  # --reason missing
