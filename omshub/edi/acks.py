"""Acknowledge what a partner sent: a 997 per functional group, a TA1 per interchange.

Nothing in an acknowledgement's envelope is a fixed value. It is derived from the inbound
interchange: sender and receiver swapped (ISA05/06 with ISA07/08, GS02 with GS03), the same
ISA12 and GS08 (a 004010VICS order is answered by a 004010VICS 997), the same usage
indicator and, unless the partner's configuration says otherwise, the delimiters the partner
used. Only the control numbers are ours; they come in as arguments because the registry that
hands them out (per partner, never reused) is not this module's job.

What the 997 says comes from two places: the envelope `Issue`s the reader kept on the group
and each transaction (their `code` is already the X12 code), and the segment/element errors a
validation found (`SegmentError`/`ElementError` in a `TransactionResult`). A set we have no
schema for is acknowledged on its envelope alone (a `TransactionResult` without errors).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.x12.model import Delimiters, Group, Interchange, Issue, Transaction
from connectors.x12.writer import (
    Element,
    GroupSpec,
    TransactionSpec,
    X12EnvelopeError,
    build_interchange,
    check_delimiters,
)
from omshub.edi.ackcodes import AckCodeError, check_code, usable

_MAX_CODES = 5  # AK502..AK506, AK905..AK909
_MAX_BAD_VALUE = 99  # AK404
IMPLEMENTATION_GUIDE = "005010X231A1"  # the 999's own GS08 and ST03


@dataclass(frozen=True, slots=True)
class AckKind:
    """A 997 or a 999: the same loops, the 999 names its segment/element/set notes IK3/IK4/IK5."""

    set_id: str
    segment: str
    element: str
    trailer: str


ACK_997 = AckKind("997", "AK3", "AK4", "AK5")
ACK_999 = AckKind("999", "IK3", "IK4", "IK5")


def preferred_kind(group: Group) -> AckKind:
    """A 999 for a group under a 005010 implementation guide (GS08 005010X...), else a 997."""
    return ACK_999 if group.version.startswith("005010X") else ACK_997


@dataclass(frozen=True, slots=True)
class ElementError:
    """One bad element of a segment (an AK4)."""

    position: int  # AK401-1, the element's position in its segment (BEG03 -> 3)
    code: str  # AK403 (723), e.g. '7' invalid code value
    reference: str = ""  # AK402, the data element reference number, e.g. '353'
    bad_value: str = ""  # AK404, a copy of the bad value
    component: int | None = None  # AK401-2, the component's position in a composite


@dataclass(frozen=True, slots=True)
class SegmentError:
    """One bad segment of a transaction set (an AK3 and its AK4s)."""

    tag: str  # AK301, e.g. 'PO1'
    position: int  # AK302, the segment's position in the set, ST = 1
    code: str = "8"  # AK304 (720); '8' = the segment's elements are in error
    loop_id: str = ""  # AK303, e.g. 'PO1' (the loop's identifier, up to 4 characters)
    elements: tuple[ElementError, ...] = ()


@dataclass(slots=True)
class TransactionResult:
    """What we found in one inbound transaction set, as the 997 reports it.

    `issues` are the set's envelope issues (level 'transaction'); `errors` what a validation
    found in its segments; `rejected` that our validation refused the set even though its
    errors alone might not say so.
    """

    set_id: str  # ST01
    control: str  # ST02
    implementation: str = ""  # ST03 (echoed in AK203 from 005010 on)
    issues: Sequence[Issue] = ()
    errors: Sequence[SegmentError] = ()
    rejected: bool = False

    @classmethod
    def of(
        cls,
        transaction: Transaction,
        errors: Sequence[SegmentError] = (),
        *,
        rejected: bool = False,
    ) -> TransactionResult:
        """The result for a transaction as read, with what validation found (if anything)."""
        return cls(
            set_id=transaction.set_id,
            control=transaction.control,
            implementation=transaction.implementation,
            issues=[i for i in transaction.issues if i.level == "transaction"],
            errors=errors,
            rejected=rejected,
        )

    def codes(self, version: str, kind: AckKind = ACK_997) -> list[str]:
        """AK502..AK506: the envelope codes, then '5' when a segment is in error."""
        found = [c for i in self.issues if (c := usable("AK502", i.code, version, kind.set_id))]
        if self.errors:
            found.append("5")
        return _unique(found)[:_MAX_CODES]

    @property
    def status(self) -> str:
        """AK501: R rejected, E accepted with errors noted, A accepted."""
        if self.rejected or any(i.fatal for i in self.issues):
            return "R"
        return "E" if self.errors or self.issues else "A"


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def _clean(value: str, delimiters: Delimiters) -> str:
    """AK404 is a copy for people: drop what would split the 997, keep it within 99 chars."""
    reserved = delimiters.element + delimiters.sub_element + delimiters.segment
    reserved += (delimiters.repetition or "") + "\r\n"
    return "".join(c for c in value if c not in reserved)[:_MAX_BAD_VALUE]


def _segment_lines(
    error: SegmentError, version: str, delimiters: Delimiters, kind: AckKind
) -> list[tuple[str, list[Element]]]:
    if error.position < 1 or len(error.loop_id) > 4:
        raise AckCodeError("AK302/AK303", f"{error.position}/{error.loop_id}", version)
    code = check_code("AK304", error.code, version, kind.set_id) if error.code else ""
    lines: list[tuple[str, list[Element]]] = [
        (kind.segment, [error.tag, str(error.position), error.loop_id, code])
    ]
    for e in error.elements:
        position: Element = (str(e.position), str(e.component)) if e.component else str(e.position)
        bad = _clean(e.bad_value, delimiters)
        ak403 = check_code("AK403", e.code, version, kind.set_id)
        lines.append((kind.element, [position, e.reference, ak403, bad]))
    return lines


def _group_status(group: Group, results: Sequence[TransactionResult]) -> tuple[str, int]:
    """AK901 and AK904: R/P/E/A and how many sets were accepted (A or E)."""
    accepted = sum(1 for r in results if r.status != "R")
    if any(i.fatal for i in group.issues if i.level == "group"):
        return "R", 0
    if results and accepted == 0:
        return "R", 0
    if accepted < len(results):
        return "P", accepted
    noted = group.issues or any(r.status == "E" for r in results)
    return ("E" if noted else "A"), accepted


def ack_body(
    group: Group,
    results: Sequence[TransactionResult],
    delimiters: Delimiters,
    kind: AckKind = ACK_997,
) -> list[tuple[str, list[Element]]]:
    """The ack's segments between ST and SE: AK1, per set AK2 (AK3/AK4) AK5, AK9.

    A 999 says IK3/IK4/IK5 and always echoes the version (AK103) and the set's
    implementation guide (AK203: ST03, else GS08).
    """
    version = group.version
    modern = version >= "005010" or kind is ACK_999  # AK103, AK203 exist from 005010 on
    body: list[tuple[str, list[Element]]] = [
        ("AK1", [group.functional_id, group.control, *([version] if modern else [])])
    ]
    for result in results:
        ak2: list[Element] = [result.set_id, result.control]
        guide = result.implementation or (version if kind is ACK_999 else "")
        if modern and guide:
            ak2.append(guide)
        body.append(("AK2", ak2))
        for error in result.errors:
            body.extend(_segment_lines(error, version, delimiters, kind))
        body.append((kind.trailer, [result.status, *result.codes(version, kind)]))
    status, accepted = _group_status(group, results)
    group_codes = _unique(
        c for i in group.issues if i.level == "group" and (c := usable("AK905", i.code, version))
    )
    trailer = group.trailer.element(1) if group.trailer else ""
    included = trailer if trailer.isdigit() else str(len(results))
    counts = [included, str(len(results)), str(accepted)]
    body.append(("AK9", [status, *counts, *group_codes[:_MAX_CODES]]))
    return body


def ack_version(interchange: Interchange) -> str:
    """The inbound ISA12, or 00401 when it is not an X12 version (the TA1 then says 017)."""
    version = interchange.version
    known = len(version) == 5 and version.isdigit() and "00200" <= version <= "00801"
    return version if known else "00401"


def ack_delimiters(interchange: Interchange, given: Delimiters | None = None) -> Delimiters:
    """The partner's own delimiters (or `given`), with a repetition separator when needed.

    When the partner's set cannot be written back (a letter as ISA16, two the same: the
    reader noted it as an issue), the X12 defaults are used so the TA1/997 still goes out.
    """
    chosen = given or interchange.delimiters
    version = ack_version(interchange)
    if version >= "00402" and chosen.repetition is None:
        used = {chosen.element, chosen.sub_element, chosen.segment}
        free = next(c for c in "^|!}{" if c not in used)
        chosen = Delimiters(chosen.element, chosen.sub_element, chosen.segment, free)
    if given is None:
        try:
            check_delimiters(chosen, version)
        except X12EnvelopeError:
            chosen = Delimiters("*", ":", "~", "^" if version >= "00402" else None)
    return chosen


@dataclass(frozen=True, slots=True)
class ReplyEnvelope:
    """The ISA values of an acknowledgment to `inbound` (for whoever records what was sent)."""

    sender: tuple[str, str]  # (ISA05, ISA06): the inbound's receiver
    receiver: tuple[str, str]  # (ISA07, ISA08): the inbound's sender
    version: str  # ISA12
    usage: str  # ISA15


def reply_envelope(inbound: Interchange) -> ReplyEnvelope:
    """ISA parties swapped, the inbound's ISA12 (`ack_version`) and usage (P when unreadable)."""
    return ReplyEnvelope(
        sender=(inbound.receiver_qualifier, inbound.receiver_id),
        receiver=(inbound.sender_qualifier, inbound.sender_id),
        version=ack_version(inbound),
        usage=inbound.usage if inbound.usage in ("P", "T", "I") else "P",
    )


