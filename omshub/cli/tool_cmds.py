"""`omshub db` and `mapping`: the store's schema and mappings (`state`: `state_cmds`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from oms.errors import OmshubError
from omshub.cli.base import EXIT_FAILED, app, dump_json, err, out, sub_app

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
def mapping_schema(write: bool = False) -> None:
    """Print (or write to transforms/mapping.schema.json) the mapping file JSON Schema."""
    from transforms.spec import SCHEMA_PATH, json_schema, write_json_schema

    if write:
        write_json_schema()
        out.print(f"wrote {SCHEMA_PATH}")
    else:
        dump_json(json_schema())
