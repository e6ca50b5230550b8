"""The X12 writer: fixed ISA widths, computed counts and trailers, refused values, round trips."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from typing import Any

import pytest
from pyx12.x12file import X12Reader

from connectors.x12.model import Delimiters, Segment
from connectors.x12.reader import read_document
from connectors.x12.writer import (
    Element,
    GroupSpec,
    Repeated,
    SegmentInput,
    TransactionSpec,
    X12EnvelopeError,
    X12ValueError,
    build_interchange,
    elements_of,
    format_segment,
)
from oms.errors import ConfigError, DataError

WHEN = datetime(2026, 12, 3, 6, 5, 9)
STANDARD = Delimiters("*", ":", "~", "^")
PO_BODY: list[tuple[str, list[Element]]] = [
    ("BEG", ["00", "SA", "PO-1001", "", "20261203"]),
    ("REF", ["DP", "038"]),
    ("PO1", ["1", "12", "EA", "9.95", "", "UP", "012345678905"]),
    ("PID", ["F", "", "", "", "Widget, blue (large) & co."]),
    ("MEA", ["PD", "WT", "1.5", ("LB", "", "", "2")]),
    ("CTT", ["1"]),
]


def interchange(
    delimiters: Delimiters = STANDARD, version: str = "00501", line_end: str = "", **kw: Any
) -> bytes:
    groups = kw.pop("groups", None) or [
        GroupSpec(
            "PO",
            "OMSHUB",
            "ACME",
            7,
            "005010" if version >= "00501" else "004010",
            [("850", 1, PO_BODY), TransactionSpec("850", "0002", PO_BODY[:2], "X12-PO")],
        ),
        GroupSpec("IN", "OMSHUB", "ACME", 8, "004010", [("810", 3, [("BIG", ["20261203", "I1"])])]),
    ]
    args: dict[str, Any] = {
        "sender": ("ZZ", "OMSHUB"),
        "receiver": ("12", "5551234567"),
        "control": 42,
        "usage": "T",
        "version": version,
        "delimiters": delimiters,
        "groups": groups,
        "when": WHEN,
        "line_end": line_end,
    }
    args.update(kw)
    return build_interchange(**args)


def segments(data: bytes, terminator: str = "~", line_end: str = "") -> list[str]:
    return [s for s in data.decode("ascii").split(terminator + line_end) if s]


def test_isa_has_fixed_widths_and_derived_fields() -> None:
    data = interchange()
    isa = data[:106].decode()
    assert data[105:106] == b"~"
    fields = isa[:-1].split("*")
    assert len(fields) == 17
    assert fields[6] == "OMSHUB".ljust(15) and fields[8] == "5551234567".ljust(15)
    assert (fields[5], fields[7]) == ("ZZ", "12")
    assert (fields[9], fields[10]) == ("261203", "0605")
    assert (fields[11], fields[12], fields[13]) == ("^", "00501", "000000042")
    assert (fields[14], fields[15], fields[16]) == ("0", "T", ":")
    assert fields[2] == " " * 10 and fields[4] == " " * 10
    old = interchange(Delimiters("*", ">", "~"), version="00401")[:106].decode()
    assert old.split("*")[11] == "U" and old[104] == ">"


def test_trailers_count_and_echo_control_numbers() -> None:
    segs = segments(interchange())
    assert segs[1] == "GS*PO*OMSHUB*ACME*20261203*0605*7*X*005010"
    assert segs[2] == "ST*850*0001"
    assert segs[9] == "SE*8*0001"  # ST + 6 body + SE
    assert segs[10] == "ST*850*0002*X12-PO"
    assert segs[13] == "SE*4*0002"
    assert segs[14] == "GE*2*7"
    assert segs[15:17] == ["GS*IN*OMSHUB*ACME*20261203*0605*8*X*004010", "ST*810*0003"]
    assert segs[17:20] == ["BIG*20261203*I1", "SE*3*0003", "GE*1*8"]
    assert segs[-1] == "IEA*2*000000042"


def test_trailing_empty_elements_and_components_are_dropped() -> None:
    assert format_segment("N1", ["ST", "", "", ""], STANDARD) == "N1*ST~"
    assert format_segment("MEA", ["", ("LB", "", "")], STANDARD) == "MEA**LB~"
    with pytest.raises(X12ValueError, match="not a segment tag"):
        format_segment("B*G", ["00"], STANDARD)
    rep = format_segment("HI", [Repeated((("BK", "8901"), ("BF", "87200")))], STANDARD)
    assert rep == "HI*BK:8901^BF:87200~"


@pytest.mark.parametrize(
    ("value", "delimiter"),
    [("A*B", "*"), ("A:B", ":"), ("A~B", "~"), ("A^B", "^"), ("line\nbreak", "\n")],
)
def test_a_value_holding_a_delimiter_is_refused(value: str, delimiter: str) -> None:
    body: list[SegmentInput] = [("BEG", ["00", "SA", value])]
    groups = [GroupSpec("PO", "OMSHUB", "ACME", 7, "005010", [("850", 1, body)])]
    with pytest.raises(X12ValueError) as caught:
        interchange(groups=groups)
    assert isinstance(caught.value, DataError)
    assert "BEG03" in str(caught.value) and "set 850 0001 segment 2" in str(caught.value)
    assert repr(delimiter) in str(caught.value)


def test_a_component_holding_a_delimiter_is_refused() -> None:
    with pytest.raises(X12ValueError, match=r"MEA04-02"):
        format_segment("MEA", ["PD", "WT", "1", ("LB", "a*b")], STANDARD)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sender": ("ZZ", "A" * 16)}, "ISA06"),
        ({"receiver": ("ZZZ", "ACME")}, "ISA07"),
        ({"control": 0}, "ISA13"),
        ({"control": 1_000_000_000}, "ISA13"),
        ({"usage": "X"}, "ISA15"),
        ({"version": "4010"}, "ISA12"),
        ({"delimiters": Delimiters("*", ":", "~", None)}, "ISA11"),
        ({"delimiters": Delimiters("*", "*", "~", "^")}, "delimiters"),
        ({"delimiters": Delimiters("*", "A", "~", "^")}, "delimiters"),
        ({"sender": ("ZZ", "OMS*HUB")}, "ISA06"),
        ({"line_end": "\t"}, "line_end"),
    ],
)
def test_bad_envelope_arguments_are_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises((X12EnvelopeError, X12ValueError)) as caught:
        interchange(**change)
    assert str(caught.value).split(":")[0].endswith(field) or field in str(caught.value)


def test_id_too_long_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^ISA08: 'ACME-CORPORATION-EAST' is longer than 15"):
        interchange(receiver=("ZZ", "ACME-CORPORATION-EAST"))


def test_group_and_set_control_numbers_are_checked() -> None:
    bad_set = [GroupSpec("PO", "A", "B", 1, "004010", [("850", "01", PO_BODY)])]
    with pytest.raises(X12EnvelopeError, match="ST02"):
        interchange(Delimiters("*", ":", "~"), version="00401", groups=bad_set)
    bad_group = [GroupSpec("PO", "A", "B", 0, "004010", [("850", 1, PO_BODY)])]
    with pytest.raises(X12EnvelopeError, match="GS06"):
        interchange(Delimiters("*", ":", "~"), version="00401", groups=bad_group)


def test_non_ascii_is_refused_with_its_segment_and_utf8_can_be_chosen() -> None:
    body: list[SegmentInput] = [("N1", ["ST", "Café Zürich"])]
    groups = [GroupSpec("PO", "A", "B", 1, "005010", [("850", 1, body)])]
    with pytest.raises(X12ValueError, match=r"segment 4: character 10: character 'é' is not ascii"):
        interchange(groups=groups)
    assert "Café".encode() in interchange(groups=groups, encoding="utf-8")


def test_repetition_needs_a_version_that_has_it() -> None:
    body: list[SegmentInput] = [("HI", [Repeated(("A", "B"))])]
    groups = [GroupSpec("HC", "A", "B", 1, "004010", [("837", 1, body)])]
    with pytest.raises(X12ValueError, match="repetition separator"):
        interchange(Delimiters("*", ":", "~"), version="00401", groups=groups)


ODD = [
    Delimiters("|", "^", "~", "!"),
    Delimiters("^", "|", "\x7f", "!"),
    Delimiters("\x7f", "!", "|", "^"),
    Delimiters("!", "\\", "'", "^"),
    Delimiters("*", ">", "~", "^"),
]


@pytest.mark.parametrize("line_end", ["", "\n", "\r\n"])
@pytest.mark.parametrize("odd", ODD, ids=lambda d: repr(d.element + d.sub_element + d.segment))
def test_odd_delimiters_round_trip_through_pyx12(odd: Delimiters, line_end: str) -> None:
    """Written in odd delimiters, read back by pyx12: the same segments as in '*:~^'."""
    expected = segments(interchange(STANDARD))
    data = interchange(odd, line_end=line_end)
    reader = X12Reader(StringIO(data.decode("ascii")))
    assert (reader.seg_term, reader.ele_term, reader.subele_term) == (
        odd.segment,
        odd.element,
        odd.sub_element,
    )
    got = []
    for seg in reader:
        got.append(seg.format("", "*", ":").replace(odd.repetition or "\0", "^"))
        assert reader.pop_errors() == []  # counts and control numbers agree
    got[0] = got[0][:-1] + ":"  # ISA16 is the sub-element separator itself
    assert got == expected


def test_a_read_segment_is_written_again_in_another_partners_delimiters() -> None:
    source = Delimiters("*", ":", "~", "^")
    read = Segment("SV1", ["HC:99213:25", "100", "UN", "1", "", "", "1^2"], 5, 200)
    elements = elements_of(read, source)
    assert elements[0] == ("HC", "99213", "25")
    assert elements[6] == Repeated(("1", "2"))
    target = Delimiters("|", ">", "\n", "!")
    assert format_segment("SV1", elements, target) == "SV1|HC>99213>25|100|UN|1|||1!2\n"
    groups = [GroupSpec("HC", "A", "B", 1, "005010", [("837", 1, [read])])]
    data = interchange(target, groups=groups, source=source)
    assert b"SV1|HC>99213>25|100|UN|1|||1!2\n" in data


@pytest.mark.parametrize("line_end", ["", "\n"])
@pytest.mark.parametrize("odd", ODD, ids=lambda d: repr(d.element + d.sub_element + d.segment))
def test_odd_delimiters_round_trip_through_our_reader(odd: Delimiters, line_end: str) -> None:
    """Our reader finds the same delimiters, envelope and segments, and no issue at all."""
    doc = read_document(interchange(odd, line_end=line_end))
    assert doc.clean, doc.issues()
    (node,) = doc.interchanges
    ic = node.interchange
    assert ic.delimiters == odd
    assert (ic.sender_id, ic.receiver_qualifier, ic.receiver_id) == ("OMSHUB", "12", "5551234567")
    assert (ic.control, ic.usage, ic.version) == ("000000042", "T", "00501")
    assert [g.group.control for g in node.groups] == ["7", "8"]
    sets = list(doc.transactions())
    assert [(t.set_id, t.control, t.implementation) for t in sets] == [
        ("850", "0001", ""),
        ("850", "0002", "X12-PO"),
        ("810", "0003", ""),
    ]
    read = [(s.tag, elements_of(s, odd)) for s in sets[0].segments]
    assert read == [(tag, list(elements)) for tag, elements in PO_BODY]
    assert [s.tag for s in sets[1].segments] == ["BEG", "REF"]


def test_a_repeated_element_round_trips_through_our_reader() -> None:
    odd = Delimiters("|", ">", "\x7f", "!")
    hi: list[Element] = [Repeated((("ABK", "8901"), ("ABF", "87200"), "Z"))]
    body: list[SegmentInput] = [("HI", hi)]
    groups = [GroupSpec("HC", "A", "B", 1, "005010", [("837", 1, body)])]
    (tx,) = read_document(interchange(odd, groups=groups)).transactions()
    assert tx.segments[0].elements == ["ABK>8901!ABF>87200!Z"]
    assert elements_of(tx.segments[0], odd) == hi
