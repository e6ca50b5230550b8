"""`omshub db` and `mapping`: the store's schema and mappings (`state`: `state_cmds`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from oms.errors import OmshubError
from omshub.cli.base import EXIT_FAILED, app, dump_json, err, fail, out, sub_app

db_app = sub_app("The canonical store's schema.")
mapping_app = sub_app("Check and test YAML mappings.")
app.add_typer(db_app, name="db")
app.add_typer(mapping_app, name="mapping")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="a migration id; head = the newest")] = "head",
) -> None:
    """Create or migrate the store's tables (idempotent)."""
    from alembic.util import CommandError

    from oms.db import database_url, upgrade

    try:
        upgrade(revision=revision)
    except CommandError as e:  # an unknown revision is the user's typo, not our bug
        fail(f"cannot upgrade to revision {revision!r}: {e}")
    out.print(f"store at {database_url().split('@')[-1]} is at revision {revision}")


@mapping_app.command("check")
def mapping_check(
    files: Annotated[list[Path] | None, typer.Argument()] = None,
    columnar: Annotated[
        bool, typer.Option("--columnar", help="fail when a part of a mapping runs per value")
    ] = False,
) -> None:
    """Compile mappings (default: all of mappings/) and the source configs that use them.

    Parts that run per value on the columnar path (a transform without a vectorised form,
    a `[KEY=VALUE]` selector) are flagged; `--columnar` makes them failures.
    """
    from omshub.config import broken_sources, sources
    from omshub.mappings import all_mapping_files, get_mapping

    problems = 0
    for path in files or all_mapping_files():
        try:
            m = get_mapping(str(path.resolve()))
            entities = ", ".join(dict.fromkeys(m.entities))
            out.print(f"[green]ok[/]  {m.file}  {m.name} v{m.version} -> {entities}")
            for part in m.columnar_parts:
                problems += columnar
                err.print(f"[yellow]per value[/] {escape(part)}", highlight=False)
        except OmshubError as e:
            problems += 1
            err.print(f"[red]bad[/] {escape(str(e))}", highlight=False)
    if not files:
        for bad in broken_sources().values():
            problems += 1
            err.print(f"[red]bad[/] {escape(str(bad))}", highlight=False)
        for src in sources().values():
            for stream in src.streams:
                for mapping_file in stream.mapping_files():
                    try:
                        get_mapping(mapping_file)
                    except (OmshubError, OSError) as e:
                        problems += 1
                        err.print(
                            f"[red]bad[/] {src.file}: stream {stream.name}: {escape(str(e))}",
                            highlight=False,
                        )
    if problems:
        raise typer.Exit(EXIT_FAILED)


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
        fail(str(e))
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
                    table.add_row(k, Text("" if v is None else str(v)))
                out.print(f"[bold]{entity} #{i}[/]")
                out.print(table)
        for rej in output["rejected"]:
            for reason in rej["reasons"]:
                out.print(
                    f"[red]rejected record {rej['record']}[/]: {escape(reason['message'])}",
                    highlight=False,
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
            raise typer.Exit(EXIT_FAILED)
        err.print(f"[green]matches golden {golden}[/]")


@mapping_app.command("schema")
def mapping_schema(write: bool = False) -> None:
    """Print (or write to transforms/mapping.schema.json) the mapping file JSON Schema."""
    from transforms.spec import SCHEMA_PATH, json_schema, write_json_schema

    if write:
        write_json_schema()
        out.print(f"wrote {SCHEMA_PATH}")
    else:
        dump_json(json_schema())
