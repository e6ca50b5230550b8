"""`omshub edi chain` and `omshub edi send` (filled in by the EDI work)."""

from __future__ import annotations

from omshub.cli.edi_cmds import edi_app

__all__ = ["edi_app"]
