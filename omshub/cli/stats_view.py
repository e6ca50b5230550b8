"""The human face of `omshub stats`: per source, what `stats --json` says under `sources`.

Counts per entity follow in the `last run per source and entity` table.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from omshub.cli.base import at, out


def print_sources(sources: dict[str, dict[str, Any]]) -> None:
    table = Table(title="sources: last run, last success, batches needing attention")
    for col in ("source", "last run", "started", "finished", "last success", "failed", "dead"):
        table.add_column(col, overflow="fold")
    messages = []
    for name, s in sources.items():
        run, ok, waiting = s["last_run"], s["last_success"], s["attention"]
        state = "-" if run is None else f"{run['status']} ({run['trigger']})"
        style = None
        if s.get("config_error"):
            state, style = "config error", "red"
            messages.append(f"{name}: {s['config_error']}")
        elif run is not None and run["status"] not in ("success", "running", "extracted"):
            style = "red"
        table.add_row(
            name,
            state,
            at(run and run["started_at"]),
            at(run and run["finished_at"]),
            at(ok["finished_at"]) if ok else "never",
            str(waiting["failed"]),
            str(waiting["dead"]),
            style=style,
        )
        if run is not None and run["message"] and style:
            messages.append(f"{name} ({run['run_id']}): {run['message']}")
    out.print(table)
    for m in messages:
        out.print(f"[red]{escape(m)}[/]", soft_wrap=True, highlight=False)
