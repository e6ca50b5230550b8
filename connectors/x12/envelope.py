"""Segments to envelope events: ISA/IEA, GS/GE, ST/SE nesting and their checks.

Every check ends as an `Issue` on the structure that has it, never as an exception, so a
wrong count or a missing trailer never hides the transaction sets around it. Control
numbers in header and trailer are compared as numbers when both are digits (`IEA*1*5`
closes ISA13 `000000005`), else as text. Segments outside any transaction set (between
sets, between groups, after an IEA) are one interchange Issue (TA1 024) per run of them.
The end of an interchange is announced when the next segment (or the end of the input)
is read, so junk after its IEA can still be reported on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from connectors.x12.isa import isa_problems
from connectors.x12.lexer import Lexer
from connectors.x12.model import Group, Interchange, Issue, Level, Segment, Transaction


@dataclass(slots=True)
class InterchangeStart:
    """An ISA was read (its issues so far: ISA fields, junk before it)."""

    interchange: Interchange


@dataclass(slots=True)
class GroupStart:
    """A GS was read."""

    group: Group


@dataclass(slots=True)
class GroupEnd:
    """A group is complete: its GE (or None when missing), counts and issues are final."""

    group: Group


@dataclass(slots=True)
class InterchangeEnd:
    """An interchange is complete: its IEA (or None), counts and issues are final."""

    interchange: Interchange


Event = InterchangeStart | GroupStart | Transaction | GroupEnd | InterchangeEnd


def same_control(a: str, b: str) -> bool:
    """Header and trailer control numbers agree (as numbers when both are digits)."""
    a, b = a.strip(), b.strip()
    if _digits(a) and _digits(b):
        return int(a) == int(b)
    return a == b


def _digits(value: str) -> bool:
    """ASCII digits only ('²' is a digit to `str.isdigit`, not to `int`)."""
    return value.isascii() and value.isdigit()


def _count(value: str) -> int | None:
    value = value.strip()
    return int(value) if _digits(value) else None


def _issue(level: Level, code: str, message: str, seg: Segment, fatal: bool = True) -> Issue:
    return Issue(level, code, message, seg.position, seg.offset, fatal)


class Envelope:
    """Turns a lexer's segments into events; see the module docstring for the checks."""

    def __init__(self, lexer: Lexer) -> None:
        self.lexer = lexer
        self.ic: Interchange | None = None
        self.ended: Interchange | None = None  # after its IEA, until the next segment
        self.group: Group | None = None
        self.tx: Transaction | None = None
        self._sets: set[str] = set()  # ST02s of the open group
        self._groups: set[str] = set()  # GS06s of the open interchange
        self._isa13s: set[str] = set()  # of the whole input
        self._stray: list[Segment] = []  # [first, last] of a run outside any set
        self._handlers = {
            "ISA": self._isa,
            "GS": self._gs,
            "ST": self._st,
            "SE": self._se,
            "GE": self._ge,
            "IEA": self._iea,
        }

    def events(self) -> Iterator[Event]:
        """Every envelope event of the input, in order.

        Per block, the splitter has found the envelope segments (`Split.marks`, by
        searches in C) and the runs of body segments between them are moved into their
        transaction set by slices: no Python step per body segment.
        """
        handlers = self._handlers
        for split in self.lexer.batches():
            segments, tags = split.segments, split.tags
            prev = 0
            for at in split.marks:
                if at > prev:
                    self._take(segments, prev, at)
                out = handlers[tags[at]](segments[at])
                if out:
                    yield from out
                prev = at + 1
            if prev < len(segments):
                self._take(segments, prev, len(segments))
        yield from self._close_all(None)

    def _take(self, segments: list[Segment], start: int, stop: int) -> None:
        """Body segments `start:stop`: into the open transaction set, else stray."""
        if self.tx is not None:
            self.tx.segments += segments[start:stop]
        else:
            self._outside(segments[start])
            self._outside(segments[stop - 1])

    # structure ends ----------------------------------------------------------------

    def _flush_stray(self) -> None:
        if not self._stray:
            return
        first, last = self._stray
        owner = self.ic or self.ended
        self._stray = []
        if owner is None:
            return
        n = last.position - first.position + 1
        where = "after the IEA" if self.ic is None else "outside any transaction set"
        more = f" and {n - 1} more" if n > 1 else ""
        text = f"segment {first.position} ({first.tag[:10]!r}){more} {where}"
        owner.issues.append(_issue("interchange", "024", text, first, fatal=False))

    def _outside(self, seg: Segment) -> None:
        if self._stray:
            self._stray[1] = seg
        else:
            self._stray = [seg, seg]

    def _close_tx(self, by: Segment | None) -> list[Event]:
        tx = self.tx
        if tx is None:
            return []
        self.tx = None
        ended = f"ended by {by.tag} at segment {by.position}" if by else "ended by end of file"
        text = f"ST {tx.set_id} {tx.control!r} (segment {tx.header.position}) has no SE; {ended}"
        tx.issues.append(_issue("transaction", "2", text, tx.header))
        return [tx]

    def _close_group(self, by: Segment | None) -> list[Event]:
        out = self._close_tx(by)
        group = self.group
        if group is None:
            return out
        self.group = None
        ended = f"ended by {by.tag} at segment {by.position}" if by else "ended by end of file"
        text = f"GS {group.control!r} (segment {group.header.position}) has no GE; {ended}"
        group.issues.append(_issue("group", "3", text, group.header))
        return [*out, GroupEnd(group)]

    def _close_all(self, by: Segment | None) -> list[Event]:
        self._flush_stray()
        out = self._close_group(by)
        ic = self.ic
        if ic is not None:
            ended = f"ended by ISA at segment {by.position}" if by else "ended by end of file"
            text = f"ISA {ic.control!r} (segment {ic.header.position}) has no IEA; {ended}"
            ic.issues.append(_issue("interchange", "023", text, ic.header))
            self.ic, self.ended = None, ic
        if self.ended is not None:
            out.append(InterchangeEnd(self.ended))
            self.ended = None
        return out

    # headers and trailers ----------------------------------------------------------

    def _isa(self, seg: Segment) -> list[Event]:
        if len(seg.elements) != 16:  # a bare 'ISA' at the end: not one the lexer read
            self._outside(seg)
            return []
        out = self._close_all(seg)
        ic = Interchange(seg, self.lexer.delimiters)
        for code, text in isa_problems(seg.elements, ic.delimiters):
            ic.issues.append(_issue("interchange", code, text, seg, fatal=False))
        junk = self.lexer.leading_junk
        if junk is not None and seg.position == 1:
            text = f"{junk.size} bytes before the ISA are not X12: {junk.preview!r}"
            ic.issues.append(Issue("interchange", "024", text, None, junk.offset, False))
        if ic.control in self._isa13s:
            text = f"ISA13 {ic.control!r} was already used earlier in this file"
            ic.issues.append(_issue("interchange", "025", text, seg))
        self._isa13s.add(ic.control)
        self.ic, self._groups = ic, set()
        out.append(InterchangeStart(ic))
        return out

    def _gs(self, seg: Segment) -> list[Event]:
        if self.ic is None:
            self._outside(seg)
            return []
        self._flush_stray()
        out = self._close_group(seg)
        group = Group(seg, self.ic)
        self.ic.group_count += 1
        if group.control in self._groups:
            text = f"GS06 {group.control!r} is used twice in this interchange"
            group.issues.append(_issue("group", "19", text, seg))
        self._groups.add(group.control)
        self.group, self._sets = group, set()
        out.append(GroupStart(group))
        return out

    # _st and _se run once per transaction set: plain list reads, the common case first.

    def _st(self, seg: Segment) -> list[Event]:
        group = self.group
        if group is None:
            self._outside(seg)
            return []
        if self._stray:
            self._flush_stray()
        out = self._close_tx(seg) if self.tx is not None else []
        tx = Transaction(seg, [], None, group)
        group.transaction_count += 1
        control = seg.elements[1] if len(seg.elements) > 1 else ""
        if control in self._sets:
            text = f"ST02 {control!r} is used twice in group {group.control!r}"
            tx.issues.append(_issue("transaction", "23", text, seg))
        self._sets.add(control)
        self.tx = tx
        return out

    def _se(self, seg: Segment) -> list[Event]:
        tx = self.tx
        if tx is None:
            self._outside(seg)
            return []
        if self._stray:
            self._flush_stray()
        self.tx, tx.trailer = None, seg
        counted = len(tx.segments) + 2
        els, head = seg.elements, tx.header.elements
        said = els[0] if els else ""
        if said != str(counted) and _count(said) != counted:
            text = f"SE01 says {said!r} segments, counted {counted} (ST through SE)"
            tx.issues.append(_issue("transaction", "4", text, seg))
        theirs = els[1] if len(els) > 1 else ""
        ours = head[1] if len(head) > 1 else ""
        if theirs != ours and not same_control(theirs, ours):
            text = f"SE02 {theirs!r} does not match ST02 {ours!r}"
            tx.issues.append(_issue("transaction", "3", text, seg))
        return [tx]

    def _ge(self, seg: Segment) -> list[Event]:
        group = self.group
        if group is None:
            self._outside(seg)
            return []
        self._flush_stray()
        out = self._close_tx(seg)
        self.group, group.trailer = None, seg
        said = seg.element(1)
        if _count(said) != group.transaction_count:
            text = f"GE01 says {said!r} sets, read {group.transaction_count}"
            group.issues.append(_issue("group", "5", text, seg))
        if not same_control(seg.element(2), group.control):
            text = f"GE02 {seg.element(2)!r} does not match GS06 {group.control!r}"
            group.issues.append(_issue("group", "4", text, seg))
        return [*out, GroupEnd(group)]

    def _iea(self, seg: Segment) -> list[Event]:
        ic = self.ic
        if ic is None:
            self._outside(seg)
            return []
        self._flush_stray()
        out = self._close_group(seg)
        ic.trailer = seg
        said = seg.element(1)
        if _count(said) != ic.group_count:
            text = f"IEA01 says {said!r} groups, read {ic.group_count}"
            ic.issues.append(_issue("interchange", "021", text, seg))
        if not same_control(seg.element(2), ic.control):
            text = f"IEA02 {seg.element(2)!r} does not match ISA13 {ic.control!r}"
            ic.issues.append(_issue("interchange", "001", text, seg))
        self.ic, self.ended = None, ic
        return out
