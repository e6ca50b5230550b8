"""997 and TA1 generation: envelopes derived from the inbound, codes from issues and
validation, and every acknowledgement checked valid by pyx12 against its 997 map."""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors.x12.model import Delimiters, Group, Interchange, Issue, Segment, Transaction
from omshub.edi.ackcheck import check_ack
from omshub.edi.ackcodes import AckCodeError, describe
from omshub.edi.acks import (
    ACK_997,
    ACK_999,
    ElementError,
    ReplyEnvelope,
    SegmentError,
    TransactionResult,
    functional_ack,
    interchange_ack,
    preferred_kind,
    reply_envelope,
)

WHEN = datetime(2026, 12, 3, 8, 15)
VERSIONS = [("00401", "004010"), ("00401", "004010VICS"), ("00501", "005010")]


def inbound(
    version: str = "00401",
    gs08: str = "004010",
    *,
    delimiters: Delimiters | None = None,
    sets: int = 2,
    usage: str = "T",
    ack_requested: bool = False,
) -> Group:
    """An inbound interchange from ACME (qualifier 12) to us, with one PO group."""
    d = delimiters or Delimiters("*", ">", "~", "^" if version >= "00402" else None)
    isa = [
        "00", " " * 10, "00", " " * 10, "12", "5551234567".ljust(15), "ZZ", "OMSHUB".ljust(15),
        "261201", "1130", d.repetition or "U", version, "000004711",
        "1" if ack_requested else "0", usage, d.sub_element,
    ]  # fmt: skip
    interchange = Interchange(Segment("ISA", isa, 1, 0), d)
    gs = ["PO", "ACMEAPP", "OMSHUBAPP", "20261201", "1130", "17", "X", gs08]
    group = Group(Segment("GS", gs, 2, 106), interchange)
    group.trailer = Segment("GE", [str(sets), "17"], 3 + 4 * sets, 900)
    group.transaction_count = sets
    return group


def transaction(group: Group, n: int, implementation: str = "") -> Transaction:
    st = ["850", f"{n:04d}", *([implementation] if implementation else [])]
    header = Segment("ST", st, 3 + 4 * (n - 1), 200 * n)
    body = [Segment("BEG", ["00", "SA", f"PO{n}", "", "20261201"], header.position + 1, 0)]
    trailer = Segment("SE", ["3", f"{n:04d}"], header.position + 2, 0)
    return Transaction(header, body, trailer, group)


def segments(data: bytes, terminator: str = "~") -> list[str]:
    return [s for s in data.decode("ascii").split(terminator) if s]


def ack(group: Group, results: list[TransactionResult], **kw: object) -> bytes:
    return functional_ack(
        group,
        results,
        interchange_control=901,
        group_control=55,
        set_control=1,
        when=WHEN,
        **kw,  # type: ignore[arg-type]
    )


def assert_valid(data: bytes) -> None:
    findings = check_ack(data)
    assert findings == [], "\n".join([data.decode(), *findings])


BAD_QTY = SegmentError(
    "PO1",
    5,
    "8",
    "PO1",
    (ElementError(2, "6", "330", "1O"), ElementError(4, "7", "639", "E~A*CH", component=2)),
)


@pytest.mark.parametrize(("icvn", "gs08"), VERSIONS)
def test_accepted_group_envelope_is_the_inbound_swapped(icvn: str, gs08: str) -> None:
    group = inbound(icvn, gs08)
    results = [TransactionResult.of(transaction(group, n)) for n in (1, 2)]
    data = ack(group, results)
    segs = segments(data)
    isa = segs[0].split("*")
    assert (isa[5], isa[6], isa[7], isa[8]) == (
        "ZZ",
        "OMSHUB".ljust(15),
        "12",
        "5551234567".ljust(15),
    )
    assert (isa[12], isa[13], isa[14], isa[15], isa[16]) == (icvn, "000000901", "0", "T", ">")
    assert segs[1] == f"GS*FA*OMSHUBAPP*ACMEAPP*20261203*0815*55*X*{gs08}"
    ak1 = "AK1*PO*17*005010" if gs08 >= "005010" else "AK1*PO*17"
    assert segs[3:10] == [ak1, "AK2*850*0001", "AK5*A", "AK2*850*0002", "AK5*A", "AK9*A*2*2*2", "SE*8*0001"]  # fmt: skip
    assert segs[-2:] == ["GE*1*55", "IEA*1*000000901"]
    assert_valid(data)


@pytest.mark.parametrize(("icvn", "gs08"), VERSIONS)
def test_segment_and_element_errors_give_ak3_ak4_and_e(icvn: str, gs08: str) -> None:
    group = inbound(icvn, gs08, sets=1)
    data = ack(group, [TransactionResult.of(transaction(group, 1), [BAD_QTY])])
    body = segments(data)[4:9]
    assert body == [
        "AK2*850*0001",
        "AK3*PO1*5*PO1*8",
        "AK4*2*330*6*1O",
        "AK4*4>2*639*7*EACH",  # the bad copy loses the delimiters that would split the 997
        "AK5*E*5",
    ]
    assert segments(data)[9] == "AK9*E*1*1*1"
    assert_valid(data)


