"""X12 schemas as data: every shipped schema loads, versions resolve, overlays change one
partner's rules and refuse what they cannot find, broken files name themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.x12.schema import (
    SCHEMA_DIR,
    ElementSpec,
    LoopSpec,
    SegmentUse,
    X12SchemaError,
    apply_overlay,
    available,
    find_schema,
    load_overlay,
    load_schema,
    load_schema_file,
)

REQUIRED = {
    "850",
    "855",
    "856",
    "940",
    "945",
    "846",
    "810",
    "997",
    "860",
    "214",
    "180",
    "944",
    "947",
}


def _entries(entries: tuple[SegmentUse | LoopSpec, ...]) -> list[SegmentUse | LoopSpec]:
    out: list[SegmentUse | LoopSpec] = []
    for e in entries:
        out.append(e)
        if isinstance(e, LoopSpec):
            out += _entries(e.body)
    return out


def test_every_required_set_has_a_004010_schema() -> None:
    sets = {s for s, v in available() if v == "004010"}
    assert sets >= REQUIRED


@pytest.mark.parametrize("key", available(), ids=lambda k: ".".join(k))
def test_each_schema_loads_and_defines_its_first_segment(key: tuple[str, str]) -> None:
    set_id, version = key
    schema = load_schema(set_id, version)
    assert schema.set_id == set_id and schema.version == version
    assert schema.functional_group and len(schema.functional_group) == 2
    first = schema.body[0]
    assert isinstance(first, SegmentUse) and first.req == "M"
    # the beginning segment is described element by element, with something mandatory
    spec = schema.segment(first.seg)
    assert spec is not None and any(e is not None and e.req == "M" for e in spec.elements)
    for entry in _entries(schema.body):
        if isinstance(entry, LoopSpec):
            assert entry.trigger == entry.loop or entry.loop in {"HL"}, entry.loop


def test_850_structure_is_the_standard_one() -> None:
    schema = load_schema("850", "004010")
    po1 = schema.loop("PO1")
    assert po1 is not None and po1.req == "M" and po1.max == 100000
    pid = schema.loop("PO1/PID")
    assert pid is not None and [e.seg for e in pid.body if isinstance(e, SegmentUse)] == [
        "PID",
        "MEA",
    ]
    n1 = schema.loop("N1")
    assert n1 is not None and n1.max == 200
    beg = schema.segment("BEG")
    assert beg is not None
    purpose, kind, number = beg.elements[0], beg.elements[1], beg.elements[2]
    assert purpose is not None and purpose.codes is not None and "00" in purpose.codes
    assert kind is not None and kind.codes is not None and {"SA", "NE", "DS"} <= set(kind.codes)
    assert number == ElementSpec(ref=324, name="Purchase Order Number", req="M", min=1, max=22)
    # shared definitions (N1 from _segments.yaml) are merged in
    n1_spec = schema.segment("N1")
    assert n1_spec is not None and n1_spec.elements[0] is not None
    assert n1_spec.elements[0].ref == 98


def test_856_hl_levels_are_a_code_list() -> None:
    hl = load_schema("856", "004010").segment("HL")
    assert hl is not None and hl.elements[2] is not None
    assert {"S", "O", "T", "P", "I"} <= set(hl.elements[2].codes or ())


def test_versions_resolve_to_a_family_and_fall_back() -> None:
    assert load_schema("850", "004010VICS").version == "004010"
    assert load_schema("850", "004010X357").version == "004010"
    assert load_schema("810", "004030VICS").version == "004010"  # newest older family
    assert load_schema("997", "005010X230").version == "004010"
    assert load_schema("945", "21").version == "004010"  # not a version: the newest one
    assert find_schema("999", "004010") is None
    with pytest.raises(X12SchemaError, match="no X12 schema for set 999"):
        load_schema("999", "004010")


def test_compact_element_form() -> None:
    e = ElementSpec.model_validate("M ID 2/3 98 Entity Identifier Code")
    assert (e.req, e.type, e.min, e.max, e.ref, e.name) == (
        "M",
        "ID",
        2,
        3,
        98,
        "Entity Identifier Code",
    )
    e = ElementSpec.model_validate({"e": "O AN 1/30", "codes": ["A"]})
    assert e.ref is None and e.codes == ("A",)
    with pytest.raises(ValueError, match="expected 'REQ TYPE MIN/MAX"):
        ElementSpec.model_validate("M ID 98")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_schema_names_its_file_and_key(tmp_path: Path) -> None:
    bad = _write(
        tmp_path,
        "850.004010.yaml",
        'set: "850"\nversion: "004010"\nbody:\n  - {seg: BEG, max: 0}\n',
    )
    with pytest.raises(X12SchemaError, match=r"850\.004010\.yaml: body\.0.*max must be"):
        load_schema_file(bad)
    loop = _write(
        tmp_path,
        "x.yaml",
        'set: "1"\nversion: "1"\nbody:\n  - {loop: N1, body: [{loop: N2, body: [{seg: N2}]}]}\n',
    )
    with pytest.raises(X12SchemaError, match="trigger segment"):
        load_schema_file(loop)
    unsafe = _write(tmp_path, "y.yaml", "set: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(X12SchemaError, match=r"y\.yaml: invalid YAML"):
        load_schema_file(unsafe)
    extra = _write(tmp_path, "z.yaml", 'set: "1"\nversion: "1"\nbody: [{seg: A, color: red}]\n')
    with pytest.raises(X12SchemaError, match=r"z\.yaml: body\.0\.seg\.color"):
        load_schema_file(extra)


def test_an_overlay_changes_elements_and_usage(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "acme_850.yaml",
        'set: "850"\npartner: acme\nelements:\n  BEG02: {codes: [SA]}\n  REF02: {req: M}\n'
        "usage:\n  - {at: N1, req: M, max: 5}\n  - {at: PO1/PID, req: M}\n  - {at: CUR, req: M}\n",
    )
    base = load_schema("850", "004010")
    schema = apply_overlay(base, load_overlay(path))
    beg = schema.segment("BEG")
    assert beg is not None and beg.elements[1] is not None and beg.elements[1].codes == ("SA",)
    ref = schema.segment("REF")
    assert ref is not None and ref.elements[1] is not None and ref.elements[1].req == "M"
    n1, pid = schema.loop("N1"), schema.loop("PO1/PID")
    assert n1 is not None and (n1.req, n1.max) == ("M", 5)
    assert pid is not None and pid.req == "M"
    # the cached base schema is untouched
    assert base.loop("N1") is not None and base.loop("N1").req == "O"  # type: ignore[union-attr]
    base_beg = base.segment("BEG")
    assert base_beg is not None and base_beg.elements[1] is not None
    assert base_beg.elements[1].codes != ("SA",)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('set: "850"\nelements: {ZZZ01: {req: M}}\n', "unknown element ZZZ01"),
        ('set: "850"\nelements: {BEG99: {req: M}}\n', "unknown element BEG99"),
        ('set: "850"\nelements: {BEG: {req: M}}\n', "bad element reference 'BEG'"),
        ('set: "850"\nusage: [{at: PO1/XYZ, req: M}]\n', "no segment or loop at 'PO1/XYZ'"),
        ('set: "856"\n', "overlay for set 856 applied to a 850 schema"),
    ],
)
def test_an_overlay_refuses_what_it_cannot_find(tmp_path: Path, text: str, error: str) -> None:
    overlay = load_overlay(_write(tmp_path, "o.yaml", text))
    with pytest.raises(X12SchemaError, match=error):
        apply_overlay(load_schema("850", "004010"), overlay)


def test_schema_folder_is_data_only() -> None:
    names = sorted(p.name for p in SCHEMA_DIR.iterdir())
    assert all(n.endswith(".yaml") for n in names), names
