"""A 997 or 999 the partner sent us: what it says about the groups we sent, recorded.

Acknowledgements are never acknowledged (X12 forbids a 997 for a 997) and never mapped to
the canonical model: they update the registry, so an outbound interchange moves from
"no 997" to accepted, accepted with errors or rejected, per group and per set, and stops
counting as overdue. A 997 for a group we never sent is reported, not an error of the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from connectors.x12 import Segment, Transaction
from oms.edi import EdiRegistryError, mark_acknowledged

ACK_SETS = frozenset({"997", "999"})
#: AK9 / IK9 functional group status -> registry state
GROUP_STATES = {
    "A": "accepted",
    "E": "accepted_with_errors",
    "P": "partially_accepted",
    "R": "rejected",
    "M": "rejected",
    "W": "rejected",
    "X": "rejected",
}
#: AK5 / IK5 transaction set status -> registry state
SET_STATES = {
    "A": "accepted",
    "E": "accepted_with_errors",
    "M": "rejected",
    "R": "rejected",
    "W": "rejected",
    "X": "rejected",
}


@dataclass
class AckRead:
    """One received acknowledgement: the group it answers and what it says."""

    functional_id: str = ""
    group_control: str = ""
    state: str | None = None
    code: str | None = None
    sets: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def read_ack(tx: Transaction) -> AckRead:
    """AK1 (group), AK2+AK5 per set (IK5 in a 999), AK9: the facts of one 997/999."""
    out = AckRead()
    current: str | None = None
    for seg in tx.segments:
        tag = seg.tag
        if tag == "AK1":
            out.functional_id, out.group_control = seg.element(1), seg.element(2)
        elif tag == "AK2":
            current = seg.element(2)
        elif tag in ("AK5", "IK5") and current is not None:
            out.sets[current] = (SET_STATES.get(seg.element(1), "rejected"), _code(seg, 2))
            current = None
        elif tag == "AK9":
            out.state = GROUP_STATES.get(seg.element(1), "rejected")
            out.code = _code(seg, 5)
    return out


def _code(seg: Segment, first: int) -> str | None:
    codes = [c for c in seg.elements[first - 1 : first + 4] if c]
    return ",".join(codes) or None


def record_ack(
    conn: Connection,
    partner: str,
    tx: Transaction,
    ack_interchange_id: int | None,
    now: dt.datetime,
) -> str:
    """Record what a received 997/999 says about our group; returns a one-line summary."""
    ack = read_ack(tx)
    if not ack.group_control or ack.state is None:
        return f"{tx.set_id} {tx.control}: no AK1/AK9, nothing recorded"
    try:
        mark_acknowledged(
            conn,
            partner,
            ack.state,  # type: ignore[arg-type]
            group_control=ack.group_control,
            functional_id=ack.functional_id or None,
            code=ack.code,
            transactions=ack.sets,  # type: ignore[arg-type]
            direction="out",
            ack_interchange_id=ack_interchange_id,
            now=now,
        )
    except EdiRegistryError as e:
        return f"{tx.set_id} {tx.control}: {e}"
    return f"{tx.set_id} {tx.control}: {ack.functional_id} group {ack.group_control} {ack.state}"
