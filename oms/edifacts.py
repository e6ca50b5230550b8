"""What the X12 reader and writer hand the EDI registry (`oms.edi`): one interchange's
envelope, its groups and their transaction sets, as plain frozen data.

`InterchangeFacts.from_isa` takes a read ISA (the reader's `Interchange`, or anything with
its properties) and `answering` builds our 997/TA1 reply's envelope from it (parties
swapped, usage and version kept), so no caller copies ISA fields one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, Protocol

Direction = Literal["in", "out"]


def isa13(value: str | int) -> str:
    """ISA13 as stored: 9 digits, zero-padded (`42` -> `000000042`)."""
    text = str(value).strip()
    return text.zfill(9) if text.isdigit() else text


def gs06(value: str | int) -> str:
    """GS06 as stored: its number without leading zeros (acks echo it either way)."""
    text = str(value).strip()
    return str(int(text)) if text.isdigit() else text


@dataclass(frozen=True)
class TransactionFacts:
    st01: str
    st02: str
    reference: str | None = None  # what it is about: a PO number, a shipment id
    status: str | None = None
    order_origin: str | None = None  # whose order `reference` is (outbound sets)


@dataclass(frozen=True)
class GroupFacts:
    gs01: str
    gs06: str | int
    gs08: str | None = None
    _: KW_ONLY
    gs02: str | None = None
    gs03: str | None = None
    transactions: Sequence[TransactionFacts] = ()
    set_count: int | None = None  # sets read; defaults to len(transactions)


class _Isa(Protocol):
    """What an ISA header offers (`connectors.x12.model.Interchange` has it)."""

    @property
    def sender_qualifier(self) -> str: ...
    @property
    def sender_id(self) -> str: ...
    @property
    def receiver_qualifier(self) -> str: ...
    @property
    def receiver_id(self) -> str: ...
    @property
    def control(self) -> str: ...
    @property
    def usage(self) -> str: ...
    @property
    def version(self) -> str: ...


def _isa_fields(isa: _Isa, swapped: bool) -> dict[str, Any]:
    sender = (isa.sender_qualifier, isa.sender_id)
    receiver = (isa.receiver_qualifier, isa.receiver_id)
    (sq, sid), (rq, rid) = (receiver, sender) if swapped else (sender, receiver)
    return {
        "sender_qualifier": sq,
        "sender_id": sid,
        "receiver_qualifier": rq,
        "receiver_id": rid,
        "control": isa.control,
        "usage": isa.usage,
        "version": isa.version,
    }


@dataclass(frozen=True)
class InterchangeFacts:
    """One interchange's envelope as read (inbound) or written (outbound)."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control: str | int  # ISA13
    _: KW_ONLY
    usage: str = "P"
    version: str | None = None  # ISA12
    file_name: str | None = None
    batch_id: str | None = None
    groups: Sequence[GroupFacts] = ()
    status: str | None = None
    message: str | None = None

    @classmethod
    def from_isa(cls, isa: _Isa, **more: Any) -> InterchangeFacts:
        """The facts of a read ISA (the reader's `Interchange`); `more` adds the file
        name, batch id, groups (or overrides a field)."""
        return cls(**(_isa_fields(isa, swapped=False) | more))

    @classmethod
    def answering(cls, isa: _Isa, control: str | int, **more: Any) -> InterchangeFacts:
        """Our reply (a 997 or TA1) to a read ISA: the parties swapped, its usage and
        version kept, our own ISA13 `control`."""
        return cls(**(_isa_fields(isa, swapped=True) | {"control": control} | more))

    def row(self, partner: str, direction: Direction) -> dict[str, Any]:
        return {
            "partner": partner,
            "direction": direction,
            "isa_control": isa13(self.control),
            "sender_qualifier": self.sender_qualifier.strip(),
            "sender_id": self.sender_id.strip(),
            "receiver_qualifier": self.receiver_qualifier.strip(),
            "receiver_id": self.receiver_id.strip(),
            "usage": self.usage,
            "version": self.version,
            "file_name": self.file_name,
            "batch_id": self.batch_id,
            "group_count": len(self.groups),
            "message": self.message,
            "ack_status": "none",
        }
