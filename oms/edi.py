"""The EDI registry: every X12 interchange in and out per partner, its groups and sets,
acknowledgement state, and the control numbers we allocate.

Every function takes a SQLAlchemy `Connection` inside the caller's transaction, so the
registry row commits (or rolls back) with the work it records: a file registered as
received is loaded in the same transaction, a control number allocated for a file that
failed to be written is never seen as used.

Concurrency is the database's job, not ours:
- `register_inbound` inserts with `ON CONFLICT DO NOTHING ... RETURNING`: of two workers
  registering the same re-delivered ISA13, exactly one wins; the other is told
  `duplicate` with the winner's row (on PostgreSQL it waits for the winner to commit).
- `allocate` is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement: the row
  lock on PostgreSQL (SQLite's single writer) serialises allocators, each gets a distinct
  run of numbers. On SQLite call it in `oms.locks.write_transaction` when the
  transaction read before (a deferred transaction that read an older snapshot cannot
  take the write lock later).
Control numbers run 1..999,999,999 and then wrap to 1, which X12 allows for ISA13
(9 digits) and which GS06 and ST02 share here; the partner then sees a number again
after a billion interchanges.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from oms.base import table
from oms.bookkeeping import EdiControlNumber, EdiGroup, EdiInterchange, EdiTransaction
from oms.edifacts import (
    Direction,
    GroupFacts,
    InterchangeFacts,
    TransactionFacts,
    gs06,
    isa13,
)
from oms.errors import DataError

__all__ = [
    "ACK_STATES",
    "KINDS",
    "MAX_ALLOCATE",
    "MAX_CONTROL",
    "AckState",
    "Direction",
    "EdiRegistryError",
    "Gap",
    "GroupFacts",
    "InterchangeFacts",
    "Kind",
    "Overdue",
    "Previous",
    "Registered",
    "TransactionFacts",
    "allocate",
    "gaps",
    "gs06",
    "interchanges",
    "isa13",
    "mark_acknowledged",
    "overdue",
    "record_groups",
    "record_outbound",
    "register_inbound",
    "sent_order_origin",
    "set_last",
    "set_status",
    "utcnow",
]

Kind = Literal["isa", "gs", "st"]
AckState = Literal[
    "none", "accepted", "accepted_with_errors", "partially_accepted", "rejected", "overdue"
]
ACK_STATES: tuple[str, ...] = AckState.__args__  # type: ignore[attr-defined]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
MAX_CONTROL = 999_999_999
#: most numbers one `allocate` call hands out (a file's transaction sets, at most)
MAX_ALLOCATE = 1_000_000

_ix = table(EdiInterchange)
_gr = table(EdiGroup)
_tx = table(EdiTransaction)
_cn = table(EdiControlNumber)


class EdiRegistryError(DataError):
    """A registry request that does not fit what is stored (an ack for an unknown group,
    an outbound ISA13 used twice); the message names partner and control number."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- inbound ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Previous:
    """The interchange registered first, which a duplicate repeats."""

    id: int
    file_name: str | None
    batch_id: str | None
    status: str | None
    received_at: dt.datetime | None


@dataclass(frozen=True)
class Registered:
    id: int  # the registered row (the earlier one for a duplicate)
    duplicate: bool
    previous: Previous | None = None


