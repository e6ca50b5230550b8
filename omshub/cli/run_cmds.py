"""`omshub run`, `replay`, `stats` and `sources`: the same functions the DAGs call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from omshub.cli import checks
from omshub.cli.base import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    app,
    dump_json,
    engine,
    err,
    exit_code,
    fail,
    one_line,
    out,
    progress,
    show_traceback,
    store,
    trace,
)
from omshub.cli.output import invalid, listing

if TYPE_CHECKING:
    from omshub.config import SourceConfig
    from omshub.pipeline import RunReport

#: several sources in one `omshub run`: the most serious outcome is the exit code
SEVERITY = (EXIT_INTERNAL, EXIT_FAILED, EXIT_UNREACHABLE, EXIT_BUSY, EXIT_OK)


def _worst(codes: list[int]) -> int:
    for code in SEVERITY:
        if code in codes:
            return code
    return EXIT_FAILED if codes else EXIT_OK


def print_report(rep: RunReport) -> None:
    """One line per run: its end state, its batches by outcome, then every failure."""
    summary = rep.summary
    batches = ", ".join(f"{n} {k}" for k, n in sorted(summary.batches.items())) if summary else ""
    style = "green" if rep.ok else "red"
    out.print(
        f"{rep.source}: [{style}]{rep.status}[/] (run {rep.run_id}; "
        f"{escape(batches or 'no batches')})",
        highlight=False,
        soft_wrap=True,
    )
    for e in rep.errors:
        err.print(f"[red]{rep.source}:[/] {escape(e)}", highlight=False, soft_wrap=True)


def _run_one(name: str, broken: dict[str, Any], wait: bool, eng: Any) -> int:
    """Run one source; any error is that source's failure, never the others'."""
    from omshub.pipeline import run_source

    if name in broken:
        message = escape(str(broken[name]))
        err.print(f"[red]{name}:[/] failed: {message}", soft_wrap=True, highlight=False)
        return EXIT_FAILED

    def waiting(message: str) -> None:
        err.print(f"[yellow]{name}:[/] {escape(message)}", highlight=False, soft_wrap=True)

    try:
        rep = run_source(name, engine=eng, wait=wait, on_wait=waiting)
    except Exception as e:
        code = exit_code(e)
        trace.error("run %s: exit %d", name, code, exc_info=e)
        verdict = "skipped" if code == EXIT_BUSY else "failed"
        message = escape(one_line(e))
        err.print(f"[red]{name}:[/] {verdict}: {message}", soft_wrap=True, highlight=False)
        show_traceback(e)
        return code if code in (EXIT_BUSY, EXIT_UNREACHABLE, EXIT_INTERNAL) else EXIT_FAILED
    print_report(rep)
    return EXIT_OK if rep.ok else EXIT_FAILED


@app.command()
def run(
    source: Annotated[list[str] | None, typer.Argument(help="source names; none = all")] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="exit 3 when another run holds a source")
    ] = False,
) -> None:
    """Run sources now, outside Airflow (same code path as the DAGs).

    A source that fails (bad file, bad configuration, unreachable) never stops the others;
    the exit code is the most serious outcome: 70, then 1, then 4, then 3.
    """
    from omshub.config import broken_sources, sources

    good, broken = sources(), broken_sources()
    known = sorted({*good, *broken})
    unknown = [n for n in source or [] if n not in known]
    if unknown:
        fail(f"unknown source {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    progress()
    eng = engine()
    names = list(dict.fromkeys(source or known))
    codes = [_run_one(name, broken, not no_wait, eng) for name in names]
    print_entities(eng, names)
    code = _worst(codes)
    if code:
        raise typer.Exit(code)


def print_entities(eng: Any, names: list[str] | None = None) -> None:
    """Per source and entity, the counts of its last sync run."""
    from omshub.report import last_runs

    cols = ("extracted", "loaded", "stale", "changed", "quarantined", "failed")
    table = Table(title="last run per source and entity")
    table.add_column("source")
    table.add_column("entity")
    for col in cols:
        table.add_column(col, justify="right")
    table.add_column("status")
    for r in last_runs(eng):
        if names and r["source"] not in names:
            continue
        style = "red" if r["status"] != "success" else None
        table.add_row(
            r["source"], r["entity"], *[str(r[c]) for c in cols], r["status"], style=style
        )
    out.print(table)


@app.command()
def replay(
    source: Annotated[
        str | None, typer.Option(help="replay every landed batch of this source")
    ] = None,
    batch: Annotated[list[str] | None, typer.Option(help="batch id (repeatable)")] = None,
) -> None:
    """Re-run mapping, validation and load from landed batches (exit 1 if any failed)."""
    from omshub.pipeline import replay as do_replay

    if not source and not batch:
        fail("give --source or --batch")
    checks.source(source)  # replaying needs the source's configuration
    progress()
    reports = do_replay(source, batch, engine())
    if not reports:
        out.print("nothing to replay")
    for rep in reports:
        print_report(rep)
    if any(not r.ok for r in reports):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Per source its last run, last success and failed batches; rows per entity and system."""
    from omshub.cli.stats_view import print_sources
    from omshub.report import stats as get_stats

    eng = store()
    data = get_stats(eng)
    if as_json:
        dump_json(data)
        return
    print_sources(data["sources"])
    table = Table(title="rows per entity and system")
    table.add_column("entity")
    table.add_column("systems")
    for entity, systems in data["entities"].items():
        table.add_row(entity, ", ".join(f"{s}={n}" for s, n in systems.items()) or "-")
    out.print(table)
    print_entities(eng)


@app.command("sources")
def sources_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Configured sources and their streams (and every source file that does not validate).

    Exit 2 when any source file does not validate.
    """
    from omshub.config import broken_sources, sources

    broken = broken_sources()
    if as_json:
        items = [_source_json(s) for s in sources().values()]
        dump_json(listing(items, invalid=invalid(broken)))
        if broken:
            raise typer.Exit(EXIT_USAGE)
        return
    table = Table(title="sources")
    for c in ("name", "system", "kind", "connector", "schedule", "streams"):
        table.add_column(c)
    for s in sources().values():
        streams = ", ".join(st.name for st in s.streams)
        table.add_row(s.name, s.system, s.kind, s.connector.type, s.schedule or "-", streams)
    out.print(table)
    for name, e in sorted(broken.items()):
        err.print(f"[red]bad[/] {name}: {escape(str(e))}", soft_wrap=True)
    if broken:
        raise typer.Exit(EXIT_USAGE)


def _source_json(s: SourceConfig) -> dict[str, Any]:
    return {
        "name": s.name,
        "system": s.system,
        "kind": s.kind,
        "connector": s.connector.type,
        "schedule": s.schedule,
        "streams": [st.name for st in s.streams],
        "file": str(s.file),
    }
