"""Why a batch failed, recorded on the batch and the run (DESIGN.md §6).

Every exception that escapes processing, expected or not, is classified (config, data,
transport, internal), recorded on the landed batch (`failed`, or `dead` after the source's
`max_batch_attempts`; configuration errors do not count as attempts, they are not the
batch's fault) and in `run_stat`, and re-raised as one `BatchFailed` whose message names
source, stream, file and where known the line: the traceback goes to the log only.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, update
from sqlalchemy import exc as sa_exc

from oms.errors import (
    BatchFailed,
    ConfigError,
    DataError,
    OmshubError,
    RejectThresholdExceeded,
    RetriableError,
)
from oms.models import LandedBatch, table
from omshub import quarantine, stats
from omshub.config import get_source
from omshub.runs import now

if TYPE_CHECKING:
    from omshub.process import Progress

log = logging.getLogger("omshub.pipeline")
_lb = table(LandedBatch)
DEFAULT_ATTEMPTS = 3
#: PostgreSQL deadlock / serialization failure: the transaction rolled back cleanly
CONFLICT_STATES = ("40P01", "40001")


class Rejected(RejectThresholdExceeded):
    """Too many records of the batch failed validation; nothing of it is loaded."""


def check_threshold(source: Any, row: dict[str, Any], progress: Progress) -> None:
    n, bad = progress.records, len(progress.bad)
    if not n or bad / n <= source.reject_threshold:
        return
    raise Rejected(
        f"{bad} of {n} records of {row['original_name']} failed validation "
        f"({bad / n:.0%} > reject_threshold {source.reject_threshold:.0%} "
        f"of source {source.name}); nothing of this batch was loaded, see "
        f"`omshub quarantine list --batch {row['batch_id']}`"
    )


def _sqlstate(e: BaseException) -> str | None:
    orig = getattr(e, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def retry_on_conflict(fn: Callable[[], None], tries: int = 3) -> None:
    """Run `fn`; again (up to `tries`) when PostgreSQL aborted it for a deadlock."""
    for attempt in range(1, tries + 1):
        try:
            fn()
            return
        except sa_exc.DBAPIError as e:
            if _sqlstate(e) not in CONFLICT_STATES or attempt == tries:
                raise
            log.warning("load conflict with a concurrent batch (%s), retrying", _sqlstate(e))
            time.sleep(0.2 * attempt)


def classify(e: BaseException) -> tuple[str, bool, str]:
    """(kind, retriable, one-line reason) of an error that failed a batch."""
    if isinstance(e, ConfigError):
        return "config", False, str(e)
    if isinstance(e, DataError | RejectThresholdExceeded):
        return "data", False, str(e)
    if isinstance(e, RetriableError):
        return "transport", True, str(e)
    if isinstance(e, OmshubError):
        return "internal", False, str(e)
    if isinstance(e, sa_exc.IntegrityError | sa_exc.DataError):
        return "data", False, f"the store refused a value: {_first_line(e.orig)}"
    if isinstance(e, sa_exc.OperationalError | sa_exc.InterfaceError):
        return "internal", True, f"database error: {_first_line(e.orig)}"
    if isinstance(e, UnicodeDecodeError):
        return "data", False, f"not valid {e.encoding} at byte {e.start}: {e.reason}"
    if isinstance(e, RecursionError):
        return "data", False, "records are nested too deeply to read"
    if isinstance(e, csv.Error):
        return "data", False, f"CSV: {e}"
    return "internal", False, f"{type(e).__name__}: {e}"


def _first_line(e: Any) -> str:
    return (str(e).strip().splitlines() or [""])[0][:500]


def record(
    engine: Engine,
    row: dict[str, Any],
    run_id: str,
    error: BaseException,
    progress: Progress | None,
) -> BatchFailed:
    """Record the failure on the batch and the run; return the error to raise."""
    kind, retriable, reason = classify(error)
    where = f"{row['source']}/{row['stream']} {row['original_name'] or ''}".rstrip()
    message = reason if reason.startswith(where) else f"{where}: {reason}"
    try:
        max_attempts = get_source(row["source"]).max_batch_attempts
    except ConfigError:
        max_attempts = DEFAULT_ATTEMPTS
    log.debug("batch %s failed", row["batch_id"], exc_info=error)
    with engine.begin() as conn:
        # configuration errors are not the batch's fault; an Airflow task retry of the same
        # run is one attempt, not several (attempts count runs)
        same_run = row["status"] == "failed" and row["last_run_id"] == run_id
        inc = 0 if kind == "config" or same_run else 1
        conn.execute(
            update(_lb)
            .where(_lb.c.batch_id == row["batch_id"])
            .values(attempts=_lb.c.attempts + inc)
        )
        attempts = conn.execute(
            select(_lb.c.attempts).where(_lb.c.batch_id == row["batch_id"])
        ).scalar_one()
        status = "dead" if attempts >= max_attempts else "failed"
        if status == "dead":
            message += (
                f" [parked as dead after {attempts} attempts: fix the cause, then "
                f"`omshub batches retry {row['batch_id']}`]"
            )
        message = message[:4000]
        conn.execute(
            update(_lb)
            .where(_lb.c.batch_id == row["batch_id"])
            .values(
                status=status,
                message=message,
                error_kind=kind,
                failed_at=now(),
                last_run_id=run_id,
            )
        )
        _record_counts(conn, row, run_id, error, progress, message)
    log.error("%s", message)
    return BatchFailed(message, kind=kind, retriable=retriable and status != "dead")


def _record_counts(
    conn: Any,
    row: dict[str, Any],
    run_id: str,
    error: BaseException,
    progress: Progress | None,
    message: str,
) -> None:
    stats.clear(conn, run_id, row["batch_id"])
    if isinstance(error, Rejected) and progress is not None:
        source = get_source(row["source"])
        mapping_name = source.stream(row["stream"]).mapping
        from omshub.mappings import get_mapping

        quarantine.record(
            conn,
            source,
            row["stream"],
            row["batch_id"],
            run_id,
            get_mapping(mapping_name) if mapping_name else None,  # routed: on each entry
            progress.bad,
        )
        for entity, counts in progress.counts.items():
            stats.write_stat(conn, row, run_id, entity, counts.rejected(), "failed", message)
        return
    records = progress.records if progress is not None else 0
    counts = stats.Counts(extracted=records, failed=records)
    stats.write_stat(conn, row, run_id, "*", counts, "failed", message)