def _insert(conn: Connection, t: Table) -> Any:
    """The dialect's INSERT (with ON CONFLICT), PostgreSQL or SQLite."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(t)


def register_inbound(
    conn: Connection, partner: str, facts: InterchangeFacts, now: dt.datetime | None = None
) -> Registered:
    """Record a received interchange and its groups, unless the same sender's ISA13 is
    already registered: then nothing is written and `duplicate` is true, with the
    earlier interchange in `previous` (a re-delivered file is never loaded twice)."""
    row = facts.row(partner, "in") | {
        "status": facts.status or "received",
        "received_at": now or utcnow(),
    }
    stmt = _insert(conn, _ix).values(row).on_conflict_do_nothing().returning(_ix.c.id)
    won = conn.execute(stmt).scalar()
    if won is not None:
        record_groups(conn, won, facts.groups)
        return Registered(id=won, duplicate=False)
    key = (_ix.c.partner == partner) & (_ix.c.direction == "in")
    key &= (_ix.c.sender_id == row["sender_id"]) & (_ix.c.isa_control == row["isa_control"])
    cols = (_ix.c.id, _ix.c.file_name, _ix.c.batch_id, _ix.c.status, _ix.c.received_at)
    first = conn.execute(select(*cols).where(key)).one()
    return Registered(id=first.id, duplicate=True, previous=Previous(*first))


def record_groups(conn: Connection, interchange_id: int, groups: Iterable[GroupFacts]) -> list[int]:
    """Record an interchange's groups and their sets (the reader streams them: call it
    per group, or once with all). Returns the group ids."""
    ids: list[int] = []
    for g in groups:
        gid = conn.execute(
            _gr.insert()
            .values(
                interchange_id=interchange_id,
                gs01=g.gs01,
                gs02=g.gs02,
                gs03=g.gs03,
                gs06=gs06(g.gs06),
                gs08=g.gs08,
                set_count=len(g.transactions) if g.set_count is None else g.set_count,
                ack_state="none",
            )
            .returning(_gr.c.id)
        ).scalar_one()
        if g.transactions:
            sets = [{"group_id": gid, "ack_state": "none", **vars(t)} for t in g.transactions]
            conn.execute(_tx.insert(), sets)
        ids.append(gid)
    return ids


def set_status(
    conn: Connection,
    interchange_id: int,
    status: str,
    message: str | None = None,
    batch_id: str | None = None,
) -> None:
    """The inbox's verdict on an interchange: loaded | partial | failed | rejected."""
    values: dict[str, Any] = {"status": status, "message": message}
    if batch_id is not None:
        values["batch_id"] = batch_id
    conn.execute(update(_ix).where(_ix.c.id == interchange_id).values(values))


@dataclass(frozen=True)
class Gap:
    """Inbound control numbers `first`..`last` never received from `sender`."""

    sender: str
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def gaps(
    conn: Connection, partner: str, kind: Literal["isa", "gs"], since: dt.datetime | None = None
) -> list[Gap]:
    """Numbers missing between the lowest and highest inbound ISA13 (per ISA sender id)
    or GS06 (per GS02 application sender) received from `partner` (since `since`).

    A report, not an error: partners need not number without holes, but a gap often is
    a lost file. A sequence that restarted or wrapped shows as one wide gap.
    """
    if kind == "isa":
        q = select(_ix.c.sender_id, _ix.c.isa_control)
    elif kind == "gs":
        q = select(_gr.c.gs02, _gr.c.gs06).join(_ix, _ix.c.id == _gr.c.interchange_id)
    else:
        raise ValueError(f"gaps are reported for isa or gs numbers, not {kind!r}")
    q = q.where(_ix.c.partner == partner, _ix.c.direction == "in")
    if since is not None:
        q = q.where(_ix.c.received_at >= since)
    seen: dict[str, set[int]] = {}
    for sender, number in conn.execute(q):
        if number and number.strip().isdigit():
            seen.setdefault(sender or "", set()).add(int(number))
    out: list[Gap] = []
    for sender, numbers in sorted(seen.items()):
        ordered = sorted(numbers)
        out += [Gap(sender, a + 1, b - 1) for a, b in itertools.pairwise(ordered) if b > a + 1]
    return out


# --- outbound -----------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"control number kind is one of {', '.join(KINDS)}, not {kind!r}")


