"""One sync run: extract -> land -> map -> validate -> load (DESIGN.md §1).

The steps live in their own modules (`extract`, `process`, `runs`, `failures`); this is
the face the CLI, the DAGs and the tests call. Every step is a plain function keyed by ids
that live in the store (run id, batch id), so Airflow tasks can run them on any worker
and retry them, and the CLI runs the same functions in one process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from oms.db import get_engine
from oms.errors import BatchFailed, ConfigError
from oms.models import LandedBatch, table
from omshub.config import get_source
from omshub.extract import Window, extract
from omshub.process import BatchOutcome, map_records, ownership, process_batch
from omshub.runhooks import after_run_hook
from omshub.runs import RunSummary, heartbeat, now, start_run
from omshub.runs import finish_run as _finish_run

__all__ = [
    "BatchOutcome",
    "RunReport",
    "extract",
    "finish_run",
    "map_records",
    "new_run_id",
    "ownership",
    "process_batch",
    "replay",
    "run_source",
]

log = logging.getLogger("omshub.pipeline")
_lb = table(LandedBatch)


def new_run_id(prefix: str = "cli") -> str:
    return f"{prefix}__{now():%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"


def finish_run(source: str, run_id: str, engine: Engine | None = None) -> RunSummary:
    """Close the run from its batches' outcomes (`success`, `partial` or `failed`), after
    the hook of the source's kind (`omshub.runhooks`: a partner's inbox first sends what
    is pending and marks overdue 997s). A source no longer configured has no hook."""
    engine = engine or get_engine()
    try:
        cfg = get_source(source)
    except ConfigError:
        cfg = None
    hook = after_run_hook(cfg.kind) if cfg is not None else None
    if hook is not None:
        hook(engine, cfg, run_id)
    return _finish_run(source, run_id, engine)


@dataclass
class RunReport:
    source: str
    run_id: str
    batches: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    summary: RunSummary | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and (self.summary is None or self.summary.ok)

    @property
    def status(self) -> str:
        return self.summary.status if self.summary else ("failed" if self.errors else "success")


def run_source(
    name: str,
    run_id: str | None = None,
    engine: Engine | None = None,
    trigger: str = "cli",
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    streams: list[str] | None = None,
    window: Window | None = None,
) -> RunReport:
    """The same steps an Airflow run takes, in one process, holding the source's run lock.

    A second run of the same source waits for the first (or raises `SourceBusy` when
    `wait` is false). An extraction error with nothing landed ends the run `failed` and
    is re-raised. `streams` and `window` (a backfill of [start, end)) go to `extract`.
    """
    from oms.locks import source_run_lock

    engine = engine or get_engine()
    run_id = run_id or new_run_id(trigger)
    with source_run_lock(engine, name, wait=wait, on_wait=on_wait or log.warning):
        batch_ids = extract(
            name, run_id, trigger, engine, holds_lock=True, streams=streams, window=window
        )
        return _process_many(name, run_id, batch_ids, engine)


def _process_many(name: str, run_id: str, batch_ids: list[str], engine: Engine) -> RunReport:
    """Every batch, whatever happened to the others; then close the run."""
    report = RunReport(name, run_id)
    for batch_id in batch_ids:
        try:
            outcome = process_batch(batch_id, run_id, engine)
        except BatchFailed as e:
            report.errors.append(f"{batch_id}: {e}")
        else:
            report.batches.append(outcome)
        heartbeat(engine, run_id)
    report.summary = finish_run(name, run_id, engine)
    return report


def replay(
    source: str | None = None,
    batch_ids: list[str] | None = None,
    engine: Engine | None = None,
    trigger: str = "replay",
    on_wait: Callable[[str], None] | None = None,
) -> list[RunReport]:
    """Re-run map+validate+load from landed batches (after a mapping or code-list fix).

    Discarded batches are never replayed; dead ones only when named by id (after
    `omshub batches retry` reset them). Each source's batches are processed under its run
    lock, so a replay never runs beside a scheduled run of the same source.
    """
    engine = engine or get_engine()
    with engine.connect() as conn:
        q = select(_lb.c.source, _lb.c.batch_id).order_by(_lb.c.landed_at, _lb.c.batch_id)
        if batch_ids:
            q = q.where(_lb.c.batch_id.in_(batch_ids))
        elif source:
            q = q.where(_lb.c.source == source, _lb.c.status.not_in(("dead", "discarded")))
        rows = conn.execute(q).all()
    missing = sorted(set(batch_ids or ()) - {bid for _, bid in rows})
    if missing:
        raise ConfigError(
            f"no landed batch {', '.join(map(repr, missing))} (see `omshub batches list`)"
        )
    if source and not batch_ids:
        get_source(source)  # an unknown name is an error, not an empty replay
    by_source: dict[str, list[str]] = {}
    for src, bid in rows:
        by_source.setdefault(src, []).append(bid)
    from oms.locks import source_run_lock

    reports = []
    for src, ids in by_source.items():
        run_id = new_run_id(trigger)
        with source_run_lock(engine, src, wait=True, on_wait=on_wait or log.warning):
            start_run(engine, src, run_id, trigger, status="extracted", holds_lock=True)
            reports.append(_process_many(src, run_id, ids, engine))
    return reports
