"""Envelope checks: every problem is an Issue with its X12 acknowledgement code, segment
number and byte offset, on the structure that has it; the sets around it still come."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12text import group, interchange, isa, po, render

from connectors.x12 import (
    Document,
    GroupEnd,
    InterchangeEnd,
    Issue,
    Transaction,
    read_document,
    read_events,
)


def read(segments: list[str]) -> tuple[Document, bytes]:
    data = render(segments)
    doc = read_document(data)
    assert doc.error is None
    return doc, data


def codes(issues: list[Issue]) -> list[tuple[str, str]]:
    return [(i.level, i.code) for i in issues]


def at(data: bytes, segments: list[str], n: int) -> int:
    """Byte offset of segment number n (1-based) of `segments` rendered by `render`."""
    return len(render(segments[: n - 1]))


def test_iea_counts_and_control() -> None:
    segs = interchange(group(po()), count=2, iea="000000009")
    doc, data = read(segs)
    ic = doc.interchanges[0].interchange
    assert codes(ic.issues) == [("interchange", "021"), ("interchange", "001")]
    n = len(segs)
    assert {(i.position, i.offset) for i in ic.issues} == {(n, at(data, segs, n))}
    assert "IEA01 says '2' groups, read 1" in ic.issues[0].message
    assert all(i.fatal for i in ic.issues)
    assert ic.trailer is not None and ic.group_count == 1


def test_control_numbers_compare_as_numbers() -> None:
    doc, _ = read(interchange(group(po("0001", se="1"), ge="0001"), iea="1"))
    assert doc.clean


def test_missing_iea_at_end_and_before_next_isa() -> None:
    first = interchange(group(po()))[:-1]  # no IEA
    second = interchange(group(po("0002")), control="000000002")
    doc, _ = read(first + second)
    a, b = (n.interchange for n in doc.interchanges)
    assert codes(a.issues) == [("interchange", "023")] and a.trailer is None
    assert a.issues[0].position == 1 and f"segment {len(first) + 1}" in a.issues[0].message
    assert b.issues == []
    doc, _ = read(first)
    assert codes(doc.issues()) == [("interchange", "023")]
    assert "end of file" in doc.issues()[0].message


def test_ge_counts_and_control() -> None:
    segs = interchange(group(po("0001"), po("0002"), count=3, ge="7"))
    doc, data = read(segs)
    g = doc.interchanges[0].groups[0].group
    assert codes(g.issues) == [("group", "5"), ("group", "4")]
    ge = len(segs) - 1
    assert {(i.position, i.offset) for i in g.issues} == {(ge, at(data, segs, ge))}
    assert g.transaction_count == 2 and g.trailer is not None


def test_missing_ge_ended_by_iea_and_by_next_gs() -> None:
    segs = interchange(group(po("0001"))[:-1], group(po("0002"), control="2"))
    doc, _ = read(segs)
    g1, g2 = (n.group for n in doc.interchanges[0].groups)
    assert codes(g1.issues) == [("group", "3")] and g1.trailer is None
    assert g1.issues[0].position == 2 and "ended by GS" in g1.issues[0].message
    assert g2.issues == []
    doc, _ = read(interchange(group(po())[:-1]))
    assert codes(doc.issues()) == [("group", "3")]
    assert "ended by IEA" in doc.issues()[0].message


def test_se_count_and_control() -> None:
    segs = interchange(group(po("0001", count=99, se="0002")))
    doc, data = read(segs)
    tx = next(doc.transactions())
    assert codes(tx.issues) == [("transaction", "4"), ("transaction", "3")]
    se = 3 + len(tx.segments) + 1
    assert {(i.position, i.offset) for i in tx.issues} == {(se, at(data, segs, se))}
    assert "counted 7 (ST through SE)" in tx.issues[0].message


@pytest.mark.parametrize("ended_by", ["ST", "GE", "EOF"])
def test_missing_se(ended_by: str) -> None:
    broken = po("0001")[:-1]
    segs = {
        "ST": interchange(group(broken, po("0002"))),
        "GE": interchange(group(broken)),
        "EOF": interchange(group(broken))[:-2],  # no SE, GE, IEA
    }[ended_by]
    doc, _ = read(segs)
    tx = next(doc.transactions())
    assert codes(tx.issues) == [("transaction", "2")] and tx.trailer is None
    assert tx.issues[0].position == 3  # the ST that has no SE
    assert len(tx.segments) == 5  # its body is kept
    if ended_by == "ST":
        assert [t.issues for t in doc.transactions()][1] == []
    if ended_by == "EOF":
        assert sorted(codes(doc.issues())) == [
            ("group", "3"),
            ("interchange", "023"),
            ("transaction", "2"),
        ]


def test_duplicate_st02_within_a_group_only() -> None:
    doc, _ = read(interchange(group(po("0001"), po("0001")), group(po("0001"), control="2")))
    found = [codes(tx.issues) for tx in doc.transactions()]
    assert found == [[], [("transaction", "23")], []]


def test_duplicate_gs06_and_isa13() -> None:
    one = interchange(group(po()), group(po(), control="1"))
    doc, _ = read(one + one)
    assert codes(doc.interchanges[0].groups[1].group.issues) == [("group", "19")]
    assert codes(doc.interchanges[1].interchange.issues) == [("interchange", "025")]


def test_segments_outside_any_set() -> None:
    segs = interchange(group(po("0001"), ["REF*XX*1", "REF*XX*2"], po("0002"), count=2))
    doc, data = read(segs)
    (issue,) = doc.issues()
    assert (issue.level, issue.code, issue.fatal) == ("interchange", "024", False)
    n = 2 + 7 + 1  # after ISA, GS and the first set
    assert (issue.position, issue.offset) == (n, at(data, segs, n))
    assert "'REF') and 1 more outside any transaction set" in issue.message
    assert [tx.control for tx in doc.transactions()] == ["0001", "0002"]


def test_st_outside_a_group() -> None:
    segs = [isa(), *po("0001"), "IEA*0*000000001"]
    doc, _ = read(segs)
    assert list(doc.transactions()) == []
    (issue,) = doc.issues()
    assert issue.code == "024" and issue.position == 2 and "and 6 more" in issue.message


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("isa01", "07", "010"),
        ("isa02", "short", "011"),
        ("isa03", "02", "012"),
        ("isa04", "x" * 11, "013"),
        ("isa05", "Z", "005"),
        ("isa06", "SENDER".ljust(14), "006"),
        ("isa07", "ZZZ", "007"),
        ("isa08", "RECEIVER".ljust(16), "008"),
        ("isa09", "261340", "014"),
        ("isa10", "2599", "015"),
        ("isa11", "X", "016"),
        ("isa12", "00000", "017"),
        ("isa13", "00000000A", "018"),
        ("isa14", "2", "019"),
        ("isa15", "X", "020"),
    ],
)
def test_isa_fields(field: str, value: str, code: str) -> None:
    segs = [isa(**{field: value}), *interchange(group(po()))[1:]]
    if field == "isa13":
        segs[-1] = f"IEA*1*{value}"
    doc, _ = read(segs)
    ic = doc.interchanges[0].interchange
    assert codes(ic.issues) == [("interchange", code)]
    assert ic.issues[0].position == 1 and ic.issues[0].offset == 0
    assert not ic.issues[0].fatal  # read anyway; the TA1 says what was wrong
    assert field.upper() in ic.issues[0].message


def test_isa16_same_as_element_separator() -> None:
    data = render(interchange(group(po()))).replace(b"*P*>~", b"*P**~", 1)
    doc = read_document(data)
    assert codes(doc.issues()) == [("interchange", "027")]


def test_group_and_interchange_end_events_are_complete() -> None:
    events = list(read_events(render(interchange(group(po(), count=5)))))
    (ge,) = [e for e in events if isinstance(e, GroupEnd)]
    (ie,) = [e for e in events if isinstance(e, InterchangeEnd)]
    assert ge.group.trailer is not None and codes(ge.group.issues) == [("group", "5")]
    assert ie.interchange.trailer is not None and ie.interchange.group_count == 1
    assert isinstance(events[2], Transaction) and events[2].group is ge.group


def test_a_bare_isa_at_the_end_is_stray() -> None:
    data = render(interchange(group(po()))) + b"ISA"
    doc = read_document(data)
    assert doc.error is None and len(doc.interchanges) == 1
    assert [(i.code, i.fatal) for i in doc.issues()] == [("024", False)]
    assert "after the IEA" in doc.issues()[0].message
