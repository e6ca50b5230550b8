"""`omshub` command line. Every command calls the same functions the DAGs call."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oms.errors import OmshubError

app = typer.Typer(help="omshub: order-management integration hub.", no_args_is_help=True)
db_app = typer.Typer(help="The canonical store's schema.", no_args_is_help=True)
mapping_app = typer.Typer(help="Check and test YAML mappings.", no_args_is_help=True)
q_app = typer.Typer(help="Records kept out of the store, with reasons.", no_args_is_help=True)
state_app = typer.Typer(help="Watermarks (cursor state) per source stream.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(mapping_app, name="mapping")
app.add_typer(q_app, name="quarantine")
app.add_typer(state_app, name="state")
out = Console(width=max(Console().width, 120))
err = Console(stderr=True, width=max(Console().width, 120))


def _fail(e: Exception) -> None:
    err.print(f"[bold red]error:[/] {e}", highlight=False)
    raise typer.Exit(2)


def _progress() -> None:
    """Per-batch progress lines on stderr (runs over many files take a while)."""
    import logging

    from rich.logging import RichHandler

    logger = logging.getLogger("omshub")
    if not logger.handlers:
        logger.addHandler(RichHandler(console=err, show_path=False, markup=False))
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _engine():  # type: ignore[no-untyped-def]
    from oms.db import get_engine, upgrade

    upgrade()
    return get_engine()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the store's tables (idempotent)."""
    from oms.db import database_url, upgrade

    upgrade(revision=revision)
    out.print(f"store at {database_url().split('@')[-1]} is at revision {revision}")


@app.command()
def run(
    source: Annotated[list[str] | None, typer.Argument(help="source names; none = all")] = None,
) -> None:
    """Run sources now, outside Airflow (same code path as the DAGs)."""
    from omshub.config import sources
    from omshub.pipeline import run_source

    _progress()
    try:
        engine = _engine()
        names = source or sorted(sources())
        failed = False
        for name in names:
            report = run_source(name, engine=engine)
            for e in report.errors:
                err.print(f"[red]{name}:[/] {e}", highlight=False)
            failed |= not report.ok
        _print_runs(engine, names)
    except OmshubError as e:
        _fail(e)
    if failed:
        raise typer.Exit(1)


