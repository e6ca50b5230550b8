"""`omshub` command line. Every command calls the same functions the DAGs call.

The console script is `omshub = "omshub.cli:app"`. Commands live in one module per
group; importing them registers them on `app` (see `base` for exit codes and logging).
"""

from __future__ import annotations

from omshub.cli import (
    batch_cmds,
    docs_cmds,
    edi_cmds,
    edi_doc_cmds,
    edi_origin_cmds,
    edi_parse_cmds,
    edi_partner_cmds,
    quarantine_cmds,
    run_cmds,
    state_cmds,
    tool_cmds,
)
from omshub.cli.base import app

__all__ = [
    "app",
    "batch_cmds",
    "docs_cmds",
    "edi_cmds",
    "edi_doc_cmds",
    "edi_origin_cmds",
    "edi_parse_cmds",
    "edi_partner_cmds",
    "quarantine_cmds",
    "run_cmds",
    "state_cmds",
    "tool_cmds",
]
