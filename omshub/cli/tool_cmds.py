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
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the store's tables (idempotent)."""
    from oms.db import database_url, upgrade

    upgrade(revision=revision)
    out.print(f"store at {database_url().split('@')[-1]} is at revision {revision}")


@mapping_app.command("check")
def mapping_check(
    files: Annotated[list[Path] | None, typer.Argument()] = None,
    columnar: Annotated[
        bool, typer.Option("--columnar", help="fail when a part of a mapping runs per value")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
) -> None:
    """Check mappings (default: all of mappings/, the code lists, sources and partners).

    Every problem is printed as `file:line:column: message`; one bad file never stops the
    others from being checked. Parts that run per value on the columnar path are warnings;
    `--columnar` makes them errors. Exit code 1 when there is any error.
    """
    from omshub.checks import check_project

    report = check_project(files, columnar)
    if as_json:
        dump_json(report.as_dict())
    else:
        for m in report.mappings:
            entities = ", ".join(m.entities)
            out.print(f"[green]ok[/]  {m.file}  {m.mapping} v{m.version} -> {entities}")
        for p in report.problems:
            label = "[red]error[/]" if p.severity == "error" else "[yellow]warning[/]"
            err.print(f"{label} {escape(p.render())}", highlight=False, soft_wrap=True)
        n = len(report.errors)
        if n:
            err.print(f"[red]{n} error(s)[/]")
    if report.errors:
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
def mapping_schema(
    write: Annotated[bool, typer.Option(help="write every schema to schemas/")] = False,
    kind: Annotated[str, typer.Option(help="mapping, source, partner or codelist")] = "mapping",
) -> None:
    """Print one JSON Schema of the project's YAML (or write them all to schemas/).

    Generated from the code: canonical entities, their columns, transforms, code lists
    and transports are enumerated, so an editor completes them."""
    from omshub.schemas import SCHEMAS, write_all

    if write:
        for path in write_all():
            out.print(f"wrote {path}")
        return
    name = f"{kind}.schema.json"
    if name not in SCHEMAS:
        fail(f"unknown schema {kind!r} (one of mapping, source, partner, codelist)")
    dump_json(SCHEMAS[name]())
