"""`omshub state show|set|reset` and `omshub backfill`: watermarks you can see and steer.

The logic (validation, the store) is `omshub.state`; this module prints. A command that
changes a watermark asks first: `--yes` confirms, a terminal is asked, and without
either (CI, cron: no stdin) it refuses, so a pipeline never moves one by accident.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from omshub.cli.base import (
    EXIT_FAILED,
    app,
    at,
    cell,
    dump_json,
    engine,
    err,
    fail,
    out,
    progress,
    store,
    sub_app,
)
from omshub.cli.output import invalid, iso, listing

if TYPE_CHECKING:
    from omshub.pipeline import RunReport
    from omshub.state import Backfill, Change

state_app = sub_app("Watermarks (where each stream's next run starts reading): show, set, reset.")
app.add_typer(state_app, name="state")

Yes = Annotated[bool, typer.Option("--yes", "-y", help="do it without asking")]
Json = Annotated[bool, typer.Option("--json", help="machine-readable")]


@state_app.command("show")
def state_show(
    source: Annotated[str | None, typer.Argument(help="one source; none = all")] = None,
    stream: Annotated[str | None, typer.Option("--stream", help="one stream of SOURCE")] = None,
    as_json: Json = False,
) -> None:
    """Every configured stream's watermark, who set it, when, and its kind of cursor.

    "none": never loaded, or reset. "set by" is a run id or "manual". A store that is not
    at the current schema is refused (run `omshub db upgrade`): a read never migrates.
    """
    from omshub import state

    rows, broken = state.show(store(), source, stream)
    if as_json:
        dump_json(listing([r.as_json() for r in rows], invalid=invalid(broken)))
        return
    view = Table(title="watermarks", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col in ("source", "stream", "watermark", "set by", "set at", "cursor"):
        view.add_column(col, overflow="fold")  # a watermark is never cut short
    for r in rows:
        kind = r.cursor if r.configured else "not configured"
        mark = cell(iso(r.watermark)) if r.watermark is not None else cell("none")
        view.add_row(cell(r.source), cell(r.stream), mark, cell(r.set_by), at(r.set_at), kind)
    out.print(view)
    for name, why in broken.items():
        err.print(f"[yellow]bad[/] {escape(name)}: {escape(why)}", soft_wrap=True, highlight=False)


def _notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        err.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True, highlight=False)


def confirm(question: str, yes: bool, refused: str) -> None:
    """Go on with `--yes`; else ask on a terminal; with no terminal, refuse (exit 2)."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"{refused} without --yes: there is no terminal to ask (give --yes to confirm)")
    if not typer.confirm(question, default=False, err=True):
        err.print("nothing changed")
        raise typer.Exit(EXIT_FAILED)


def say(line: str) -> None:
    """A result line on stdout: names and values are data, never markup."""
    out.print(escape(line), soft_wrap=True, highlight=False)


def _mark(value: str | None) -> str:
    """A watermark as users read times (`...Z`), or `none`."""
    return iso(value) or "none"


def _arrow(change: Change) -> str:
    how = f" ({change.direction})" if change.direction else ""
    return f"{change.source}/{change.stream}: {_mark(change.old)} -> {_mark(change.new)}{how}"


@state_app.command("set")
def state_set(
    source: Annotated[str, typer.Argument(help="a configured source")],
    stream: Annotated[str, typer.Argument(help="one of its streams")],
    value: Annotated[
        str, typer.Argument(help="an ISO 8601 time (UTC when no offset), or the transport's cursor")
    ],
    yes: Yes = False,
) -> None:
    """Move a watermark by hand; the next run starts from it.

    Backwards re-reads from there, forwards skips up to there. Recorded as set by
    "manual"; asks first unless --yes (without a terminal it refuses).
    """
    from omshub import state

    eng = engine()
    change = state.plan_set(eng, source, stream, value)
    _notes(change.notes)
    err.print(escape(_arrow(change)), soft_wrap=True, highlight=False)
    if change.direction == "unchanged" and change.old == change.new:
        say(f"{source}/{stream} watermark is already {_mark(change.new)}: nothing changed")
        return
    where = f"{source}/{stream}"
    confirm(f"set {where} to {_mark(change.new)}?", yes, f"refusing to move {where}")
    state.apply_set(eng, change)
    say(f"{where} watermark = {_mark(change.new)} (was {_mark(change.old)})")


