"""`omshub batches list|show|retry|discard`: find, retry or park the batches that failed."""

from __future__ import annotations

import getpass
import os
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from omshub.cli import checks
from omshub.cli.base import (
    EXIT_FAILED,
    app,
    at,
    cell,
    dump_json,
    engine,
    out,
    page,
    progress,
    store,
    sub_app,
)
from omshub.cli.output import listing

batches_app = sub_app("Landed batches: find, retry or discard the ones that failed.")
app.add_typer(batches_app, name="batches")


@batches_app.command("list")
def b_list(
    status: Annotated[
        str | None, typer.Option(help="landed|loaded|failed|dead|discarded|all")
    ] = None,
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows per page")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Batches, newest first, with the true total of what matches."""
    from omshub.batches import check_status, list_batches

    check_status(status)
    eng = store()
    checks.source(source, eng)
    rows, total = list_batches(eng, source, status, limit, offset)
    if as_json:
        dump_json(listing(rows, total=total, limit=limit, offset=offset))
        return
    table = Table(title=f"batches ({status or 'all'}): {page(len(rows), total, offset)}")
    for c in ("batch", "status", "tries", "landed", "file", "message"):
        table.add_column(c, overflow="fold")
    for r in rows:
        style = "red" if r["status"] in ("failed", "dead") else None
        table.add_row(
            *map(cell, (r["batch_id"], r["status"], r["attempts"], at(r["landed_at"]))),
            cell(r["original_name"]),
            cell((r["message"] or "")[:160]),
            style=style,
        )
    out.print(table)
    if offset + len(rows) < total:
        out.print(f"next page: --offset {offset + len(rows)}", highlight=False)


def _show(batch: dict[str, Any]) -> None:
    keys = ["batch_id", "source", "stream", "status", "attempts", "error_kind", "original_name"]
    keys += ["record_count", "landed_at", "failed_at", "loaded_at", "last_run_id", "uri"]
    if batch["discarded_at"]:
        keys += ["discarded_by", "discarded_at", "discarded_reason"]
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="cyan")
    table.add_column(overflow="fold")
    for k in keys:
        table.add_row(k, cell(batch[k]))
    table.add_row("open quarantine", str(batch["open_quarantine"]))
    out.print(table)
    if batch["message"]:
        out.print(f"message: {escape(batch['message'])}", soft_wrap=True, highlight=False)
    runs = Table(title="runs that processed it")
    cols = ("extracted", "loaded", "changed", "stale", "quarantined", "failed")
    for c in ("run", "entity", *cols, "status"):
        runs.add_column(c, overflow="fold")
    for r in batch["runs"]:
        runs.add_row(*map(cell, (r["run_id"], r["entity"], *[r[c] for c in cols], r["status"])))
    out.print(runs)


@batches_app.command("show")
def b_show(
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One batch: its state, why it failed, who discarded it, what every run made of it."""
    from omshub.batches import get_batch

    batch = get_batch(store(), batch_id)
    if as_json:
        dump_json(batch)
    else:
        _show(batch)


@batches_app.command("retry")
def b_retry(
    batch_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    force: Annotated[bool, typer.Option(help="also put back a discarded batch")] = False,
) -> None:
    """Reset failed or dead batches (attempts 0) and process them now (exit 1 if any fails)."""
    from omshub.batches import check_retry, get_batch, reset_for_retry
    from omshub.cli.run_cmds import print_report
    from omshub.pipeline import replay

    eng = engine()
    ids = list(dict.fromkeys(batch_ids))
    check_retry(eng, ids, force)  # all or nothing: refuse before resetting any
    for bid in ids:
        reset_for_retry(eng, bid, force)
    progress()
    reports = replay(batch_ids=ids, engine=eng, trigger="retry")
    for rep in reports:
        print_report(rep)
    for bid in ids:
        b = get_batch(eng, bid)
        why = f": {b['message']}" if b["status"] != "loaded" and b["message"] else ""
        out.print(f"{bid}: {b['status']}{escape(why)}", highlight=False, soft_wrap=True)
    if any(not r.ok for r in reports):
        raise typer.Exit(EXIT_FAILED)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (containers)
        return os.environ.get("USER") or f"uid {os.getuid()}"


@batches_app.command("discard")
def b_discard(
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="why it is parked for good (kept on the batch)")],
    by: Annotated[str | None, typer.Option(help="who decided (default: the OS user)")] = None,
) -> None:
    """Park a batch for good: kept with who, why and when; never loaded, never deleted."""
    from omshub.batches import discard_batch

    b = discard_batch(engine(), batch_id, reason, by or _user())
    out.print(
        f"{batch_id}: discarded by {escape(b['discarded_by'])} at {at(b['discarded_at'])}: "
        f"{escape(b['discarded_reason'])}; {b['dismissed']} open quarantine entries dismissed",
        highlight=False,
        soft_wrap=True,
    )
