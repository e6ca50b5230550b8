"""Throwaway projects with an EDI trading partner, for the inbox tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt

    from connectors.x12.writer import GroupSpec

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_850 = ROOT / "mappings/edi/samples/po_850.x12"


def acme_partner(inbox: str, outbox: str, pattern: str = "*") -> str:
    """ACME Retail (the ids of the sample 850s) on a local folder; its 850s -> edi/po_850."""
    return f"""\
id: acme_retail
name: ACME Retail Corp.
usage: P
us: {{qualifier: ZZ, id: OMSHUB, application_code: OMSHUB}}
them: {{qualifier: "01", id: "007123456", application_code: ACMERETAIL}}
outbound: {{isa_version: "00401", gs_version: "004010VICS"}}
inbound:
  sets: {{"850": edi/po_850.yaml, "860": null}}
transport:
  type: local_folder
  inbox: {inbox}
  outbox: {outbox}
  archive: archive
  error: error
  pattern: "{pattern}"
"""


def harborline_partner(
    partner_id: str,
    inbound: str,
    outbound: str = "",
    inbox: str = "drop",
    outbox: str = "partner_out",
) -> str:
    """Harborline 3PL (the ids of its sample 945s) on a local folder.

    `inbound` is the inbound set map in YAML flow form ('{"945": edi/whse_945.yaml}'),
    `outbound` the outbound one ('' = none).
    """
    sets = f", sets: {outbound}" if outbound else ""
    return f"""\
id: {partner_id}
name: Harborline 3PL
usage: P
us: {{qualifier: ZZ, id: OMSHUB, application_code: OMSHUB}}
them: {{qualifier: ZZ, id: HARBORLINE, application_code: HARBORWMS}}
outbound: {{isa_version: "00401", gs_version: "004010"{sets}}}
inbound: {{sets: {inbound}}}
transport: {{type: local_folder, inbox: {inbox}, outbox: {outbox}, archive: archive, error: error}}
"""


def edi_project(home: Path, partners: dict[str, str]) -> Path:
    """A project with the EDI mappings, the ownership rules and `partners` (id -> YAML)."""
    for sub in ("config/sources", "config/partners", "mappings"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config/ownership.yaml", home / "config")
    shutil.copytree(ROOT / "mappings/edi", home / "mappings/edi")
    for pid, text in partners.items():
        (home / "config/partners" / f"{pid}.yaml").write_text(text, encoding="utf-8")
    return home


ACME_FOLDER_INBOX = """\
name: acme_edi
system: acme_retail
kind: edi
connector: {type: local_folder, path: drop, claim: true}
retries: 0
reject_threshold: 1.0  # a refused set is answered by the 997, the rest loads
streams:
  - name: inbox
    pattern: "*.x12"
    format: {type: x12}
    mapping: null
    routes: {"850": edi/po_850.yaml, "860": null}
"""


def acme_folder_inbox(home: Path) -> Path:
    """A project with the ACME partner and a folder inbox `drop/` (source `acme_edi`) whose
    850s go to edi/po_850 and whose 860s are answered but not mapped."""
    edi_project(home, {"acme_retail": acme_partner("drop", "partner_out")})
    (home / "drop").mkdir()
    (home / "config/sources/acme_edi.yaml").write_text(ACME_FOLDER_INBOX, encoding="utf-8")
    return home


def shipping_advice(po: str) -> bytes:
    """Harborline's 945 for the order: shipped from DC 3 by UPS, both lines in full."""
    body = [
        ("W06", ["F", po, "20261203", "SH-RT-1"]),
        ("N1", ["SF", "HARBORLINE DC 3", "9", "HL3"]),
        ("N9", ["CN", "1Z999AA10123456784"]),
        ("G62", ["11", "20261203", "8", "1400"]),
        ("W27", ["M", "UPSN", "UPS Ground"]),
        ("LX", ["1"]),
        ("W12", ["CC", "12", "12", "", "EA", "", "VN", "WID-100"]),
        ("N9", ["LI", "1"]),
        ("LX", ["2"]),
        ("W12", ["CC", "5", "5", "", "EA", "", "VN", "GAD-200"]),
        ("N9", ["LI", "2"]),
        ("W03", ["17", "18.5", "LB"]),
    ]
    import datetime as dt

    from connectors.x12.writer import GroupSpec, TransactionSpec

    group = GroupSpec("SW", "HARBORWMS", "OMSHUB", 311, "004010", [TransactionSpec("945", 1, body)])
    return from_harborline(group, dt.datetime(2026, 12, 3, 17, 5, tzinfo=dt.UTC))


def from_harborline(group: GroupSpec, when: dt.datetime) -> bytes:
    """An interchange from Harborline (ZZ HARBORLINE) to us holding `group` (a
    `GroupSpec`), its ISA13 the group's GS06."""
    from connectors.x12 import Delimiters
    from connectors.x12.writer import build_interchange

    return build_interchange(
        sender=("ZZ", "HARBORLINE"),
        receiver=("ZZ", "OMSHUB"),
        control=group.control,
        usage="P",
        version="00401",
        delimiters=Delimiters("*", ">", "~"),
        groups=[group],
        when=when,
    )
