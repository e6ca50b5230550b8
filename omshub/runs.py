"""Runs as a state machine (docs/operations.md): open, heartbeat, abandon, close.

A run is `running` while it extracts, `extracted` once its batches are landed, and ends
`success`, `partial` (some batches failed) or `failed` (extraction failed, or every batch
failed). A run whose process died is `abandoned` by the next run of its source: its
unprocessed batches are still `landed`, and that next run picks them up.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from oms.models import LandedBatch, RunStat, SyncRun, table

log = logging.getLogger("omshub.runs")
_lb, _rs, _sr = table(LandedBatch), table(RunStat), table(SyncRun)
OPEN = ("running", "extracted")
COUNTS = ("extracted", "loaded", "changed", "stale", "quarantined", "failed")
#: triggers whose whole run lives in one process (so a dead pid means a dead run)
ONE_PROCESS = ("cli", "replay", "retry", "backfill")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def abandon_after() -> dt.timedelta:
    """A run silent for this long is abandoned (`OMSHUB_ABANDON_AFTER_SECONDS`, default 900)."""
    return dt.timedelta(seconds=int(os.environ.get("OMSHUB_ABANDON_AFTER_SECONDS", "900")))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_dead(run: Any, trigger: str, holds_lock: bool, at: dt.datetime) -> str | None:
    """Why an open run of the same source is dead, or None when it may still be alive."""
    if run.host == socket.gethostname() and run.pid and not _pid_alive(run.pid):
        return f"its process {run.pid} on {run.host} is gone"
    if holds_lock and run.trigger in ONE_PROCESS:
        return "it no longer holds the source's run lock"
    if trigger == "airflow" and run.trigger == "airflow":
        return "a newer Airflow run of the source started (max_active_runs=1)"
    beat = run.heartbeat_at or run.started_at
    if beat is not None and at - beat > abandon_after():
        return f"no heartbeat since {beat.isoformat()}"
    return None


def _abandon_dead(
    conn: Connection, source: str, run_id: str, trigger: str, holds_lock: bool
) -> None:
    at = now()
    rows = conn.execute(
        select(_sr).where(_sr.c.source == source, _sr.c.status.in_(OPEN), _sr.c.run_id != run_id)
    ).all()
    for run in rows:
        why = _is_dead(run, trigger, holds_lock, at)
        if why is None:
            continue
        message = f"abandoned: {why}; its unprocessed batches are picked up by run {run_id}"
        log.warning("%s: run %s %s", source, run.run_id, message)
        conn.execute(
            update(_sr)
            .where(_sr.c.run_id == run.run_id)
            .values(status="abandoned", finished_at=at, message=message)
        )


def start_run(
    engine: Engine,
    source: str,
    run_id: str,
    trigger: str,
    status: str = "running",
    holds_lock: bool = False,
) -> None:
    """Open (or re-open, on a task retry) the run; abandon dead runs of the same source."""
    at = now()
    values: dict[str, Any] = {
        "status": status,
        "heartbeat_at": at,
        "host": socket.gethostname(),
        "pid": os.getpid() if trigger in ONE_PROCESS else None,
    }
    with engine.begin() as conn:
        _abandon_dead(conn, source, run_id, trigger, holds_lock)
        if conn.execute(select(_sr.c.run_id).where(_sr.c.run_id == run_id)).scalar():
            conn.execute(
                update(_sr)
                .where(_sr.c.run_id == run_id)
                .values(**values, finished_at=None, message=None, extract_error=None)
            )
            return
        conn.execute(
            _sr.insert().values(
                run_id=run_id, source=source, trigger=trigger, started_at=at, **values
            )
        )


def add_run_error(engine: Engine, run_id: str, error: str) -> None:
    """A failure outside any batch (a file not delivered): the run cannot end `success`."""
    with engine.begin() as conn:
        old = conn.execute(select(_sr.c.extract_error).where(_sr.c.run_id == run_id)).scalar()
        text = f"{old}; {error}" if old else error
        conn.execute(update(_sr).where(_sr.c.run_id == run_id).values(extract_error=text[:4000]))


def set_run(
    engine: Engine,
    run_id: str,
    status: str,
    message: str | None = None,
    extract_error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "message": message, "heartbeat_at": now()}
    if extract_error is not None:
        values["extract_error"] = extract_error[:4000]
    if status not in OPEN:
        values["finished_at"] = now()
    with engine.begin() as conn:
        conn.execute(update(_sr).where(_sr.c.run_id == run_id).values(**values))


def heartbeat(engine: Engine, run_id: str) -> None:
    """The run is alive (called per batch and per chunk of a long batch)."""
    with engine.begin() as conn:
        conn.execute(update(_sr).where(_sr.c.run_id == run_id).values(heartbeat_at=now()))


@dataclass
class RunSummary:
    source: str
    run_id: str
    status: str
    message: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    entities: dict[str, dict[str, int]] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for k in ("started_at", "finished_at"):
            out[k] = out[k].isoformat() if out[k] else None
        return out


def run_counts(conn: Connection, run_id: str) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Per-entity counts of a run, and its batches by outcome (loaded / failed / dead)."""
    cols = [func.sum(getattr(_rs.c, c)) for c in COUNTS]
    q = select(_rs.c.entity, *cols).where(_rs.c.run_id == run_id).group_by(_rs.c.entity)
    entities = {
        row[0]: {c: int(v or 0) for c, v in zip(COUNTS, row[1:], strict=True)}
        for row in conn.execute(q.order_by(_rs.c.entity))
        if row[0] != "*"
    }
    outcome = (
        select(_rs.c.batch_id, func.min(_rs.c.status))  # "failed" < "success"
        .where(_rs.c.run_id == run_id)
        .group_by(_rs.c.batch_id)
        .subquery()
    )
    q2 = select(_lb.c.status, outcome.c[1]).join(outcome, outcome.c.batch_id == _lb.c.batch_id)
    batches: dict[str, int] = {}
    for batch_status, run_status in conn.execute(q2):
        key = (
            "loaded"
            if run_status == "success"
            else batch_status
            if batch_status == "dead"
            else "failed"
        )
        batches[key] = batches.get(key, 0) + 1
    return entities, batches