@pytest.mark.parametrize(("icvn", "gs08"), VERSIONS)
def test_rejected_set_and_partial_group(icvn: str, gs08: str) -> None:
    group = inbound(icvn, gs08, sets=2)
    missing = SegmentError("BEG", 2, "3")
    results = [
        TransactionResult.of(transaction(group, 1)),
        TransactionResult.of(transaction(group, 2), [missing], rejected=True),
    ]
    data = ack(group, results)
    segs = segments(data)
    assert segs[6:10] == ["AK2*850*0002", "AK3*BEG*2**3", "AK5*R*5", "AK9*P*2*2*1"]
    assert_valid(data)
    alone = ack(inbound(icvn, gs08, sets=1), results[1:])
    assert segments(alone)[-4] == "AK9*R*1*1*0"
    assert_valid(alone)


@pytest.mark.parametrize(("icvn", "gs08"), VERSIONS)
def test_envelope_issues_only(icvn: str, gs08: str) -> None:
    """Sets we have no schema for: acknowledged on their envelope and the group's."""
    group = inbound(icvn, gs08, sets=3)
    group.issues.append(Issue("group", "5", "GE01 says 3, 2 sets read", 11, fatal=False))
    counted = transaction(group, 1)
    counted.issues.append(Issue("transaction", "4", "SE01 says 3, 4 counted", 6, fatal=False))
    no_trailer = transaction(group, 2)
    no_trailer.issues += [
        Issue("transaction", "2", "SE missing", 9),
        Issue("transaction", "3", "ST02/SE02 differ", 9),
    ]
    results = [TransactionResult.of(counted), TransactionResult.of(no_trailer)]
    data = ack(group, results)
    segs = segments(data)
    assert segs[4:9] == ["AK2*850*0001", "AK5*E*4", "AK2*850*0002", "AK5*R*2*3", "AK9*P*3*2*1*5"]
    assert_valid(data)
    group.issues.append(Issue("group", "3", "GE missing"))
    assert segments(ack(group, results))[8] == "AK9*R*3*2*0*5*3"
    assert_valid(ack(group, results))


def test_005010_echoes_the_version_and_st03() -> None:
    group = inbound("00501", "005010X231", sets=1)
    result = TransactionResult.of(transaction(group, 1, implementation="005010X231"))
    data = ack(group, [result])
    assert segments(data)[3:5] == ["AK1*PO*17*005010X231", "AK2*850*0001*005010X231"]
    assert_valid(data)


def test_partner_delimiters_are_used_unless_others_are_given() -> None:
    odd = Delimiters("|", "\\", "\x7f", "!")
    group = inbound("00501", "005010", delimiters=odd, sets=1)
    results = [TransactionResult.of(transaction(group, 1), [BAD_QTY])]
    data = ack(group, results)
    assert data[3:4] == b"|" and data[104:106] == b"\\\x7f"
    assert segments(data, "\x7f")[5] == "AK3|PO1|5|PO1|8"
    assert_valid(data)
    ours = ack(group, results, delimiters=Delimiters("*", ":", "~", "^"), line_end="\n")
    assert ours[3:4] == b"*" and b"~\nAK3*PO1*5*PO1*8~\n" in ours
    assert_valid(ours)


def test_a_00401_group_in_a_repetition_version_gets_a_free_repetition_separator() -> None:
    group = inbound("00501", "005010", delimiters=Delimiters("*", "^", "~", None), sets=1)
    data = ack(group, [TransactionResult.of(transaction(group, 1))])
    assert data[82:83] == b"|"  # '^' is the partner's sub-element separator
    assert_valid(data)


def test_codes_are_checked_for_the_version() -> None:
    group = inbound("00401", "004010", sets=1)
    t = transaction(group, 1)
    t.issues.append(Issue("transaction", "19", "bad ST03"))  # 005010 only: left out in 004010
    group.issues.append(Issue("group", "19", "GS06 used twice"))
    data = ack(group, [TransactionResult.of(t)])
    assert segments(data)[4:7] == ["AK2*850*0001", "AK5*R", "AK9*R*1*1*0"]
    assert_valid(data)
    t.issues.append(Issue("transaction", "99", "no such code"))
    with pytest.raises(AckCodeError, match="AK502: '99' is not a valid code for version 004010"):
        ack(group, [TransactionResult.of(t)])
    bad = SegmentError("PO1", 5, "I4")
    with pytest.raises(AckCodeError, match="AK304"):
        ack(group, [TransactionResult.of(transaction(group, 1), [bad])])
    assert describe("AK502", "4") == "Number of included segments does not match actual count"


