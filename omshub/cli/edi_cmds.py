"""`omshub edi`: the group; its commands live in `edi_parse_cmds` and `edi_partner_cmds`."""

from __future__ import annotations

from omshub.cli.base import app, sub_app

edi_app = sub_app("EDI (ANSI X12): parse files, trading partners, control numbers.")
app.add_typer(edi_app, name="edi")
