"""`omshub quarantine list|show|replay`: records kept out of the store, with reasons."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from omshub.cli import checks
from omshub.cli.base import (
    EXIT_FAILED,
    app,
    cell,
    dump_json,
    engine,
    fail,
    out,
    page,
    progress,
    store,
    sub_app,
)
from omshub.cli.output import listing

q_app = sub_app("Records kept out of the store, with reasons.")
app.add_typer(q_app, name="quarantine")


@q_app.command("list")
def q_list(
    status: Annotated[str, typer.Option(help="open|replayed|dismissed|all")] = "open",
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    batch: Annotated[str | None, typer.Option(help="only this batch id")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows per page")] = 200,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Quarantined records (newest first), with the true total of what matches."""
    from omshub.quarantine import STATUSES, page_entries

    if status not in (*STATUSES, "all"):
        fail(f"unknown status {status!r} (one of: {', '.join(STATUSES)}, all)")
    eng = store()
    checks.source(source, eng)
    checks.batch(eng, batch)
    rows, total = page_entries(eng, status, source, batch, limit, offset)
    if as_json:
        dump_json(listing(rows, total=total, limit=limit, offset=offset))
        return
    table = Table(title=f"quarantine ({status}): {page(len(rows), total, offset)}")
    for c in ("id", "source", "stream", "record", "key", "mapping", "first reason"):
        table.add_column(c, overflow="fold")
    for r in rows:
        reasons = json.loads(r["reasons"])
        first = reasons[0]["message"] if reasons else ""
        more = f" (+{len(reasons) - 1})" if len(reasons) > 1 else ""
        mapping = f"{r['mapping_name']} v{r['mapping_version']}"
        cells = (r["id"], r["source"], r["stream"], r["record_index"], r["record_key"], mapping)
        table.add_row(*map(cell, (*cells, first + more)))
    out.print(table)
    if offset + len(rows) < total:
        out.print(f"next page: --offset {offset + len(rows)}", highlight=False)


@q_app.command("show")
def q_show(qid: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """One quarantined record: raw content and every reason."""
    from omshub.quarantine import get_entry

    row = get_entry(store(), qid)
    if row is None:
        fail(f"no quarantine entry {qid} (see `omshub quarantine list`)")
        return
    row["raw_record"] = json.loads(row["raw_record"])
    row["reasons"] = json.loads(row["reasons"])
    dump_json(row)


def _check_open(eng: Engine, ids: list[int]) -> None:
    """Every id given is an open entry: a typo or a done entry is an error, not a no-op."""
    from omshub.quarantine import get_entry

    for qid in ids:
        row = get_entry(eng, qid)
        if row is None:
            fail(f"no quarantine entry {qid} (see `omshub quarantine list`)")
        elif row["status"] != "open":
            fail(f"quarantine entry {qid} is {row['status']}, not open: nothing to replay")


@q_app.command("replay")
def q_replay(
    ids: Annotated[list[int] | None, typer.Argument(help="entry ids; none = all open")] = None,
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
) -> None:
    """Re-process the batches of open entries (after a mapping or code-list fix).

    Exit 1 when any of those batches failed.
    """
    from omshub.cli.run_cmds import print_report
    from omshub.pipeline import replay
    from omshub.quarantine import open_batches, page_entries

    eng = engine()
    checks.source(source, eng)
    _check_open(eng, ids or [])
    batches = open_batches(eng, ids, source)
    if not batches:
        out.print("nothing open to replay")
        return
    progress()
    reports = replay(None, batches, eng)
    for rep in reports:
        print_report(rep)
    left = page_entries(eng, "open", source, limit=1)[1]
    out.print(f"replayed {len(batches)} batches; {left} entries still open")
    if any(not r.ok for r in reports):
        raise typer.Exit(EXIT_FAILED)
