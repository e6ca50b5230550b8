"""Operator control over landed batches: list, show, retry and discard (docs/operations.md).

A batch is a state machine kept in `landed_batch`: `landed` -> `loaded`, or `failed`
(retried by later runs until the source's `max_batch_attempts`) -> `dead`, or `discarded`
by an operator. Nothing here deletes a row or a landed file: the table is the audit trail of
what each system sent and what became of it, so a discard records who, why and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select, update

from oms.errors import OmshubError
from oms.models import LandedBatch, Quarantine, RunStat, table
from omshub.quarantine import dismiss_batch
from omshub.report import iso

BATCH_STATUSES = ("landed", "loaded", "failed", "dead", "discarded")
#: a retry puts these back to `landed`; `discarded` only when forced (an operator's undo)
RETRYABLE = ("landed", "failed", "dead")
#: what an operator may discard: anything whose rows are not in the store
DISCARDABLE = ("landed", "failed", "dead")

_lb, _rs, _q = table(LandedBatch), table(RunStat), table(Quarantine)

_TIMES = ("landed_at", "loaded_at", "failed_at", "discarded_at")


class InvalidRequest(OmshubError):
    """An operator's request names something that does not exist or cannot be done as asked
    (unknown batch, a loaded batch to discard, a bogus status): fix the command, not the data.
    """


def check_status(status: str | None, allowed: tuple[str, ...] = BATCH_STATUSES) -> str | None:
    """`None`/"all" mean every status; anything else must be one of `allowed`."""
    if status in (None, "all"):
        return None
    if status not in allowed:
        raise InvalidRequest(f"unknown status {status!r} (one of: {', '.join(allowed)}, all)")
    return status


def _row(r: Any) -> dict[str, Any]:
    out = dict(r)
    for k in _TIMES:
        out[k] = iso(out.get(k))
    return out


def list_batches(
    engine: Engine,
    source: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of batches, newest first, and how many match in all (never the page size)."""
    if limit < 1 or offset < 0:
        raise InvalidRequest(f"limit must be >= 1 and offset >= 0 (got {limit}, {offset})")
    wanted = check_status(status)
    cond = []
    if source:
        cond.append(_lb.c.source == source)
    if wanted:
        cond.append(_lb.c.status == wanted)
    q = (
        select(_lb)
        .where(*cond)
        .order_by(_lb.c.landed_at.desc(), _lb.c.batch_id)
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(_lb).where(*cond)).scalar() or 0)
        rows = [_row(r) for r in conn.execute(q).mappings()]
    return rows, total


def find_batch(engine: Engine, batch_id: str) -> dict[str, Any] | None:
    """The `landed_batch` row, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(_lb).where(_lb.c.batch_id == batch_id)).mappings().one_or_none()
    return dict(row) if row is not None else None


def _one(engine: Engine, batch_id: str) -> dict[str, Any]:
    row = find_batch(engine, batch_id)
    if row is None:
        raise InvalidRequest(f"no batch {batch_id!r} (see `omshub batches list`)")
    return row


def get_batch(engine: Engine, batch_id: str) -> dict[str, Any]:
    """The batch row, what every run made of it (`run_stat` rows) and its open quarantine."""
    out = _row(_one(engine, batch_id))
    with engine.connect() as conn:
        stats = conn.execute(
            select(_rs).where(_rs.c.batch_id == batch_id).order_by(_rs.c.id)
        ).mappings()
        out["runs"] = [
            {k: (iso(v) if k == "finished_at" else v) for k, v in s.items() if k != "id"}
            for s in stats
        ]
        out["open_quarantine"] = int(
            conn.execute(
                select(func.count())
                .select_from(_q)
                .where(_q.c.batch_id == batch_id, _q.c.status == "open")
            ).scalar()
            or 0
        )
    return out


def discard_batch(engine: Engine, batch_id: str, reason: str, by: str) -> dict[str, Any]:
    """Park a batch for good: status `discarded` with who, why and when; nothing deleted.

    A loaded batch is refused (its rows are in the store; discarding would hide that, not
    undo it). Its open quarantine entries become `dismissed`: no replay will load them.
    """
    if not reason.strip():
        raise InvalidRequest("a discard needs a reason (--reason TEXT)")
    if not by.strip():
        raise InvalidRequest("a discard needs a name (--by NAME)")
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        done = conn.execute(
            update(_lb)
            .where(_lb.c.batch_id == batch_id, _lb.c.status.in_(DISCARDABLE))
            .values(
                status="discarded",
                discarded_by=by.strip()[:128],
                discarded_reason=reason.strip(),
                discarded_at=now,
            )
        ).rowcount
        dismissed = dismiss_batch(conn, batch_id, f"discard:{by.strip()}"[:64], now) if done else 0
    if not done:
        row = _one(engine, batch_id)
        if row["status"] == "discarded":
            raise InvalidRequest(
                f"batch {batch_id} was already discarded by {row['discarded_by']} at "
                f"{iso(row['discarded_at'])}: {row['discarded_reason']}"
            )
        raise InvalidRequest(
            f"batch {batch_id} is {row['status']}: its rows are in the store, so it cannot be "
            "discarded (a later batch of the source corrects them)"
        )
    from omshub.origins import settle

    settle(engine, batch_id)  # a claimed source file goes to error/ with the reason
    return {**get_batch(engine, batch_id), "dismissed": dismissed}


def _refusal(row: dict[str, Any], force: bool) -> str | None:
    """Why `row` cannot be retried, or None."""
    if row["status"] in RETRYABLE or (force and row["status"] == "discarded"):
        return None
    if row["status"] == "discarded":
        return (
            f"batch {row['batch_id']} was discarded by {row['discarded_by']} "
            f"({row['discarded_reason']}); retry it with --force to undo the discard"
        )
    return (
        f"batch {row['batch_id']} is {row['status']}: nothing to retry "
        f"(`omshub replay --batch {row['batch_id']}` re-runs a loaded batch)"
    )


def check_retry(engine: Engine, batch_ids: list[str], force: bool = False) -> None:
    """Refuse the whole request (nothing reset) if any batch is unknown or not retryable."""
    for batch_id in batch_ids:
        why = _refusal(_one(engine, batch_id), force)
        if why:
            raise InvalidRequest(why)


def reset_for_retry(engine: Engine, batch_id: str, force: bool = False) -> dict[str, Any]:
    """Make a failed or dead batch eligible again: attempts 0, status `landed`.

    The last failure message stays on the row until the retry replaces it. A loaded batch is
    refused (`omshub replay --batch` re-runs those); a discarded one only with `force`, which
    is an operator's undo: the discard's who/why/when columns are kept as its history.
    A `landed` batch (never processed yet) is left as it is and retried all the same.
    """
    allowed = (*RETRYABLE, "discarded") if force else RETRYABLE
    with engine.begin() as conn:
        done = conn.execute(
            update(_lb)
            .where(_lb.c.batch_id == batch_id, _lb.c.status.in_(allowed))
            .values(status="landed", attempts=0)
        ).rowcount
    row = _one(engine, batch_id)
    if not done:
        raise InvalidRequest(_refusal(row, force) or f"batch {batch_id} changed meanwhile")
    return _row(row)
