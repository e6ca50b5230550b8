"""`omshub edi origin`: which file, ISA13/GS06/ST02 and segment a store row came from.

Read-only: refuses a store behind the schema. Exit code 1 when the row has no EDI origin
(never loaded from X12, or no such row).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from omshub.cli.base import EXIT_FAILED, at, cell, dump_json, fail, out, store
from omshub.cli.edi_cmds import edi_app
from omshub.cli.output import listing
from omshub.timefmt import iso

__all__ = ["edi_app"]


@edi_app.command("origin")
def origin_cmd(
    entity: Annotated[str, typer.Argument(metavar="ENTITY", help="sales_order, order_line...")],
    key: Annotated[
        str,
        typer.Argument(
            metavar="KEY",
            help="the row's id, its natural key as a/b (acme_retail/4500012345/2) or the"
            " key's last part (4500012345)",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """The X12 sets ENTITY KEY was loaded from, newest first: file, partner, ISA13, GS06,
    ST02, the loop segment, and each field's element and segment number."""
    from oms.ediorigin import find

    with store().connect() as conn:
        found = find(conn, entity, key)
    if as_json:
        dump_json(listing([{**o.as_json(), "loaded_at": iso(o.loaded_at)} for o in found]))
    if not found:
        fail(f"no EDI origin recorded for {entity} {key!r}", EXIT_FAILED)
    if as_json:
        return
    for o in found:
        view = Table(
            title=f"{o.entity} {o.row_key or o.row_id}: {o.st01} from {o.partner}",
            box=box.SIMPLE_HEAD,
        )
        view.add_column("what")
        view.add_column("where", overflow="fold")
        for what, where in (
            ("file", o.file_name),
            ("batch", o.batch_id),
            ("ISA13 / GS06 / ST02", f"{o.isa_control} / {o.gs06} / {o.st02}"),
            ("loop segment", o.segment),
            ("loaded", at(o.loaded_at)),
            *sorted(o.fields.items()),
        ):
            view.add_row(cell(what), cell(where))
        out.print(view)
