"""`omshub edi send` and `omshub edi chain`: outbound documents and an order's chain.

`send` writes the store (it queues and registers what it sends) and migrates the store
like any writing command; `chain` only reads and refuses a store behind the schema.
Exit codes as everywhere (`omshub.cli.base`): `send` ends 2 for a set the partner does
not receive, 1 for a key with no rows or a delivery that failed (the file stays pending);
`chain` ends 1 when nothing is registered for the PO.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from omshub.cli import checks
from omshub.cli.base import EXIT_FAILED, at, cell, dump_json, engine, fail, out, store
from omshub.cli.edi_cmds import edi_app
from omshub.cli.output import listing

__all__ = ["edi_app"]

Json = Annotated[bool, typer.Option("--json", help="machine-readable")]


@edi_app.command("send")
def send_cmd(
    partner: Annotated[
        str, typer.Argument(metavar="PARTNER", help="partner id (config/partners/<id>.yaml)")
    ],
    set_id: Annotated[str, typer.Argument(metavar="SET", help="855, 856, 810, 940, 846")],
    keys: Annotated[
        list[str],
        typer.Argument(
            metavar="KEY...",
            help="order numbers (855, 940), tracking or order numbers (856, 810), locations"
            " (846); origin:number or carrier:tracking when one is ambiguous",
        ),
    ],
    as_json: Json = False,
) -> None:
    """Generate SET from the store for each KEY, queue it as one interchange to PARTNER
    and deliver it over the partner's transport."""
    from omshub.edi.send import send

    report = send(engine(), partner, set_id, keys)
    if as_json:
        dump_json(report.as_json())
    else:
        out.print(
            f"queued {len(report.references)} x {report.set_id} to {report.partner}:"
            f" ISA13 {report.isa_control}, {report.file}",
            highlight=False,
            soft_wrap=True,
        )
        for path in report.delivered:
            out.print(f"delivered {path}", highlight=False, soft_wrap=True)
    if report.error:
        fail(str(report.error), EXIT_FAILED)


@edi_app.command("chain")
def chain_cmd(
    po: Annotated[str, typer.Argument(metavar="PO", help="the PO (order) number")],
    partner: Annotated[str | None, typer.Option("--partner", help="one partner")] = None,
    as_json: Json = False,
) -> None:
    """Every document in and out about PO: set, control numbers, file, when, 997 state."""
    from omshub.edi.chain import chain

    now = dt.datetime.now(dt.UTC)
    with store().connect() as conn:
        if not checks.configured_partner(partner) and not chain(conn, po, partner, now):
            raise checks.unknown_partner(str(partner))
        entries = chain(conn, po, partner, now)
    if as_json:
        dump_json(listing([e.as_json() for e in entries], reference=po, partner=partner))
    if not entries:
        who = f" with partner {partner}" if partner else ""
        fail(f"no EDI document registered for {po!r}{who}", EXIT_FAILED)
    if as_json:
        return
    view = Table(title=f"EDI chain of {po}: {len(entries)} documents", box=box.SIMPLE_HEAD)
    for col in ("when", "dir", "partner", "set", "ISA13", "GS06", "ST02", "file", "997"):
        view.add_column(col, overflow="fold")
    for e in entries:
        flag = " (outstanding)" if e.outstanding and not e.overdue else ""
        view.add_row(
            *map(cell, (at(e.at), e.direction, e.partner, e.set_id, e.isa13, e.gs06, e.st02)),
            cell(e.file),
            cell(e.ack + flag),
            style="red" if e.overdue or e.ack == "rejected" else None,
        )
    out.print(view)