def _reply(
    inbound: Interchange,
    control: int,
    delimiters: Delimiters,
    when: datetime | None,
    line_end: str,
    *,
    groups: Sequence[GroupSpec] = (),
    leading: Sequence[tuple[str, list[Element]]] = (),
) -> bytes:
    """An interchange back to the inbound's sender (see `reply_envelope`)."""
    env = reply_envelope(inbound)
    return build_interchange(
        sender=env.sender,
        receiver=env.receiver,
        control=control,
        usage=env.usage,
        version=env.version,
        delimiters=delimiters,
        groups=groups,
        when=when or datetime.now(UTC),
        leading=leading,
        line_end=line_end,
    )


def functional_ack(
    group: Group,
    transactions: Sequence[TransactionResult],
    *,
    interchange_control: int,
    group_control: int,
    set_control: int | str = 1,
    when: datetime | None = None,
    delimiters: Delimiters | None = None,
    line_end: str = "",
    kind: AckKind = ACK_997,
) -> bytes:
    """A 997 (or 999) interchange acknowledging one inbound functional group.

    A 999 is enveloped under its own guide: GS08 and ST03 are 005010X231A1.
    """
    inbound = group.interchange
    chosen = ack_delimiters(inbound, delimiters)
    guide = IMPLEMENTATION_GUIDE if kind is ACK_999 else ""
    body = ack_body(group, transactions, chosen, kind)
    spec = TransactionSpec(kind.set_id, set_control, body, guide)
    # GS02/GS03 swapped, without the padding some partners leave (X12 suppresses it in AN)
    sender, receiver = group.receiver.strip(), group.sender.strip()
    fa = GroupSpec("FA", sender, receiver, group_control, guide or group.version, [spec])
    return _reply(inbound, interchange_control, chosen, when, line_end, groups=[fa])


