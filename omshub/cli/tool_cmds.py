"""`omshub db` and `mapping`: the store's schema and mappings (`state`: `state_cmds`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

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
    mappings: Annotated[
        list[str] | None,
        typer.Argument(
            help="mapping file(s): a path, or relative to mappings/", show_default=False
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="test every mapping of mappings/")] = False,
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="another sample than the mapping's")
    ] = None,
    golden: Annotated[Path | None, typer.Option(help="another golden than the mapping's")] = None,
    update: Annotated[
        bool,
        typer.Option("--update", "--update-golden", help="rewrite goldens that differ"),
    ] = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="re-run on every save")] = False,
    show: Annotated[bool, typer.Option("--show", help="print the canonical rows too")] = False,
    gx: Annotated[
        bool, typer.Option("--gx", help="validate with great-expectations (slower start)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Map each mapping's sample, diff with its golden file, run its `tests:` cases.

    The sample and golden come from the mapping (`sample:`/`golden:`, else
    samples/<name>.* and golden/<name>.json). Exit 0 pass, 1 differences or a failing
    case, 2 a usage or configuration error.
    """
    from omshub.mappingtest.command import Options, main

    opts = Options(
        list(mappings or []), all_, input, golden, update, watch, as_json, show,
        "gx" if gx else "fast",
    )  # fmt: skip
    code = main(opts, out, err)
    if code:
        raise typer.Exit(code)


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
