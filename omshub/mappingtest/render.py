"""How `omshub mapping test` shows its results on a terminal (rich): one line per
mapping, a table of field-level differences, the failing cases with their problems."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from omshub.mappingtest.compare import Difference
from omshub.mappingtest.runner import Result, shown


def _cell(v: Any) -> Text:
    return Text("null" if v is None else str(v))


def difference_table(diffs: list[Difference], limit: int = 200) -> Table:
    table = Table(show_lines=False, pad_edge=False, expand=False)
    for name in ("entity", "external id", "field", "golden", "actual"):
        table.add_column(name, overflow="fold", style="cyan" if name == "field" else None)
    for d in diffs[:limit]:
        table.add_row(
            _cell(d.entity),
            _cell(d.key),
            _cell(d.field),
            Text(str(d.golden) if d.golden is not None else "null", style="red"),
            Text(str(d.actual) if d.actual is not None else "null", style="green"),
        )
    if len(diffs) > limit:
        table.caption = f"{len(diffs) - limit} more differences (see --json)"
    return table


def _status(r: Result) -> str:
    if r.error:
        return "[red]error[/]"
    if not r.ok:
        return "[red]FAIL[/]"
    return "[yellow]updated[/]" if r.updated else "[green]pass[/]"


def show(console: Console, r: Result) -> None:
    """A mapping's verdict: its status line, then whatever the reader must look at."""
    rows = sum(len(v) for v in (r.output or {}).get("entities", {}).values())
    rejected = len((r.output or {}).get("rejected", []))
    cases = f", {sum(c.ok for c in r.cases)}/{len(r.cases)} cases" if r.cases else ""
    sample = f"{rows} rows, {rejected} rejected" if r.output is not None else "no sample"
    what = "" if r.error else f": {sample}{cases}"
    console.print(
        f"{_status(r)} {escape(r.file)} [dim]{escape(r.name)}{what}; {r.seconds:.2f} s[/]",
        highlight=False,
    )
    if r.error:
        console.print(f"  {escape(r.error)}", highlight=False)
    if r.missing_golden and r.target and r.target.golden:
        console.print(
            f"  no golden file {escape(shown(r.target.golden) or '')}: write it with --update",
            highlight=False,
        )
    if r.differences:
        verb = "changed in golden" if r.updated else "differs from golden"
        golden = escape(shown(r.target.golden) or "") if r.target else ""
        console.print(f"  {len(r.differences)} field(s) {verb} {golden}:", highlight=False)
        console.print(difference_table(r.differences))
    for case in r.cases:
        if not case.ok:
            console.print(f"  [red]case failed[/]: {escape(case.name)}", highlight=False)
            for problem in case.problems:
                console.print(f"    - {escape(problem)}", highlight=False)


def show_output(console: Console, output: dict[str, Any]) -> None:
    """The canonical rows and rejections of a sample (`--show`), one table per entity."""
    for entity, rows in output["entities"].items():
        if not rows:
            continue
        table = Table(title=f"{entity} ({len(rows)} rows)", title_justify="left")
        columns = list(dict.fromkeys(k for row in rows for k in row))
        for c in columns:
            table.add_column(c, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        console.print(table)
    for rej in output["rejected"]:
        for reason in rej["reasons"]:
            console.print(
                f"[red]rejected record {rej['record']}[/]: {escape(reason['message'])}",
                highlight=False,
            )


def summary(console: Console, results: list[Result]) -> None:
    failed = [r for r in results if not r.ok]
    total = sum(r.seconds for r in results)
    color = "red" if failed else "green"
    console.print(
        f"[{color}]{len(results) - len(failed)} passed, {len(failed)} failed[/] "
        f"[dim]({total:.2f} s)[/]"
    )