def ta1_elements(interchange: Interchange) -> list[Element]:
    """TA1: the inbound ISA13, its ISA09 date and ISA10 time, A/E/R and the note code.

    R when an interchange issue is fatal, E when issues were only noted; the note is the
    first fatal issue's code (else the first issue's, else 000 'no error').
    """
    issues = [i for i in interchange.issues if i.level == "interchange"]
    fatal = [i for i in issues if i.fatal]
    status = "R" if fatal else ("E" if issues else "A")
    note = (fatal or issues)[0].code if issues else "000"
    header = interchange.header
    return [
        interchange.control,
        header.element(9).strip(),
        header.element(10).strip(),
        status,
        check_code("TA105", note, interchange.version),
    ]


def interchange_ack(
    interchange: Interchange,
    *,
    control: int,
    when: datetime | None = None,
    delimiters: Delimiters | None = None,
    line_end: str = "",
    always: bool = False,
) -> bytes | None:
    """A TA1 interchange when the inbound one has issues or asked for one (ISA14=1), else None.

    `always`: for partners who want a TA1 for every interchange (`TA1*…*A*000` when clean).
    """
    issues = [i for i in interchange.issues if i.level == "interchange"]
    if not issues and not interchange.ack_requested and not always:
        return None
    chosen = ack_delimiters(interchange, delimiters)
    ta1 = ("TA1", ta1_elements(interchange))
    return _reply(interchange, control, chosen, when, line_end, leading=[ta1])