def allocate(
    conn: Connection, partner: str, kind: Kind, n: int = 1, now: dt.datetime | None = None
) -> list[int]:
    """The next `n` control numbers of `kind` for `partner`: distinct and increasing
    (wrapping from 999,999,999 to 1), held by the caller's transaction until it commits.
    A rolled-back transaction gives its numbers back."""
    _check_kind(kind)
    if not 1 <= n <= MAX_ALLOCATE:
        raise ValueError(f"allocate 1..{MAX_ALLOCATE} numbers at a time, not {n}")
    ins = _insert(conn, _cn).values(
        partner=partner, kind=kind, last_value=n, updated_at=now or utcnow()
    )
    stmt = ins.on_conflict_do_update(
        index_elements=[_cn.c.partner, _cn.c.kind],
        set_={
            "last_value": (_cn.c.last_value + n - 1) % MAX_CONTROL + 1,
            "updated_at": ins.excluded.updated_at,
        },
    ).returning(_cn.c.last_value)
    last = conn.execute(stmt).scalar_one()
    return [(last - n + i) % MAX_CONTROL + 1 for i in range(n)]


def set_last(
    conn: Connection, partner: str, kind: Kind, value: int, now: dt.datetime | None = None
) -> None:
    """Continue `partner`'s numbering of `kind` after `value` (the last number another
    translator sent them, when a partner moves to omshub): the next `allocate` gives
    `value + 1`. 0 starts again at 1."""
    _check_kind(kind)
    if not 0 <= value <= MAX_CONTROL:
        raise ValueError(f"the last control number is 0..{MAX_CONTROL}, not {value}")
    ins = _insert(conn, _cn).values(
        partner=partner, kind=kind, last_value=value, updated_at=now or utcnow()
    )
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[_cn.c.partner, _cn.c.kind],
            set_={"last_value": value, "updated_at": ins.excluded.updated_at},
        )
    )


def record_outbound(
    conn: Connection,
    partner: str,
    facts: InterchangeFacts,
    ack_within: dt.timedelta | None,
    sent_at: dt.datetime | None = None,
) -> int:
    """Record an interchange we sent, due a 997 within `ack_within` (none: no 997
    expected, never overdue). Returns its id; an ISA13 already sent to this partner
    from the same sender id is an `EdiRegistryError` (numbers come from `allocate`)."""
    at = sent_at or utcnow()
    row = facts.row(partner, "out") | {
        "status": facts.status or "sent",
        "sent_at": at,
        "ack_due_at": at + ack_within if ack_within is not None else None,
    }
    stmt = _insert(conn, _ix).values(row).on_conflict_do_nothing().returning(_ix.c.id)
    new = conn.execute(stmt).scalar()
    if new is None:
        raise EdiRegistryError(
            f"partner {partner!r}: ISA13 {row['isa_control']} from {row['sender_id']} was already"
            " sent; allocate a new control number"
        )
    record_groups(conn, new, facts.groups)
    return int(new)


# --- listing -----------------------------------------------------------------------------


def interchanges(
    conn: Connection,
    partner: str | None = None,
    direction: Direction | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """A page of registered interchanges, newest first, and how many match in all."""
    where = []
    if partner is not None:
        where.append(_ix.c.partner == partner)
    if direction is not None:
        where.append(_ix.c.direction == direction)
    total = conn.execute(select(func.count()).select_from(_ix).where(*where)).scalar_one()
    q = select(_ix).where(*where).order_by(_ix.c.id.desc()).limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(q)], int(total)


# acknowledgements live in oms.ediacks; imported last, as it builds on what is above
from oms.ediacks import Overdue, mark_acknowledged, overdue  # noqa: E402


def sent_order_origin(conn: Connection, partner: str, st01: str, reference: str) -> str | None:
    """Whose order (`order_origin`) the latest `st01` set we sent `partner` about
    `reference` was: a 945 names the order of our 940 by number only."""
    query = (
        select(_tx.c.order_origin)
        .join(_gr, _gr.c.id == _tx.c.group_id)
        .join(_ix, _ix.c.id == _gr.c.interchange_id)
        .where(_ix.c.partner == partner, _ix.c.direction == "out")
        .where(_tx.c.st01 == st01, _tx.c.reference == reference)
        .where(_tx.c.order_origin.is_not(None))
        .order_by(_tx.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).scalar()