def _print_runs(engine, names: list[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    from omshub.report import last_runs

    table = Table(title="last run per source and entity")
    for col in (
        "source",
        "entity",
        "extracted",
        "loaded",
        "stale",
        "changed",
        "quarantined",
        "status",
    ):
        table.add_column(
            col,
            justify="right" if col in ("extracted", "loaded", "changed", "quarantined") else "left",
        )
    for r in last_runs(engine):
        if names and r["source"] not in names:
            continue
        style = "red" if r["status"] == "failed" else None
        cells = [str(r[c]) for c in ("extracted", "loaded", "stale", "changed", "quarantined")]
        table.add_row(r["source"], r["entity"], *cells, r["status"], style=style)
    out.print(table)


@app.command()
def replay(
    source: Annotated[
        str | None, typer.Option(help="replay every landed batch of this source")
    ] = None,
    batch: Annotated[list[str] | None, typer.Option(help="batch id (repeatable)")] = None,
) -> None:
    """Re-run mapping, validation and load from landed batches."""
    from omshub.pipeline import replay as do_replay

    if not source and not batch:
        _fail(ValueError("give --source or --batch"))
    _progress()
    engine = _engine()
    reports = do_replay(source, batch, engine)
    for rep in reports:
        out.print(f"{rep.source}: {len(rep.batches)} batches replayed in {rep.run_id}")
        for e in rep.errors:
            err.print(f"[red]{rep.source}:[/] {e}", highlight=False)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Rows per entity and system, and the last runs' counts."""
    from omshub.report import stats as get_stats

    data = get_stats(_engine())
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return
    table = Table(title="rows per entity and system")
    table.add_column("entity")
    table.add_column("systems")
    for entity, systems in data["entities"].items():
        table.add_row(entity, ", ".join(f"{s}={n}" for s, n in systems.items()) or "-")
    out.print(table)
    _print_runs(_engine())


# --- mappings ------------------------------------------------------------------------------


@mapping_app.command("check")
def mapping_check(files: Annotated[list[Path] | None, typer.Argument()] = None) -> None:
    """Compile mappings (default: all of mappings/) and the source configs that use them."""
    from omshub.config import sources
    from omshub.mappings import all_mapping_files, get_mapping

    problems = 0
    try:
        srcs = sources()
    except OmshubError as e:
        _fail(e)
    for path in files or all_mapping_files():
        try:
            m = get_mapping(str(path.resolve()))
            out.print(
                f"[green]ok[/]  {m.file}  {m.name} v{m.version} -> {', '.join(dict.fromkeys(m.entities))}"
            )
        except OmshubError as e:
            problems += 1
            err.print(f"[red]bad[/] {e}", highlight=False)
    if not files:
        for src in srcs.values():
            for stream in src.streams:
                try:
                    get_mapping(stream.mapping)
                except (OmshubError, OSError) as e:
                    problems += 1
                    err.print(f"[red]bad[/] {src.file}: stream {stream.name}: {e}", highlight=False)
    if problems:
        raise typer.Exit(1)


@mapping_app.command("test")
def mapping_test(
    mapping: Annotated[str, typer.Argument(help="mapping file (path or relative to mappings/)")],
    input: Annotated[Path, typer.Option("--input", "-i", help="sample payload")],
    golden: Annotated[Path | None, typer.Option(help="reviewed expected output (JSON)")] = None,
    update_golden: Annotated[bool, typer.Option(help="write the output to --golden")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Map a sample: print canonical rows and every validation failure; diff with a golden."""
    from omshub import mappingtest

    try:
        m, output = mappingtest.run(
            str(Path(mapping).resolve()) if Path(mapping).exists() else mapping, input
        )
    except (OmshubError, ValueError, OSError) as e:
        _fail(e)
    if as_json:
        sys.stdout.write(mappingtest.dumps(output))
    else:
        for entity, rows in output["entities"].items():
            out.rule(f"{m.name} v{m.version}: {entity} ({len(rows)} rows)")
            for i, r in enumerate(rows):
                table = Table(show_header=False, box=None, padding=(0, 1))
                table.add_column(style="cyan")
                table.add_column(overflow="fold")
                for k, v in r.items():
                    table.add_row(k, "" if v is None else str(v))
                out.print(f"[bold]{entity} #{i}[/]")
                out.print(table)
        for rej in output["rejected"]:
            for reason in rej["reasons"]:
                out.print(
                    f"[red]rejected record {rej['record']}[/]: {reason['message']}", highlight=False
                )
    if golden:
        if update_golden:
            golden.write_text(mappingtest.dumps(output), encoding="utf-8")
            err.print(f"wrote {golden}: review it before committing")
            return
        d = mappingtest.diff(golden, output)
        if d:
            err.print(d, highlight=False, markup=False)
            err.print(f"[red]differs from golden {golden}[/]")
            raise typer.Exit(1)
        err.print(f"[green]matches golden {golden}[/]")


@mapping_app.command("schema")
def mapping_schema(write: bool = False) -> None:
    """Print (or write to transforms/mapping.schema.json) the mapping file JSON Schema."""
    from transforms.spec import SCHEMA_PATH, json_schema, write_json_schema

    if write:
        write_json_schema()
        out.print(f"wrote {SCHEMA_PATH}")
    else:
        sys.stdout.write(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")


# --- quarantine ----------------------------------------------------------------------------


@q_app.command("list")
def q_list(
    status: str = "open",
    source: str | None = None,
    batch: str | None = None,
    limit: int = 200,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Quarantined records (newest first)."""
    from omshub.quarantine import list_entries

    rows = list_entries(_engine(), status, source, batch, limit)
    if as_json:
        sys.stdout.write(json.dumps(rows, default=str, indent=2) + "\n")
        return
    table = Table(title=f"quarantine ({status}): {len(rows)}")
    for c in ("id", "source", "stream", "record", "key", "mapping", "first reason"):
        table.add_column(c, overflow="fold")
    for r in rows:
        reasons = json.loads(r["reasons"])
        first = reasons[0]["message"] if reasons else ""
        more = f" (+{len(reasons) - 1})" if len(reasons) > 1 else ""
        table.add_row(
            str(r["id"]),
            r["source"],
            r["stream"],
            str(r["record_index"]),
            r["record_key"] or "",
            f"{r['mapping_name']} v{r['mapping_version']}",
            first + more,
        )
    out.print(table)


@q_app.command("show")
def q_show(qid: int) -> None:
    """One quarantined record: raw content and every reason."""
    from omshub.quarantine import get_entry

    row = get_entry(_engine(), qid)
    if row is None:
        _fail(ValueError(f"no quarantine entry {qid}"))
        return
    row["raw_record"] = json.loads(row["raw_record"])
    row["reasons"] = json.loads(row["reasons"])
    sys.stdout.write(json.dumps(row, default=str, indent=2, ensure_ascii=False) + "\n")


@q_app.command("replay")
def q_replay(
    ids: Annotated[list[int] | None, typer.Argument(help="entry ids; none = all open")] = None,
    source: str | None = None,
) -> None:
    """Re-process the batches of open entries (after a mapping or code-list fix)."""
    from omshub.pipeline import replay as do_replay
    from omshub.quarantine import list_entries, open_batches

    engine = _engine()
    batches = open_batches(engine, ids, source)
    if not batches:
        out.print("nothing open to replay")
        return
    reports = do_replay(None, batches, engine)
    left = len(list_entries(engine, "open", source))
    out.print(f"replayed {len(batches)} batches; {left} entries still open")
    for rep in reports:
        for e in rep.errors:
            err.print(f"[red]{rep.source}:[/] {e}", highlight=False)


# --- state -----------------------------------------------------------------------------------


@state_app.command("show")
def state_show() -> None:
    """Every watermark."""
    from sqlalchemy import select

    from oms.models import Watermark
    from oms.models import table as table_of

    t = table_of(Watermark)
    with _engine().connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.source, t.c.stream)).mappings().all()
    table = Table(title="watermarks")
    for c in ("source", "stream", "cursor_value", "run_id", "updated_at"):
        table.add_column(c)
    for r in rows:
        table.add_row(
            *[str(r[c]) for c in ("source", "stream", "cursor_value", "run_id", "updated_at")]
        )
    out.print(table)


@state_app.command("set")
def state_set(source: str, stream: str, cursor: str) -> None:
    """Move a watermark by hand (to backfill from an earlier point)."""
    import datetime as dt

    from sqlalchemy import delete, insert

    from oms.models import Watermark
    from oms.models import table as table_of

    t = table_of(Watermark)
    with _engine().begin() as conn:
        conn.execute(delete(t).where(t.c.source == source, t.c.stream == stream))
        conn.execute(
            insert(t).values(
                source=source,
                stream=stream,
                cursor_value=cursor,
                run_id="manual",
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
    out.print(f"{source}.{stream} watermark = {cursor}")


@app.command("sources")
def sources_cmd() -> None:
    """Configured sources and their streams."""
    from omshub.config import sources

    table = Table(title="sources")
    for c in ("name", "system", "kind", "connector", "schedule", "streams"):
        table.add_column(c)
    try:
        for s in sources().values():
            table.add_row(
                s.name,
                s.system,
                s.kind,
                s.connector.type,
                s.schedule or "-",
                ", ".join(st.name for st in s.streams),
            )
    except OmshubError as e:
        _fail(e)
    out.print(table)


if __name__ == "__main__":
    app()
