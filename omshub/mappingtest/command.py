"""The body of `omshub mapping test` (the typer command in `omshub.cli.tool_cmds` only
parses options): which mappings, once or watching, terminal or `--json`, the exit code.

Exit codes: 0 every test passed (or `--update` wrote the goldens); 1 a difference, a
missing golden or a failing case; 2 a usage or configuration problem (no such mapping, a
mapping that does not compile, a sample that cannot be read).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from omshub.mappingtest import render
from omshub.mappingtest.locate import all_targets
from omshub.mappingtest.output import Checker, dumps
from omshub.mappingtest.runner import Result, run_mapping_test

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Options:
    mappings: list[str]
    all: bool = False
    sample: Path | None = None
    golden: Path | None = None
    update: bool = False
    watch: bool = False
    as_json: bool = False
    show: bool = False
    checker: Checker = "fast"


def exit_code(results: list[Result]) -> int:
    if any(r.error for r in results):
        return EXIT_USAGE
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def _args(opts: Options) -> list[str]:
    return [str(p) for p in all_targets()] if opts.all else list(opts.mappings)


def _run(opts: Options, args: list[str], out: Console) -> list[Result]:
    results = [
        run_mapping_test(a, opts.sample, opts.golden, update=opts.update, checker=opts.checker)
        for a in args
    ]
    if opts.as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
        if opts.show:
            for r in results:
                sys.stdout.write(dumps(r.output or {}))
        return results
    for r in results:
        if opts.show and r.output is not None:
            render.show_output(out, r.output)
        render.show(out, r)
    if len(results) > 1:
        render.summary(out, results)
    return results


def main(opts: Options, out: Console, err: Console) -> int:
    """Test the mappings once (or forever with `watch`); the exit code."""
    if bool(opts.mappings) == opts.all:
        err.print("[bold red]error:[/] give one mapping file, or --all", highlight=False)
        return EXIT_USAGE
    if (opts.sample or opts.golden) and len(_args(opts)) != 1:
        err.print("[bold red]error:[/] --input and --golden need exactly one mapping")
        return EXIT_USAGE
    if not opts.watch:
        return exit_code(_run(opts, _args(opts), out))
    from omshub.mappingtest.watch import watch

    def rerun(args: list[str], changed: set[Path]) -> list[Result]:
        if out.is_terminal:
            out.clear()
        now = dt.datetime.now().strftime("%H:%M:%S")
        names = ", ".join(sorted(p.name for p in changed)) or "start"
        out.rule(f"mapping test --watch  {now}  {escape(names)}", style="dim")
        results = _run(opts, args, out)
        out.print("[dim]watching for changes; Ctrl-C to stop[/]")
        return results

    watch(lambda: _args(opts), rerun)
    return EXIT_OK
