"""What an inbound transaction set is about: the business reference the registry keeps
(`edi_transaction.reference`) so every document of one order links up in `omshub edi
chain`, whichever side sent it.

The reference is the buyer's PO number wherever the set carries one, since it is the key
both partners quote: an 850 and 860 name it (BEG03, BCH03), an 855 echoes it (BAK03),
an 856 cites it at the order level (PRF01 under HL O), an 810 in BIG04. Warehouse sets
quote the order we gave the warehouse: the 940's W0503 (PO) or W0502 (depositor order),
the 945's W0606 (PO) or W0602, the 943's likewise; a 944 names its receipt's depositor
order (W1704) or its reference (W1705) or receipt number (W1703); a 947 its adjustment
number (W1502). A pure function of the read set: no store, no partner.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.x12.model import Segment, Transaction

__all__ = ["REFERENCES", "reference"]


def _first(tx: Transaction, tag: str) -> Segment | None:
    return next((s for s in tx.segments if s.tag == tag), None)


def _element(tag: str, *positions: int) -> Callable[[Transaction], str]:
    """The first non-empty of `positions` of the set's first `tag` segment."""

    def read(tx: Transaction) -> str:
        seg = _first(tx, tag)
        if seg is None:
            return ""
        return next((v for v in (seg.element(n).strip() for n in positions) if v), "")

    return read


def _ship_notice(tx: Transaction) -> str:
    """PRF01 of the first order level (HL03 O); any PRF01 when no HL says O."""
    level = ""
    fallback = ""
    for seg in tx.segments:
        if seg.tag == "HL":
            level = seg.element(3)
        elif seg.tag == "PRF" and seg.element(1).strip():
            if level == "O":
                return seg.element(1).strip()
            fallback = fallback or seg.element(1).strip()
    return fallback


#: set id -> how to read its reference
REFERENCES: dict[str, Callable[[Transaction], str]] = {
    "850": _element("BEG", 3),
    "860": _element("BCH", 3),
    "855": _element("BAK", 3),
    "865": _element("BCA", 3),
    "856": _ship_notice,
    "810": _element("BIG", 4),
    "940": _element("W05", 3, 2),
    "943": _element("W06", 6, 2),
    "945": _element("W06", 6, 2),
    "944": _element("W17", 4, 5, 3),
    "947": _element("W15", 2),
}


def reference(set_id: str, tx: Transaction) -> str | None:
    """The business reference of an inbound set, None when the set has none (a 997, an
    846, a set with its reference element empty)."""
    read = REFERENCES.get(set_id)
    if read is None:
        return None
    return read(tx)[:80] or None