@pytest.mark.parametrize("icvn", ["00401", "00501"])
def test_ta1_when_the_interchange_is_bad_or_asks_for_one(icvn: str) -> None:
    clean = inbound(icvn).interchange
    assert interchange_ack(clean, control=902, when=WHEN) is None
    always = interchange_ack(clean, control=902, when=WHEN, always=True)
    assert always is not None and segments(always)[1].endswith("*A*000")
    asked = inbound(icvn, ack_requested=True).interchange
    data = interchange_ack(asked, control=902, when=WHEN)
    assert data is not None
    assert segments(data)[1:] == ["TA1*000004711*261201*1130*A*000", "IEA*0*000000902"]
    assert_valid(data)
    bad = inbound(icvn).interchange
    bad.issues += [
        Issue("interchange", "021", "IEA01 says 2", fatal=False),
        Issue("interchange", "001", "IEA02 differs"),
    ]
    rejected = interchange_ack(bad, control=903, when=WHEN)
    assert rejected is not None
    assert segments(rejected)[1] == "TA1*000004711*261201*1130*R*001"
    assert segments(rejected)[0].split("*")[6] == "OMSHUB".ljust(15)
    assert_valid(rejected)
    bad.issues.pop()
    noted = interchange_ack(bad, control=904, when=WHEN)
    assert noted is not None and segments(noted)[1].endswith("*E*021")


def test_check_ack_finds_what_is_wrong() -> None:
    group = inbound("00401", "004010", sets=1)
    good = ack(group, [TransactionResult.of(transaction(group, 1))])
    assert_valid(good)
    wrong_count = good.replace(b"SE*6*0001", b"SE*7*0001")
    assert any("SE count of 7" in f for f in check_ack(wrong_count))
    ak103_in_4010 = good.replace(b"AK1*PO*17~", b"AK1*PO*17*004010~")
    assert check_ack(ak103_in_4010) != []
    bad_code = good.replace(b"AK5*A", b"AK5*Q")
    assert check_ack(bad_code) != []
    assert check_ack(b"not x12") != []
    assert check_ack("ISA*é".encode()) == ["byte 4: not ASCII (pyx12 reads X12 as ASCII)"]


def test_a_ta1_goes_out_even_when_the_inbound_delimiters_or_version_are_unusable() -> None:
    bad = inbound("00401", delimiters=Delimiters("*", "A", "~")).interchange
    bad.header.elements[11] = "4010"
    bad.issues += [
        Issue("interchange", "017", "ISA12 '4010' is not an X12 version"),
        Issue("interchange", "027", "ISA16 'A' is not a component separator"),
    ]
    data = interchange_ack(bad, control=905, when=WHEN)
    assert data is not None
    assert data[82:106] == b"U*00401*000000905*0*T*:~"
    assert segments(data)[1] == "TA1*000004711*261201*1130*R*017"
    assert_valid(data)


@pytest.mark.parametrize("gs08", ["005010X222A1", "005010X220A1", "005010"])
def test_a_999_for_an_implementation_guide(gs08: str) -> None:
    group = inbound("00501", gs08, sets=2)
    group.header.elements[0] = "HC"
    bad = SegmentError("NM1", 6, "I4", "2010", (ElementError(9, "I12", "67", "12*34"),))
    results = [
        TransactionResult.of(transaction(group, 1, implementation=gs08)),
        TransactionResult.of(transaction(group, 2), [bad], rejected=True),
    ]
    assert preferred_kind(group) is (ACK_997 if gs08 == "005010" else ACK_999)
    data = ack(group, results, kind=ACK_999)
    segs = segments(data)
    assert segs[1].endswith("*X*005010X231A1") and segs[2] == "ST*999*0001*005010X231A1"
    assert segs[3:11] == [
        f"AK1*HC*17*{gs08}",
        f"AK2*850*0001*{gs08}",
        "IK5*A",
        f"AK2*850*0002*{gs08}",  # no ST03: the group's guide
        "IK3*NM1*6*2010*I4",
        "IK4*9*67*I12*1234",
        "IK5*R*5",
        "AK9*P*2*2*1",
    ]
    assert_valid(data)
    with pytest.raises(AckCodeError, match="AK304: 'I4'"):
        ack(group, results)  # I-codes exist only in a 999


def test_reply_envelope_is_what_the_ack_says() -> None:
    group = inbound("00501", "005010", usage="P", sets=1)
    env = reply_envelope(group.interchange)
    assert env == ReplyEnvelope(("ZZ", "OMSHUB"), ("12", "5551234567"), "00501", "P")
    isa = segments(ack(group, [TransactionResult.of(transaction(group, 1))]))[0].split("*")
    assert (isa[5], isa[6].strip(), isa[7], isa[8].strip(), isa[12], isa[15]) == (
        *env.sender,
        *env.receiver,
        env.version,
        env.usage,
    )