@state_app.command("reset")
def state_reset(
    source: Annotated[str, typer.Argument(help="a configured source")],
    stream: Annotated[str | None, typer.Option("--stream", help="only this stream")] = None,
    yes: Yes = False,
) -> None:
    """Delete watermarks: the next run re-reads from the beginning.

    The stream's, or every one of the source's. Rows already loaded are recognised and
    not written twice. Asks first unless --yes (without a terminal it refuses).
    """
    from omshub import state

    eng = engine()
    changes = state.plan_reset(eng, source, stream)
    which = f"{source}/{stream}" if stream else source
    if not changes:
        say(f"{which}: no watermark to reset")
        return
    for change in changes:
        err.print(escape(_arrow(change)), soft_wrap=True, highlight=False)
    confirm(f"delete {len(changes)} watermark(s) of {which}?", yes, f"refusing to reset {which}")
    state.apply_reset(eng, changes)
    for change in changes:
        say(f"{change.source}/{change.stream} watermark reset (was {_mark(change.old)})")


@app.command()
def backfill(
    source: Annotated[str, typer.Argument(help="a configured source")],
    start: Annotated[str, typer.Option("--from", help="ISO 8601 time, included")],
    end: Annotated[str, typer.Option("--to", help="ISO 8601 time, excluded")],
    stream: Annotated[
        list[str] | None, typer.Option("--stream", help="only this stream (repeatable)")
    ] = None,
    as_json: Json = False,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="exit 3 when another run holds the source")
    ] = False,
) -> None:
    """Re-extract and load what was updated in [--from, --to).

    No watermark moves backwards. A transport that cannot re-read a time window (a
    folder, an SFTP drop) says so and nothing runs. Exit 1 when the run did not succeed.
    """
    from omshub import state
    from omshub.pipeline import run_source

    plan = state.plan_backfill(source, stream, start, end)
    _notes(plan.notes)
    progress()

    def waiting(message: str) -> None:
        err.print(f"[yellow]{source}:[/] {escape(message)}", highlight=False, soft_wrap=True)

    rep = run_source(
        source,
        engine=engine(),
        trigger="backfill",
        wait=not no_wait,
        on_wait=waiting,
        streams=plan.streams,
        window=plan.window,
    )
    if as_json:
        dump_json(backfill_json(plan, rep))
    else:
        from omshub.cli.run_cmds import print_report

        print_report(rep)
        print_counts(rep)
    if not rep.ok:
        raise typer.Exit(EXIT_FAILED)


def backfill_json(plan: Backfill, rep: RunReport) -> dict[str, Any]:
    start, end = plan.window
    return {
        "source": rep.source,
        "run_id": rep.run_id,
        "status": rep.status,
        "ok": rep.ok,
        "streams": plan.streams,
        "window": {"from": iso(start), "to": iso(end)},
        "summary": rep.summary.as_dict() if rep.summary else None,
        "errors": rep.errors,
    }


def print_counts(rep: RunReport) -> None:
    """Per entity, the counts of this backfill run."""
    from omshub.runs import COUNTS

    entities = rep.summary.entities if rep.summary else {}
    if not entities:
        return
    cols = [c for c in COUNTS if any(c in counts for counts in entities.values())]
    table = Table(title=f"backfill run {rep.run_id}")
    table.add_column("entity")
    for col in cols:
        table.add_column(col, justify="right")
    for entity, counts in entities.items():
        table.add_row(entity, *[str(counts.get(c, 0)) for c in cols])
    out.print(table)
