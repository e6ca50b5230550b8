"""Validation against a schema: each finding is one AK3 (tag, position with ST = 1, loop id,
AK304 code) with its AK4s (element position, AK403 code, data element number, bad value)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12sets import PO_BODY, st, tx

from connectors.x12.schema import apply_overlay, load_overlay, load_schema
from connectors.x12.validate import ElementProblem, SegmentProblem, validate

PO = load_schema("850", "004010")


def problems(body: list[str], set_id: str = "850") -> list[SegmentProblem]:
    t = tx(body, set_id)
    return validate(t, load_schema(set_id, t.group.version)).problems


def codes(body: list[str]) -> list[tuple[str, int, str, str, list[tuple[int, str]]]]:
    return [
        (p.tag, p.position, p.loop_id, p.code, [(e.position, e.code) for e in p.elements])
        for p in problems(body)
    ]


def with_line(index: int, line: str) -> list[str]:
    body = list(PO_BODY)
    body[index] = line
    return body


def test_a_clean_po_has_no_problem() -> None:
    t = tx(PO_BODY)
    result = validate(t, PO)
    assert result.ok and (result.set_id, result.control) == ("850", "0001")
    assert result.schema.endswith("850.004010.yaml")


@pytest.mark.parametrize(
    ("line", "element", "code", "bad"),
    [
        ("BEG*00*XX*PO123**20261203", 2, "7", "XX"),  # invalid code value
        ("BEG*00*SA*" + "P" * 23 + "**20261203", 3, "5", "P" * 23),  # too long
        ("BEG*00*SA*PO123**20261332", 5, "8", "20261332"),  # invalid date
        ("BEG*00*SA***20261203", 3, "1", ""),  # mandatory element missing
        ("BEG*0*SA*PO123**20261203", 1, "4", "0"),  # too short
        ("BEG*00*SA*PO123**20261203*******XY*Z", 13, "3", "Z"),  # too many elements
    ],
)
def test_element_errors_of_the_beginning_segment(
    line: str, element: int, code: str, bad: str
) -> None:
    found = problems(with_line(0, line))
    assert len(found) == 1
    p = found[0]
    assert (p.tag, p.position, p.code, p.loop_id) == ("BEG", 2, "8", "")
    assert [(e.position, e.code, e.bad_value) for e in p.elements] == [(element, code, bad)]


def test_element_reference_numbers_are_given() -> None:
    (p,) = problems(with_line(0, "BEG*00*XX*PO123**20261203"))
    assert p.elements == (ElementProblem(2, "7", "92", "XX", "'XX' is not a valid code"),)
    assert "BEG02" in p.describe() and "segment 2 BEG" in p.describe()


def test_numbers_and_times() -> None:
    found = codes(with_line(9, "PO1*1*1O*EA*4.25*PE*VN*A"))
    assert found == [("PO1", 11, "PO1", "8", [(2, "6")])]  # invalid character in a number
    assert codes(with_line(4, "DTM*002*20261210*2561")) == [("DTM", 6, "", "8", [(3, "9")])]
    assert codes(with_line(9, "PO1*1*-12.5*EA*.25")) == []  # sign and decimal point are fine


def test_missing_mandatory_segment_and_loop() -> None:
    body = [line for line in PO_BODY if not line.startswith(("BEG", "PO1", "PID", "PO4", "MEA"))]
    found = codes(body)
    end = len(body) + 2  # reported at the SE: where they were expected at the latest
    assert ("BEG", end, "", "3", []) in found
    assert ("PO1", end, "", "3", []) in found


def test_segment_over_its_maximum_use() -> None:
    body = [*PO_BODY[:2], "CUR*BY*CAD", *PO_BODY[2:]]
    assert codes(body) == [("CUR", 4, "", "5", [])]


def test_loop_over_its_maximum(tmp_path: Path) -> None:
    overlay = tmp_path / "o.yaml"
    overlay.write_text('set: "850"\nusage: [{at: N1, max: 1}]\n', encoding="utf-8")
    schema = apply_overlay(PO, load_overlay(overlay))
    found = validate(tx(PO_BODY), schema).problems
    assert [(p.tag, p.position, p.loop_id, p.code) for p in found] == [("N1", 10, "N1", "4")]


def test_unrecognized_and_unexpected_segments() -> None:
    body = [*PO_BODY[:9], "ZZZ*1", "CUR*BY*USD", *PO_BODY[9:]]
    found = codes(body)
    assert ("ZZZ", 11, "N1", "1", []) in found
    assert ("CUR", 12, "", "2", []) in found  # out of order: reported once, not also missing


def test_an_overlay_tightens_codes_and_requirements(tmp_path: Path) -> None:
    overlay = tmp_path / "acme.yaml"
    overlay.write_text(
        'set: "850"\npartner: acme\nelements: {BEG02: {codes: [NE]}}\n'
        "usage: [{at: PO1/PO4, req: M}]\n",
        encoding="utf-8",
    )
    schema = apply_overlay(PO, load_overlay(overlay))
    found = validate(tx(PO_BODY), schema).problems
    assert [(p.tag, p.code, p.loop_id, [e.code for e in p.elements]) for p in found] == [
        ("BEG", "8", "", ["7"]),
        ("PO4", "3", "PO1", []),  # the second PO1 has no PO4
    ]


def test_hl_pointers_are_checked() -> None:
    body = ["BSN*00*SH1*20261203*1415", "HL*1**S", "HL*2*7*O", "CTT*2"]
    found = problems(body, "856")
    assert [(p.tag, p.position, p.loop_id, p.code) for p in found] == [("HL", 4, "HL", "8")]
    assert found[0].elements[0].position == 2 and "HL02 7" in found[0].elements[0].message


def test_problems_are_sorted_by_position() -> None:
    body = with_line(0, "BEG*00*XX*PO123**20261203")
    body[4] = "DTM*002*2026"
    positions = [p.position for p in problems(body)]
    assert positions == sorted(positions) and len(positions) == 2


def test_a_partners_required_list() -> None:
    from connectors.x12.schema import overlay_from_required

    required = ["ST03", "REF*IA", "REF*ZZ", "TD5", "N1*ST", "N1*SF", "PO104"]
    schema = apply_overlay(PO, overlay_from_required("850", required, "acme_retail"))
    assert schema.required == tuple(required)
    body = with_line(9, "PO1*1*12*EA")
    found = validate(tx(body), schema).problems
    end = len(body) + 2
    assert [(p.tag, p.position, p.code, [e.position for e in p.elements]) for p in found] == [
        ("ST", 1, "8", [3]),  # ST03 is not there
        ("PO1", 11, "8", [4]),  # the first PO1 has no unit price
        ("REF", end, "3", []),
        ("TD5", end, "3", []),
        ("N1", end, "3", []),
    ]
    assert [p.message for p in found if p.code == "3"] == [
        "REF*ZZ is missing (required by the partner)",
        "TD5 is missing (required by the partner)",
        "N1*SF is missing (required by the partner)",
    ]


def test_a_required_list_is_checked_on_load() -> None:
    from pydantic import ValidationError

    from connectors.x12.schema import overlay_from_required

    with pytest.raises(ValidationError):
        overlay_from_required("850", ["REF-IA"])


def test_six_digit_dates_before_004010() -> None:
    from x12text import group, interchange, render

    from connectors.x12 import iter_transactions

    def check(version: str, date: str) -> list[tuple[int, str]]:
        gs = group(st(with_line(0, f"BEG*00*SA*PO123**{date}")))
        gs[0] = gs[0].replace("*004010", f"*{version}")
        (t,) = iter_transactions(render(interchange(gs)))
        return [(e.position, e.code) for p in validate(t, PO).problems for e in p.elements]

    assert check("003010", "070629") == []  # YYMMDD was the date then
    assert check("003010", "071332") == [(5, "8")]
    assert check("004010", "070629") == [(5, "4")]  # too short from 004010 on


def test_one_problem_per_segment() -> None:
    from connectors.x12.schema import overlay_from_required

    schema = apply_overlay(PO, overlay_from_required("850", ["BEG04"]))
    (p,) = validate(tx(with_line(0, "BEG*00*XX*PO123**20261203")), schema).problems
    assert (p.tag, p.position, p.code) == ("BEG", 2, "8")
    assert [(e.position, e.code) for e in p.elements] == [(2, "7"), (4, "1")]
    assert "BEG04 is missing (required by the partner)" in p.message
