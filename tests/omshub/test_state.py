"""`omshub state show|set|reset` and `omshub backfill` on a real store (SQLite, PostgreSQL).

Two transports registered in-process, like an embedding application's: `windowed` serves
orders updated after its cursor or inside a backfill window (its watermark is the mapped
`updated_at`), `cursored` does the same with its own cursor (`cursor_key`, `parse_cursor`),
and `nowindow` cannot re-read a window. A folder source stands beside them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from projects import drop, shop_order, use_project
from sqlalchemy import Engine, insert, select
from typer.testing import CliRunner
from windowed import Cursored, NoWindow, Windowed, t

import oms.db
from connectors.registry import register_transport
from oms.locks import source_run_lock
from oms.models import SyncRun, Watermark, table
from omshub.cli import app

runner = CliRunner()
OMSHUB = Path(sys.executable).parent / "omshub"
_wm, _sr = table(Watermark), table(SyncRun)
STREAMS = ("orders", "archive")  # of source shop
OLD = "[b]gone"  # a stream no longer configured (a name that looks like markup)


SOURCE = "name: {0}\nsystem: {0}\nkind: channel\nconnector: {{type: {1}}}\nretries: 0\nstreams:\n"
STREAM = "  - {name: %s, format: {type: json, records_path: orders}, mapping: shop/orders.yaml}\n"


@pytest.fixture(autouse=True)
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMSHUB_LOG_DIR", str(tmp_path / "logs"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> Path:
    """Sources `shop` (windowed: orders, archive), `ledger` (cursored), `nowin`, `folder`."""
    for cls in (Windowed, Cursored, NoWindow):
        register_transport(cls)
    home = use_project(tmp_path, monkeypatch, incremental=True)
    sources = home / "config/sources"
    (sources / "shop.yaml").rename(sources / "folder.yaml")
    folder = (sources / "folder.yaml").read_text().replace("name: shop", "name: folder")
    (sources / "folder.yaml").write_text(folder)
    for name, kind, streams in (
        ("shop", "windowed", STREAMS),
        ("ledger", "cursored", ("orders",)),
        ("nowin", "nowindow", ("orders",)),
    ):
        text = SOURCE.format(name, kind) + "".join(STREAM % st for st in streams)
        (sources / f"{name}.yaml").write_text(text)
    monkeypatch.setattr(
        Windowed, "orders", [shop_order(i, f"N{i}", updated_at=t(i)) for i in (1, 2, 3, 9)]
    )
    monkeypatch.setattr(Windowed, "requests", [])
    return home


def cli(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (args, result.output)
    return result


def fails(*args: str, start: str, code: int = 2) -> str:
    """Run a command that must fail: one `error:` line, the last on stderr, starting so."""
    lines = cli(*args, code=code).stderr.splitlines()
    assert [x for x in lines if x.startswith("error:")] == lines[-1:], lines
    assert lines[-1].startswith(start), lines
    return str(lines[-1])


def z(time: str) -> str:
    """A time as the CLI shows it (ISO 8601 UTC with `Z`); the store keeps `+00:00`."""
    return time.replace("+00:00", "Z")


def shown(*args: str) -> dict[tuple[str, str], dict[str, Any]]:
    data = json.loads(cli("state", "show", *args, "--json").stdout)
    return {(r["source"], r["stream"]): r for r in data["items"]}


def marks(engine: Engine) -> dict[tuple[str, str], tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(_wm.c.source, _wm.c.stream, _wm.c.cursor_value, _wm.c.run_id))
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_show_lists_every_configured_stream_with_its_watermark(
    project: Path, engine: Engine
) -> None:
    before = shown()
    assert set(before) == {
        *[(s, "orders") for s in ("folder", "ledger", "nowin", "shop")],
        ("shop", "archive"),
    }
    assert all(r["watermark"] is None and r["set_by"] is None for r in before.values())
    assert before["ledger", "orders"]["cursor"] == "transport"
    assert before["shop", "orders"]["cursor"] == "updated_at"
    assert before["folder", "orders"]["cursor"] == "updated_at"

    run = cli("run", "shop", "ledger")
    assert "shop: success" in run.stdout and "ledger: success" in run.stdout
    with engine.begin() as conn:  # a stream no longer in the config
        conn.execute(
            insert(_wm).values(source="shop", stream=OLD, cursor_value="[red]x", run_id="r")
        )
    after = shown()
    shop = after["shop", "orders"]
    assert shop["watermark"] == z(t(9)) and shop["set_by"].startswith("cli__")
    assert dt.datetime.fromisoformat(shop["set_at"]).tzinfo is not None
    assert after["ledger", "orders"]["watermark"] == "000009"
    assert after["shop", "archive"]["watermark"] == z(t(9))
    gone = {
        "watermark": "[red]x",
        "set_by": "r",
        "set_at": None,
        "cursor": "-",
        "configured": False,
    }
    assert after["shop", OLD] == {"source": "shop", "stream": OLD, **gone}
    assert set(shown("shop")) == {("shop", "orders"), ("shop", "archive"), ("shop", OLD)}
    assert set(shown("shop", "--stream", "archive")) == {("shop", "archive")}
    table = cli("state", "show").stdout
    assert "none" in table and "not configured" in table and t(9)[:19] in table
    assert f"{OLD}   [red]x" in table  # data, never markup


def test_show_errors_are_one_line_with_exit_2(project: Path) -> None:
    (project / "config/sources/bad.yaml").write_text("name: bad\nsystem: x\nkind: nope\n")
    show = ("state", "show")
    fails(*show, "nope", start="error: unknown source 'nope' (known: folder, ledger, nowin, shop)")
    no_x = "error: source 'shop' has no stream 'x' (its streams: orders, archive)"
    fails(*show, "shop", "--stream", "x", start=no_x)
    fails(*show, "--stream", "orders", start="error: --stream needs a SOURCE")
    assert "bad.yaml:3 kind" in fails(*show, "bad", start="error: ")
    assert "bad.yaml:3 kind" in fails("state", "set", "bad", "o", "2026-11-20", start="error: ")
    backfill = ("backfill", "bad", "--from", "2026-11-20", "--to", "2026-11-21")
    assert "bad.yaml:3 kind" in fails(*backfill, start="error: ")
    every = json.loads(cli("state", "show", "--json").stdout)  # the others still show
    bad = {i["name"]: i["message"] for i in every["invalid"]}
    assert "bad.yaml:3 kind" in bad["bad"] and len(every["items"]) == 5


def test_show_never_migrates_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oms.db import get_engine, upgrade

    db = tmp_path / "new" / "store.db"
    db.parent.mkdir()
    monkeypatch.setenv("OMSHUB_DATABASE_URL", f"sqlite:///{db}")
    missing = cli("state", "show", code=5)
    assert missing.stderr == f"error: no store at {db}: run `omshub db upgrade` to create it\n"
    assert not db.exists()
    upgrade(f"sqlite:///{db}", revision="0004")
    old = cli("state", "show", code=5)
    head = sorted(
        p.name[:4] for p in Path(oms.db.__file__).parent.glob("migrations/versions/0*.py")
    )[-1]
    assert f"is at schema revision 0004, not {head}: run `omshub db upgrade` first" in old.stderr
    with get_engine(f"sqlite:///{db}").connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0004"


def test_an_unreadable_watermark_is_replaced_by_the_next_run(project: Path, engine: Engine) -> None:
    with engine.begin() as conn:  # written before `state set` validated, or by another tool
        conn.execute(
            insert(_wm).values(source="folder", stream="orders", cursor_value="not-a-time")
        )
    assert "not-a-time" in cli("state", "show", "folder").stdout
    drop(project, "a.json", [shop_order(1, "A1", updated_at=t(5))])
    cli("run", "folder")
    assert marks(engine)["folder", "orders"][0] == t(5)


def test_set_validates_and_normalises_the_value(project: Path, engine: Engine) -> None:
    day = cli("state", "set", "shop", "orders", "2026-11-20", "--yes")
    assert "taken as 2026-11-20T00:00:00Z (midnight UTC)" in day.stderr
    assert "shop/orders: none -> 2026-11-20T00:00:00Z (new)" in day.stderr
    assert marks(engine)["shop", "orders"] == ("2026-11-20T00:00:00+00:00", "manual")
    naive = cli("state", "set", "shop", "orders", "2026-11-19T08:30", "--yes")
    assert "has no UTC offset: taken as UTC" in naive.stderr and "(backwards)" in naive.stderr
    cli("state", "set", "shop", "orders", "2026-11-20T12:00:00+02:00", "-y")
    assert marks(engine)["shop", "orders"][0] == "2026-11-20T10:00:00+00:00"
    assert shown("shop")["shop", "orders"]["set_by"] == "manual"

    set_ = ("state", "set", "--yes")
    fails(*set_, "shop", "orders", "yesterday", start="error: watermark 'yesterday' is not an ISO")
    fails(*set_, "shop", "orders", "2026-13-01", start="error: watermark '2026-13-01' is not an")
    fails(*set_, "nope", "orders", "2026-11-20", start="error: unknown source 'nope'")
    fails(*set_, "shop", "nope", "2026-11-20", start="error: source 'shop' has no stream 'nope'")
    not_id = "error: ledger/orders: 'abc' is not a cursored cursor: an order id (digits only)"
    fails(*set_, "ledger", "orders", "abc", start=not_id)
    assert marks(engine)["shop", "orders"][0] == "2026-11-20T10:00:00+00:00"

    cli("state", "set", "ledger", "orders", "42", "--yes")  # the transport's own parser
    assert marks(engine)["ledger", "orders"] == ("000042", "manual")
    assert (
        "000042 -> 000007 (backwards)" in cli("state", "set", "ledger", "orders", "7", "-y").stderr
    )


def test_changes_without_yes_and_without_a_terminal_are_refused(
    project: Path, engine: Engine
) -> None:
    cli("state", "set", "shop", "orders", "2026-11-20", "--yes")
    no_tty = "without --yes: there is no terminal to ask (give --yes to confirm)"
    moved = fails("state", "set", "shop", "orders", "2026-11-01", start="error: refusing to move")
    assert moved == f"error: refusing to move shop/orders {no_tty}"
    gone = fails("state", "reset", "shop", start="error: refusing to reset")
    assert gone == f"error: refusing to reset shop {no_tty}"
    assert marks(engine)["shop", "orders"][0] == "2026-11-20T00:00:00+00:00"


def test_reset_deletes_and_the_next_run_reads_from_the_start(project: Path, engine: Engine) -> None:
    cli("run", "shop")
    assert {k for k in marks(engine) if k[0] == "shop"} == {("shop", "orders"), ("shop", "archive")}
    one = cli("state", "reset", "shop", "--stream", "archive", "--yes")
    assert f"shop/archive watermark reset (was {z(t(9))})" in one.stdout
    assert ("shop", "archive") not in marks(engine) and ("shop", "orders") in marks(engine)
    assert (
        f"shop/orders watermark reset (was {z(t(9))})" in cli("state", "reset", "shop", "-y").stdout
    )
    assert "shop: no watermark to reset" in cli("state", "reset", "shop", "--yes").stdout
    cli("state", "reset", "nope", "--yes", code=2)
    cli("state", "reset", "shop", "--stream", "nope", "--yes", code=2)
    Windowed.requests.clear()
    Windowed.orders = [{**o, "total": "5"} for o in Windowed.orders]  # not the same bytes
    cli("run", "shop")
    assert [r.cursor for r in Windowed.requests] == [None, None]  # from the beginning
    assert marks(engine)["shop", "orders"][0] == t(9)


def test_reset_asks_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str
) -> None:
    """The installed command with its stdin on a pseudo-terminal: "n" keeps, "y" deletes."""
    from oms.db import get_engine

    home = use_project(tmp_path, monkeypatch)
    engine = get_engine(sqlite_store)
    with engine.begin() as conn:
        conn.execute(
            insert(_wm).values(source="shop", stream="orders", cursor_value=t(1), run_id="r")
        )
    env = {**os.environ, "OMSHUB_HOME": str(home), "OMSHUB_DATABASE_URL": sqlite_store}
    for answer, code in (("n", 1), ("y", 0)):
        master, slave = os.openpty()
        with os.fdopen(master, "wb", buffering=0) as keys:
            keys.write(f"{answer}\n".encode())
            done = subprocess.run(
                [str(OMSHUB), "state", "reset", "shop"],
                stdin=slave,
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
        os.close(slave)
        assert done.returncode == code, done.stderr
        assert "delete 1 watermark(s) of shop?" in done.stderr
        assert (("shop", "orders") in marks(engine)) == (answer == "n")


def test_backfill_loads_a_window_and_never_moves_a_watermark_back(
    project: Path, engine: Engine
) -> None:
    cli("run", "shop", "ledger")
    cli("state", "set", "ledger", "orders", "99", "--yes")
    before = marks(engine)
    Windowed.orders = [{**o, "total": "7"} for o in Windowed.orders]  # re-sent with new totals
    Windowed.requests.clear()
    result = cli("backfill", "shop", "--from", "2026-11-20T10:01:00Z", "--to", "2026-11-20T10:03")
    assert "--to '2026-11-20T10:03' has no UTC offset: taken as UTC" in result.stderr
    assert "shop: success" in result.stdout and "2 loaded" in result.stdout
    window = (dt.datetime.fromisoformat(t(1)), dt.datetime.fromisoformat(t(3)))
    assert [(r.stream, r.window) for r in Windowed.requests] == [(s, window) for s in STREAMS]
    assert marks(engine) == before  # orders 1 and 2 (10:01, 10:02) are older than 10:09

    data = json.loads(
        cli("backfill", "ledger", "--from", "2026-11-20", "--to", "2026-11-21", "--json").stdout
    )
    assert data["window"] == {
        "from": "2026-11-20T00:00:00Z",
        "to": "2026-11-21T00:00:00Z",
    }
    assert data["status"] == "success" and data["ok"] is True and data["streams"] is None
    assert data["summary"]["batches"] == {"loaded": 1} and data["errors"] == []
    assert dt.datetime.fromisoformat(data["summary"]["finished_at"]).tzinfo is not None
    assert marks(engine)["ledger", "orders"] == ("000099", "manual")  # cursor 000009 < 000099
    with engine.connect() as conn:
        run = conn.execute(
            select(_sr.c.trigger, _sr.c.status).where(_sr.c.run_id == data["run_id"])
        ).one()
    assert tuple(run) == ("backfill", "success")

    Windowed.requests.clear()
    cli("backfill", "shop", "--stream", "archive", "--from", "2026-11-20", "--to", "2026-11-21")
    assert [r.stream for r in Windowed.requests] == ["archive"]


def test_backfill_errors(project: Path, engine: Engine) -> None:
    day = ("--from", "2026-11-20", "--to", "2026-11-21")
    late = "error: --from 2026-11-21T00:00:00Z is not before --to 2026-11-20T00:00:00Z"
    fails("backfill", "shop", "--from", "2026-11-21", "--to", "2026-11-20", start=late)
    empty = "error: --from 2026-11-20T00:00:00Z is not before"
    fails("backfill", "shop", "--from", "2026-11-20", "--to", "2026-11-20", start=empty)
    soon = "error: --from 'soon' is not an ISO 8601 time"
    fails("backfill", "shop", "--from", "soon", "--to", "2026-11-20", start=soon)
    fails("backfill", "nope", *day, start="error: unknown source 'nope'")
    fails("backfill", "shop", "--stream", "x", *day, start="error: source 'shop' has no stream 'x'")
    refused = "error: stream 'orders': cannot re-read a time window"
    fails("backfill", "nowin", *day, start=refused)
    with engine.connect() as conn:  # only the transport's refusal started a run, ended failed
        runs = conn.execute(select(_sr.c.source, _sr.c.trigger, _sr.c.status)).all()
    assert [tuple(r) for r in runs] == [("nowin", "backfill", "failed")]


def test_backfill_and_set_exit_3_when_the_source_is_busy(project: Path, engine: Engine) -> None:
    with source_run_lock(engine, "shop"):  # not reentrant: this process's next try is refused
        busy = cli(
            "backfill", "shop", "--from", "2026-11-20", "--to", "2026-11-21", "--no-wait", code=3
        )
        assert "another run of shop is in progress" in busy.stderr
        refused = cli("state", "set", "shop", "orders", "2026-11-20", "--yes", code=3)
        assert "another run of shop is in progress" in refused.stderr
    assert marks(engine) == {}


def test_backfill_of_a_claimed_folder_is_a_clear_error(project: Path) -> None:
    src = project / "config/sources/folder.yaml"
    src.write_text(src.read_text().replace("path: drop}", "path: drop, claim: true}"))
    claimed = "error: stream 'orders': a claimed folder cannot re-read a time window"
    fails("backfill", "folder", "--from", "2026-11-20", "--to", "2026-11-21", start=claimed)


def test_backfill_of_a_folder_is_a_clear_error(project: Path) -> None:
    (project / "drop/a.json").write_text(json.dumps({"orders": [shop_order(1, "A1")]}))
    error = fails("backfill", "folder", "--from", "2026-11-20", "--to", "2026-11-21", start="error")
    assert error.startswith("error: stream 'orders': ") and "window" in error
