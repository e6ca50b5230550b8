"""The X12 data model every EDI part shares: what the reader yields and the writer takes.

Envelope problems are *data* (`Issue` on the interchange, group or transaction that has
them), so one malformed trailer never hides the good transaction sets around it and the
997/TA1 can say exactly what was wrong. Only input that cannot be read any further raises
`X12Error` (see `connectors.x12.errors`).

Element numbering follows the X12 guides: `segment.element(1)` is `BEG01`. Positions are
1-based segment numbers within the file and 0-based byte offsets of the segment's first
byte, so every error and every loaded value can name where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Level = Literal["interchange", "group", "transaction"]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators one interchange declares in its ISA (they may differ per ISA)."""

    element: str = "*"
    sub_element: str = ":"
    segment: str = "~"
    repetition: str | None = None  # ISA11 when ISA12 >= 00402, else None


class Segment(NamedTuple):
    """One segment: its tag, its elements as text, and where it sits in the file.

    A named tuple, not a dataclass: the reader builds millions of them, and a tuple can
    be built from C (`tuple.__new__` over zipped columns, see `splitter`) without running
    a Python `__init__` per segment, which was a third of the reader's time (measured).
    """

    tag: str
    elements: list[str]  # elements[0] is element 01
    position: int  # 1-based segment number in the file
    offset: int  # 0-based byte offset of the segment's first byte

    def element(self, n: int) -> str:
        """Element `n` (1-based, as in `BEG03`), or '' when the segment is shorter."""
        return self.elements[n - 1] if 0 < n <= len(self.elements) else ""

    def components(self, n: int, sub_element: str) -> list[str]:
        """The components of composite element `n` (`SV1-01-2` style reads)."""
        value = self.element(n)
        return value.split(sub_element) if value else []


@dataclass(frozen=True, slots=True)
class Issue:
    """An envelope problem, kept on the structure that has it.

    `code` is the X12 acknowledgement code the problem maps to: a TA1 note code (I18, e.g.
    "001") at interchange level, an AK9 syntax error code (716) at group level, an AK5 code
    (718) at transaction level. `fatal` means the structure cannot be accepted at all.
    """

    level: Level
    code: str
    message: str
    position: int | None = None  # segment number
    offset: int | None = None  # byte offset
    fatal: bool = True


@dataclass(slots=True)
class Transaction:
    """One transaction set, ST through SE, with the headers of its envelope."""

    header: Segment  # ST
    segments: list[Segment]  # the body, between ST and SE
    trailer: Segment | None  # SE, None when missing
    group: Group
    issues: list[Issue] = field(default_factory=list)

    @property
    def set_id(self) -> str:
        """ST01, e.g. '850'."""
        return self.header.element(1)

    @property
    def control(self) -> str:
        """ST02, the transaction set control number."""
        return self.header.element(2)

    @property
    def implementation(self) -> str:
        """ST03 (implementation convention reference), '' when absent."""
        return self.header.element(3)


@dataclass(slots=True)
class Group:
    """One functional group, GS through GE. Its transaction sets are streamed, not held."""

    header: Segment  # GS
    interchange: Interchange
    trailer: Segment | None = None  # GE, set when read
    transaction_count: int = 0  # sets actually read in this group
    issues: list[Issue] = field(default_factory=list)

    @property
    def functional_id(self) -> str:
        """GS01, e.g. 'PO' for 850s."""
        return self.header.element(1)

    @property
    def sender(self) -> str:
        """GS02, the application sender's code."""
        return self.header.element(2)

    @property
    def receiver(self) -> str:
        """GS03, the application receiver's code."""
        return self.header.element(3)

    @property
    def control(self) -> str:
        """GS06, the group control number."""
        return self.header.element(6)

    @property
    def version(self) -> str:
        """GS08, the version/release/industry code, e.g. '004010VICS'."""
        return self.header.element(8)


@dataclass(slots=True)
class Interchange:
    """One interchange, ISA through IEA, with the delimiters its ISA declared."""

    header: Segment  # ISA
    delimiters: Delimiters
    trailer: Segment | None = None  # IEA, set when read
    group_count: int = 0  # groups actually read
    issues: list[Issue] = field(default_factory=list)

    def _isa(self, n: int) -> str:
        return self.header.element(n).strip()

    @property
    def sender_qualifier(self) -> str:
        """ISA05."""
        return self._isa(5)

    @property
    def sender_id(self) -> str:
        """ISA06, trailing padding removed."""
        return self._isa(6)

    @property
    def receiver_qualifier(self) -> str:
        """ISA07."""
        return self._isa(7)

    @property
    def receiver_id(self) -> str:
        """ISA08, trailing padding removed."""
        return self._isa(8)

    @property
    def version(self) -> str:
        """ISA12, e.g. '00401'."""
        return self._isa(12)

    @property
    def control(self) -> str:
        """ISA13, the interchange control number (9 digits)."""
        return self._isa(13)

    @property
    def ack_requested(self) -> bool:
        """ISA14 == '1': the sender asks for a TA1."""
        return self._isa(14) == "1"

    @property
    def usage(self) -> str:
        """ISA15: 'P' production, 'T' test, 'I' information."""
        return self._isa(15)
