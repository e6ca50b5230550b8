"""`omshub docs`: the reference pages generated from the code (`omshub.refdocs`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from omshub.cli.base import EXIT_FAILED, app, err, out, sub_app

docs_app = sub_app("Reference documentation generated from the code (docs/reference).")
app.add_typer(docs_app, name="docs")


@docs_app.command("generate")
def docs_generate(
    check: Annotated[
        bool, typer.Option("--check", help="write nothing; exit 1 when a page is stale")
    ] = False,
) -> None:
    """Write docs/reference/*.md from the models, registries and examples (or --check them).

    Every transform example is run through both mapping engines while generating; one
    that fails, or that the engines disagree on, stops the generator (exit 1), naming it.
    """
    from omshub import refdocs
    from omshub.refdocs.runexamples import ExampleError

    try:
        changed = refdocs.stale() if check else [p.name for p in refdocs.write()]
    except ExampleError as e:
        err.print(f"[red]bad example[/] {escape(str(e))}", highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    if check and changed:
        err.print(
            f"[red]stale[/] in {refdocs.DOCS}: {', '.join(changed)}; run `{refdocs.REGENERATE}`",
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED)
    for name in [] if check else changed:
        out.print(f"wrote {refdocs.DOCS / name}", highlight=False)
    if not changed:
        out.print(f"{refdocs.DOCS} is up to date", highlight=False)
