"""Acknowledgements in the EDI registry: a 997/999 or TA1 recorded against the groups and
interchanges it answers, and outbound interchanges whose 997 did not come in time.

Split from `oms.edi` (which re-exports these names); same rules: every function works in
the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from oms.edi import (
    ACK_STATES,
    AckState,
    Direction,
    EdiRegistryError,
    _gr,
    _ix,
    _tx,
    gs06,
    isa13,
    utcnow,
)


def _interchange_state(states: Sequence[str]) -> str | None:
    """An interchange's ack state from its groups' (None while a group is unanswered)."""
    if not states or any(s in ("none", "overdue") for s in states):
        return None
    if all(s == "accepted" for s in states):
        return "accepted"
    if all(s == "rejected" for s in states):
        return "rejected"
    return "accepted_with_errors"


def _find_group(
    conn: Connection, partner: str, direction: Direction, control: str, functional_id: str | None
) -> tuple[int, int]:
    """(group id, interchange id) of `partner`'s group GS06 `control` (the newest when
    the numbers wrapped)."""
    q = (
        select(_gr.c.id, _gr.c.interchange_id)
        .join(_ix, _ix.c.id == _gr.c.interchange_id)
        .where(_ix.c.partner == partner, _ix.c.direction == direction, _gr.c.gs06 == control)
        .order_by(_gr.c.id.desc())
        .limit(1)
    )
    if functional_id:
        q = q.where(_gr.c.gs01 == functional_id)
    found = conn.execute(q).first()
    if found is None:
        what = f"{functional_id} group" if functional_id else "group"
        raise EdiRegistryError(
            f"partner {partner!r}: no {'outbound' if direction == 'out' else 'inbound'}"
            f" {what} with GS06 {control} to acknowledge"
        )
    return found.id, found.interchange_id


def _find_interchange(conn: Connection, partner: str, direction: Direction, control: str) -> int:
    q = (
        select(_ix.c.id)
        .where(_ix.c.partner == partner, _ix.c.direction == direction)
        .where(_ix.c.isa_control == control)
        .order_by(_ix.c.id.desc())
        .limit(1)
    )
    found = conn.execute(q).scalar()
    if found is None:
        raise EdiRegistryError(
            f"partner {partner!r}: no {direction}bound interchange with ISA13 {control}"
            " to acknowledge"
        )
    return int(found)


def mark_acknowledged(
    conn: Connection,
    partner: str,
    state: AckState,
    *,
    group_control: str | int | None = None,
    interchange_control: str | int | None = None,
    code: str | None = None,
    functional_id: str | None = None,
    transactions: Mapping[str, tuple[AckState, str | None]] | None = None,
    direction: Direction = "out",
    ack_interchange_id: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Record an acknowledgement; returns the acknowledged interchange's id.

    A 997 answers one group (`group_control` = its AK102, `functional_id` its AK101,
    `state`/`code` from AK9, `transactions` ST02 -> state and AK5 code): the group takes
    the state, and its interchange too once all its groups are answered (all accepted:
    accepted; all rejected: rejected; else accepted_with_errors). A TA1 answers the
    interchange (`interchange_control`); a rejecting TA1 rejects its unanswered groups.
    `direction` "out" is the partner acknowledging us; "in" records the ack we sent.
    A late 997 replaces `overdue`.
    """
    if state not in ACK_STATES:
        raise ValueError(f"ack state is one of {', '.join(ACK_STATES)}, not {state!r}")
    if (group_control is None) == (interchange_control is None):
        raise ValueError("acknowledge either a group (group_control) or an interchange")
    at = now or utcnow()
    done = {"acked_at": at, "ack_interchange_id": ack_interchange_id}
    if interchange_control is not None:
        ix_id = _find_interchange(conn, partner, direction, isa13(interchange_control))
        conn.execute(
            update(_ix).where(_ix.c.id == ix_id).values(ack_status=state, ack_code=code, **done)
        )
        if state == "rejected":
            open_groups = (_gr.c.interchange_id == ix_id) & _gr.c.ack_state.in_(("none", "overdue"))
            conn.execute(update(_gr).where(open_groups).values(ack_state=state, ack_code=code))
        return ix_id
    assert group_control is not None
    group_id, ix_id = _find_group(conn, partner, direction, gs06(group_control), functional_id)
    conn.execute(update(_gr).where(_gr.c.id == group_id).values(ack_state=state, ack_code=code))
    for st02, (set_state, set_code) in (transactions or {}).items():
        conn.execute(
            update(_tx)
            .where(_tx.c.group_id == group_id, _tx.c.st02 == st02)
            .values(ack_state=set_state, ack_code=set_code)
        )
    states = conn.execute(select(_gr.c.ack_state).where(_gr.c.interchange_id == ix_id)).scalars()
    overall = _interchange_state(list(states))
    if overall is not None:
        conn.execute(update(_ix).where(_ix.c.id == ix_id).values(ack_status=overall, **done))
    return ix_id


@dataclass(frozen=True)
class Overdue:
    """An interchange we sent whose 997 did not come by its deadline."""

    id: int
    partner: str
    isa_control: str
    file_name: str | None
    sent_at: dt.datetime | None
    ack_due_at: dt.datetime
    newly: bool  # marked overdue by this call

    def as_json(self) -> dict[str, Any]:
        return {
            k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in vars(self).items()
        }


def overdue(conn: Connection, now: dt.datetime, mark: bool = True) -> list[Overdue]:
    """Every outbound interchange past its 997 deadline with no 997, oldest due first.

    With `mark`, those still `none` become `overdue` (with their unanswered groups), so
    the state is visible in the store; a 997 arriving later replaces it.
    """
    late = and_(
        _ix.c.direction == "out",
        _ix.c.ack_due_at.is_not(None),
        _ix.c.ack_due_at < now,
        _ix.c.ack_status.in_(("none", "overdue")),
    )
    cols = (_ix.c.id, _ix.c.partner, _ix.c.isa_control, _ix.c.file_name, _ix.c.sent_at)
    rows = conn.execute(
        select(*cols, _ix.c.ack_due_at, _ix.c.ack_status).where(late).order_by(_ix.c.ack_due_at)
    ).all()
    found = [
        Overdue(
            r.id,
            r.partner,
            r.isa_control,
            r.file_name,
            r.sent_at,
            r.ack_due_at,
            newly=mark and r.ack_status == "none",
        )
        for r in rows
    ]
    fresh = [o.id for o in found if o.newly]
    if fresh:
        # still `none`: a 997 recorded since the select above stays as it said
        still_open = _ix.c.id.in_(fresh) & (_ix.c.ack_status == "none")
        conn.execute(update(_ix).where(still_open).values(ack_status="overdue"))
        unanswered = _gr.c.interchange_id.in_(fresh) & (_gr.c.ack_state == "none")
        conn.execute(update(_gr).where(unanswered).values(ack_state="overdue"))
    return found
