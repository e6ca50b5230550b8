"""`omshub edi partners|interchanges|overdue|gaps`: trading partners and the EDI registry.

`partners` reads only the partner files; the others read the store and never migrate
it (a store not at the current schema is refused: run `omshub db upgrade`). `overdue`
lists; with `--mark` it also records them as `overdue` in the store (as
`oms.edi.overdue` does for a scheduled check).
Exit codes as everywhere (`omshub.cli.base`): `partners` ends 2 when a partner file does
not validate, `overdue` ends 1 when a 997 is overdue (for cron and monitoring).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from omshub.cli import checks
from omshub.cli.base import (
    EXIT_FAILED,
    EXIT_USAGE,
    at,
    cell,
    dump_json,
    engine,
    err,
    out,
    page,
    store,
)
from omshub.cli.edi_cmds import edi_app
from omshub.cli.output import invalid, listing

__all__ = ["edi_app"]

Json = Annotated[bool, typer.Option("--json", help="machine-readable")]


class Direction(StrEnum):
    inbound = "in"
    outbound = "out"


def _bad(broken: dict[str, Any]) -> None:
    for name, why in sorted(broken.items()):
        err.print(f"[yellow]bad[/] {escape(name)}: {escape(str(why))}", soft_wrap=True)


@edi_app.command("partners")
def partners_cmd(as_json: Json = False) -> None:
    """Configured trading partners (and every partner file that does not validate)."""
    from omshub.edi.partners import broken_partners, partners

    good, broken = partners(), broken_partners()
    if as_json:
        items = [p.model_dump(mode="json") for p in good.values()]
        dump_json(listing(items, invalid=invalid(broken)))
    else:
        view = Table(title="EDI partners", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for col in ("partner", "name", "them (ISA)", "us (ISA)", "usage", "version", "in", "out"):
            view.add_column(col, overflow="fold")
        for p in good.values():
            view.add_row(
                *map(cell, (p.id, p.name, f"{p.them.qualifier}/{p.them.id}")),
                *map(cell, (f"{p.us.qualifier}/{p.us.id}", p.usage, p.outbound.gs_version)),
                cell(" ".join(sorted(p.inbound.sets)) or "-"),
                cell(" ".join(sorted(p.outbound.sets)) or "-"),
            )
        out.print(view)
        _bad(broken)
    if broken:
        raise typer.Exit(EXIT_USAGE)


@edi_app.command("interchanges")
def interchanges_cmd(
    partner: Annotated[str | None, typer.Option("--partner", help="one partner")] = None,
    direction: Annotated[Direction | None, typer.Option("--direction", help="in|out")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows per page")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip")] = 0,
    as_json: Json = False,
) -> None:
    """Registered interchanges, newest first: control number, file, status, acknowledgement."""
    from oms.edi import interchanges

    with store().connect() as conn:
        if not checks.configured_partner(partner) and not interchanges(conn, partner, None, 1)[1]:
            raise checks.unknown_partner(str(partner))  # a removed partner's history is listed
        rows, total = interchanges(
            conn, partner, direction.value if direction else None, limit, offset
        )
    if as_json:
        dump_json(listing(rows, total=total, limit=limit, offset=offset))
        return
    view = Table(title=f"EDI interchanges: {page(len(rows), total, offset)}", box=box.SIMPLE_HEAD)
    for col in ("partner", "dir", "ISA13", "sender", "file", "at", "status", "ack", "ack due"):
        view.add_column(col, overflow="fold")
    for r in rows:
        moved = r["received_at"] if r["direction"] == "in" else r["sent_at"]
        style = "red" if r["ack_status"] in ("rejected", "overdue") else None
        view.add_row(
            *map(cell, (r["partner"], r["direction"], r["isa_control"], r["sender_id"])),
            *map(cell, (r["file_name"], at(moved), r["status"], r["ack_status"])),
            cell(at(r["ack_due_at"]) if r["ack_due_at"] else None),
            style=style,
        )
    out.print(view)
    if offset + len(rows) < total:
        out.print(f"next page: --offset {offset + len(rows)}", highlight=False)


@edi_app.command("overdue")
def overdue_cmd(
    mark: Annotated[
        bool, typer.Option("--mark", help="also record them as overdue in the store")
    ] = False,
    as_json: Json = False,
) -> None:
    """Interchanges we sent whose 997 is past due (exit 1 when there are any)."""
    from oms.edi import overdue, utcnow

    now = utcnow()
    with (store() if not mark else engine()).begin() as conn:
        late = overdue(conn, now, mark=mark)
    if as_json:
        dump_json(listing([o.as_json() for o in late], now=now))
    elif not late:
        out.print("no 997 is overdue", highlight=False)
    else:
        view = Table(title=f"997 overdue: {len(late)}", box=box.SIMPLE_HEAD)
        for col in ("partner", "ISA13", "file", "sent", "due", "late by"):
            view.add_column(col, overflow="fold")
        for o in late:
            behind = str(now - o.ack_due_at).split(".")[0]
            view.add_row(
                *map(cell, (o.partner, o.isa_control, o.file_name, at(o.sent_at))),
                cell(at(o.ack_due_at)),
                cell(behind),
            )
        out.print(view)
    if late:
        raise typer.Exit(EXIT_FAILED)


class GapKind(StrEnum):
    isa = "isa"
    gs = "gs"


@edi_app.command("gaps")
def gaps_cmd(
    partner: Annotated[str, typer.Argument(help="a configured partner")],
    kind: Annotated[GapKind, typer.Option("--kind", help="isa: ISA13, gs: GS06")] = GapKind.isa,
    as_json: Json = False,
) -> None:
    """Control numbers missing from what a partner sent (per sender id), as ranges."""
    from oms.edi import gaps
    from omshub.edi.partners import get_partner

    get_partner(partner)  # an unknown partner (or its broken file) is exit 2
    with store().connect() as conn:
        missing = gaps(conn, partner, kind.value)
    if as_json:
        found = [{**vars(g), "count": g.count} for g in missing]
        dump_json(listing(found, partner=partner, kind=kind.value))
        return
    if not missing:
        out.print(f"no gaps in {partner}'s {kind.value.upper()} numbers", highlight=False)
        return
    view = Table(title=f"{partner}: missing {kind.value.upper()} numbers", box=box.SIMPLE_HEAD)
    for col in ("sender", "first", "last", "count"):
        view.add_column(col)
    for g in missing:
        view.add_row(*map(cell, (g.sender, g.first, g.last, g.count)))
    out.print(view)