def _status(extract_failed: bool, batches: dict[str, int]) -> str:
    bad = batches.get("failed", 0) + batches.get("dead", 0)
    if extract_failed or (bad and not batches.get("loaded")):
        return "failed"
    return "partial" if bad else "success"


def finish_run(source: str, run_id: str, engine: Engine) -> RunSummary:
    """Close the run from what its batches recorded; never raises for failed batches."""
    with engine.begin() as conn:
        run = conn.execute(select(_sr).where(_sr.c.run_id == run_id)).one_or_none()
        entities, batches = run_counts(conn, run_id)
        extract_failed = run is None or run.status in ("running", "failed")
        extract_failed = extract_failed or bool(run is not None and run.extract_error)
        messages = set(
            conn.execute(
                select(_rs.c.message).where(
                    _rs.c.run_id == run_id, _rs.c.status == "failed", _rs.c.message.is_not(None)
                )
            ).scalars()
        )
        if run is not None and run.extract_error:
            messages.add(run.extract_error)
        elif extract_failed:
            messages.add(
                run.message if run is not None and run.message else "extraction did not complete"
            )
        status = _status(extract_failed, batches)
        message = "; ".join(sorted(messages))[:4000] or None
        finished = now()
        conn.execute(
            update(_sr)
            .where(_sr.c.run_id == run_id)
            .values(status=status, finished_at=finished, message=message, heartbeat_at=finished)
        )
    return RunSummary(
        source,
        run_id,
        status,
        message,
        run.started_at if run is not None else None,
        finished,
        entities,
        batches,
    )
