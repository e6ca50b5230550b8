"""Trading-partner YAML: the shipped partners validate, a broken file names its file, line
and key and breaks only its own partner, secrets are refused, and an inbound ISA finds
its partner (or says clearly why not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oms.errors import ConfigError
from omshub.edi.partners import (
    PartnerConfigError,
    UnknownPartner,
    broken_partners,
    find_partner,
    get_partner,
    load_partner,
    partners,
)

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "config" / "partners"
SFTP = """transport:
  conn_id: acme_retail_sftp
  inbox: /acme/in
  outbox: /acme/out
  archive: /acme/in/archive
  error: /acme/in/error
"""


def _in_production(text: str) -> str:
    """The shipped file (a demo folder inbox) with its documented SFTP transport instead."""
    start = text.index("transport:")
    end = text.index("\nack:", start) + 1
    return text[:start] + SFTP + "\n" + text[end:]


ACME = _in_production((SHIPPED / "acme_retail.yaml").read_text(encoding="utf-8"))


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_shipped_partners_validate(tmp_path: Path) -> None:
    assert broken_partners(SHIPPED) == {}
    acme, harbor = partners(SHIPPED)["acme_retail"], partners(SHIPPED)["harborline_3pl"]
    assert (acme.them.qualifier, acme.them.id, acme.us.id) == ("01", "007123456", "OMSHUB")
    assert (acme.outbound.isa_version, acme.outbound.gs_version) == ("00401", "004010VICS")
    assert acme.outbound.delimiters.suffix == "\n" and acme.outbound.delimiters.repetition is None
    assert acme.sends("850") and acme.sends("860") and acme.sends("997")
    assert acme.receives("856") and acme.receives("997") and not acme.receives("850")
    assert acme.required["856"] == ["ST03", "REF*IA", "TD5", "N1*ST"]
    assert acme.functional_id("856") == "SH"
    assert (acme.transport.type, acme.transport.inbox) == (
        "local_folder", "demo/partners/acme_retail/inbox"
    )  # fmt: skip
    assert load_partner(write(tmp_path, "acme_retail", ACME)).transport.conn_id == (
        "acme_retail_sftp"
    )
    assert harbor.outbound.delimiters.repetition == "^" and harbor.ack.ta1 == "never"
    assert harbor.receives("940") and harbor.sends("945") and harbor.sends("846")
    assert harbor.ack.expect_997_hours == 4
    assert (harbor.schedule, harbor.transport.pattern, harbor.transport.type) == (
        "*/5 * * * *", "*.edi", "local_folder"
    )  # fmt: skip
    assert (acme.schedule, acme.transport.pattern) == (None, "*.x12")
    assert acme.inbound.sets == {
        "850": "edi/po_850.yaml",
        "860": "edi/po_change_860.yaml",
        "180": "edi/return_180.yaml",
    }
    for p in (acme, harbor):  # every mapping a partner routes to exists
        for mapping in filter(None, p.inbound.sets.values()):
            assert (ROOT / "mappings" / mapping).is_file(), mapping


@pytest.mark.parametrize(
    ("change", "needle", "where", "message"),
    [
        (("  conn_id: acme_retail_sftp", "  conn_id: x\n  password: hunter2"), "password",
         "transport.password", "secrets belong in an Airflow connection"),
        (("  send_997: true", "  send_997s: true"), "send_997s", "ack.send_997s",
         "Extra inputs"),
        (('gs_version: "004010VICS"', 'gs_version: "005010"'), "gs_version",
         "outbound.gs_version", "not of isa_version 00401"),
        (('    suffix: "\\n"', '    suffix: "\\n"\n    repetition: "^"'), "repetition",
         "outbound.delimiters.repetition", "no repetition separator"),
        (('  "855": ["REF*IA"]', '  "940": ["REF*IA"]'), '"940"', "required.940",
         "not a set this partner sends or receives"),
        (('  "855": ["REF*IA"]', '  "855": ["ref ia"]'), '"855": ["ref', "required.855",
         "is not a segment"),
        (('    "810": invoice_810', '    "810": invoice_810\n    "997": ack'), '"997"',
         "outbound.sets.997", "configured under `ack:`"),
        (('    "810": invoice_810', '    "811": invoice_810'), '"811"', "outbound.sets.811",
         "unknown transaction set"),
        (('    sub_element: ">"', '    sub_element: "*"'), "delimiters:",
         "outbound.delimiters", "must all differ"),
        (('  qualifier: "01"', "  qualifier: 01"), "qualifier: 01", "them.qualifier",
         "write it in quotes"),
        (('  id: "007123456"', '  id: "0071234567890123"'), "0071234567890123", "them.id",
         "1-15 printable"),
        (("  application_code: ACMERETAIL", "  application_code: ACME*RETAIL"), "ACME*",
         "them.application_code", "one of outbound.delimiters"),
        (("  outbox: /acme/out\n", ""), "transport:", "transport.outbox", "Field required"),
        (("usage: P ", "usage: X "), "usage: X", "usage", "'T' or 'P'"),
        (("  conn_id: acme_retail_sftp", "  type: sftp"), "type: sftp", "transport.conn_id",
         "required for sftp"),
    ],
)  # fmt: skip
def test_errors_name_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], needle: str, where: str, message: str
) -> None:
    assert change[0] in ACME
    text = ACME.replace(change[0], change[1])
    path = write(tmp_path, "acme_retail", text)
    with pytest.raises(PartnerConfigError) as caught:
        load_partner(path)
    e = caught.value
    assert (e.file, e.key) == (str(path), where)
    if where not in ("transport.outbox", "transport.conn_id"):  # missing: at its block
        assert e.line == line_of(text, needle)
    assert str(e).startswith(f"{path}:{e.line} {where}: ") and message in str(e)


def test_one_broken_file_breaks_only_its_partner(tmp_path: Path) -> None:
    folder = tmp_path / "partners"
    write(folder, "acme_retail", ACME)
    write(folder, "harborline_3pl", (SHIPPED / "harborline_3pl.yaml").read_text())
    write(folder, "broken", ACME.replace("\nid: acme_retail\n", "\nid: broken\nfoo: 1\n"))
    write(folder, "not_yaml", "id: [unclosed\n")
    write(folder, "twin", ACME)  # the same id again
    write(folder, "empty", "")
    assert sorted(partners(folder)) == ["acme_retail", "harborline_3pl"]
    broken = broken_partners(folder)
    assert sorted(broken) == ["broken", "empty", "not_yaml", "twin"]
    assert "foo: Extra inputs" in str(broken["broken"])
    assert "not_yaml.yaml:2: invalid YAML" in str(broken["not_yaml"])
    assert "also defined in" in str(broken["twin"]) and "is empty" in str(broken["empty"])
    assert all(isinstance(e, ConfigError) for e in broken.values())
    assert get_partner("acme_retail", folder).id == "acme_retail"
    with pytest.raises(ConfigError, match="foo: Extra inputs"):
        get_partner("broken", folder)
    with pytest.raises(UnknownPartner, match=r"unknown partner 'nobody' \(known: acme_retail"):
        get_partner("nobody", folder)


def test_find_partner_from_an_inbound_isa(tmp_path: Path) -> None:
    assert find_partner("01", "007123456      ", "ZZ", "OMSHUB         ", SHIPPED).id == (
        "acme_retail"
    )
    assert find_partner("ZZ", "HARBORLINE", "ZZ", "OMSHUBWMS", SHIPPED).id == "harborline_3pl"
    with pytest.raises(UnknownPartner, match="sender known as harborline_3pl, but sent to"):
        find_partner("ZZ", "HARBORLINE", "ZZ", "OMSHUB", SHIPPED)
    with pytest.raises(UnknownPartner, match="ISA sender ZZ/NOBODY receiver ZZ/OMSHUB: no partner"):
        find_partner("ZZ", "NOBODY", "ZZ", "OMSHUB", SHIPPED)
    folder = tmp_path / "partners"
    write(folder, "acme_retail", ACME)
    write(folder, "acme_again", ACME.replace("\nid: acme_retail\n", "\nid: acme_again\n"))
    write(folder, "broken", "id: [")
    with pytest.raises(UnknownPartner, match=r"ambiguous.*acme_again.*acme_retail"):
        find_partner("01", "007123456", "ZZ", "OMSHUB", folder)
    with pytest.raises(UnknownPartner, match="broken partner files: broken"):
        find_partner("ZZ", "NOBODY", "ZZ", "OMSHUB", folder)


def test_a_local_folder_inbox_needs_no_connection(tmp_path: Path) -> None:
    text = ACME.replace("  conn_id: acme_retail_sftp", "  type: local_folder")
    cfg = load_partner(write(tmp_path, "acme_retail", text))
    assert (cfg.transport.type, cfg.transport.conn_id) == ("local_folder", None)


def test_set_ids_may_be_written_as_numbers(tmp_path: Path) -> None:
    text = ACME.replace('"850":', "850:").replace('"856": [', "856: [")
    cfg = load_partner(write(tmp_path, "acme_retail", text))
    assert "850" in cfg.inbound.sets and "856" in cfg.required
