"""Each trading partner's inbox as a source (`edi_<partner>`): one DAG, one run lock, the
same landing, batches, retries, stats and CLI as every other source.

The source is derived from the partner's YAML, never written by hand: its transport reads
the partner's inbox (claiming each file, archiving it once loaded, moving it to the error
folder when it cannot be), and its one stream reads X12 with no mapping of its own: each
transaction set is routed by its set id to the partner's mapping (`omshub.edi.batch`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oms.errors import ConfigError
from omshub.edi.partnerconfig import PartnerConfig

PREFIX = "edi_"
INBOX_STREAM = "inbox"


def source_name(partner_id: str) -> str:
    return f"{PREFIX}{partner_id}"


def _connector(p: PartnerConfig) -> dict[str, Any]:
    t = p.transport
    if t.type == "local_folder":
        # a folder on this machine (demos, local tests): files are read in place, each
        # file once (landing keeps the copy); archive/error are for the partner's server
        return {"type": "local_folder", "path": t.inbox}
    return {
        "type": "sftp",
        "conn_id": t.conn_id,
        "path": t.inbox,
        "archive_dir": t.archive,
        "error_dir": t.error,
    }


def partner_source(p: PartnerConfig) -> Any:
    """The `SourceConfig` of a partner's inbox."""
    from omshub.config import SourceConfig

    return SourceConfig.model_validate(
        {
            "name": source_name(p.id),
            "system": p.id,
            "kind": "edi",
            "description": f"EDI inbox of {p.name} (config/partners/{Path(p.file).name})",
            "connector": _connector(p),
            "schedule": p.schedule or "*/15 * * * *",
            "reject_threshold": 1.0,  # refused sets are answered by the 997, not by failing
            "streams": [
                {
                    "name": INBOX_STREAM,
                    "pattern": p.transport.pattern,
                    "format": {"type": "x12"},
                    "mapping": None,
                    "routes": dict(p.inbound.sets),
                }
            ],
            "tags": ["edi", p.id],
            "file": p.file,
        }
    )


def partner_sources(folder: Path) -> tuple[dict[str, Any], dict[str, ConfigError]]:
    """Every partner's inbox source, and why each broken partner file has none."""
    from omshub.edi.partners import broken_partners, partners

    good: dict[str, Any] = {}
    broken = {source_name(stem): e for stem, e in broken_partners(folder).items()}
    for p in partners(folder).values():
        try:
            good[source_name(p.id)] = partner_source(p)
        except (ConfigError, ValueError) as e:
            broken[source_name(p.id)] = ConfigError(f"{p.file}: inbox source: {e}")
    return good, broken


def inbox_partner(source: Any) -> str | None:
    """The partner whose inbox `source` is (a source derived from its partner file), or
    None for any other source, a hand-written x12 source among them (it takes files from
    any known partner)."""
    from omshub.edi.partners import partners

    if source.kind != "edi":
        return None
    p = partners().get(source.system)
    return p.id if p is not None and source.file == p.file else None
