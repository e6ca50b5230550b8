"""Extract and land: fetch every stream of a source, land each batch, list what to process.

What a run processes is decided here, from the store: the batches it landed now, plus the
source's batches that an earlier run left behind (`landed`, e.g. by a run that died) and
failed batches still within `max_batch_attempts`. Dead and discarded batches are never
picked up again by a run (an operator retries them with `omshub batches retry`).
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
from typing import Any

from sqlalchemy import Engine, or_, select

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.registry import build_transport
from oms.db import project_home
from oms.models import LandedBatch, Watermark, table
from omshub import runs
from omshub.config import SourceConfig, StreamSpec, get_source
from omshub.landing import land

log = logging.getLogger("omshub.pipeline")
_lb, _wm = table(LandedBatch), table(Watermark)
#: batch states a run never processes on its own
PARKED = ("dead", "discarded")
#: a backfill's [start, end) of update times (either end open)
Window = tuple[dt.datetime | None, dt.datetime | None]


def extract(
    source_name: str,
    run_id: str,
    trigger: str = "cli",
    engine: Engine | None = None,
    holds_lock: bool = False,
    streams: list[str] | None = None,
    window: Window | None = None,
) -> list[str]:
    """Fetch every stream of the source and land each batch; return the batch ids to load.

    `streams` limits the run to some streams; `window` makes it a backfill (the transport
    fetches what was updated in [start, end), whatever the watermark says).

    A stream whose transport fails half-way (a network error past the retries, or an
    endpoint refusing a request: a config error of that stream) does not stop the others,
    nor throw away what it landed before failing: those batches load (the watermark moves
    with them, so the next run resumes from there) and the run ends `failed` with the
    stream's error. Only when there is nothing at all to load is the error raised (Airflow
    retries it unless it is a config error). A source whose connector or connection is
    wrong fails before any stream.
    """
    from oms.db import get_engine

    engine = engine or get_engine()
    runs.start_run(engine, source_name, run_id, trigger, holds_lock=holds_lock)
    try:
        source = get_source(source_name)
        for name in streams or ():
            source.stream(name)  # an unknown stream is an error, not an empty run
        tr = open_transport(source)
        _settle_done(engine, source, tr)
        fresh, errors = _extract_streams(engine, source, run_id, tr, streams, window)
        ids = list(dict.fromkeys([*fresh, *_pending(engine, source)]))
        if errors and not ids:
            raise errors[0][1]
    except Exception as e:
        runs.set_run(engine, run_id, "failed", f"extract failed: {_describe(e)}"[:4000])
        raise
    extract_error = None
    if errors:
        extract_error = "extract failed: " + "; ".join(
            f"stream {name}: {_describe(e)}" for name, e in errors
        )
        log.error(
            "%s: %s (the %d batches landed before load)", source.name, extract_error, len(ids)
        )
    runs.set_run(engine, run_id, "extracted", f"{len(ids)} batches to load", extract_error)
    return ids


def _settle_done(engine: Engine, source: SourceConfig, tr: Any) -> None:
    """Archive (or move to error/) the source files of batches an earlier run finished."""
    from omshub.origins import settle_pending

    if getattr(tr, "finish", None) is None:
        return
    session = getattr(tr, "session", None)  # one connection for all of them (SFTP)
    with session() if session is not None else nullcontext():
        settle_pending(engine, source.name, tr)


def _describe(e: BaseException) -> str:
    from oms.errors import OmshubError

    return str(e) if isinstance(e, OmshubError) else f"{type(e).__name__}: {e}"


def open_transport(source: SourceConfig) -> Any:
    """The source's transport, with its connection's credentials resolved."""
    from omshub.credentials import resolve

    conn_id = source.connector.conn_id
    context = TransportContext(
        source=source.name,
        base=project_home(),
        credentials=resolve(conn_id) if conn_id else None,
        streams={s.name: source.stream_options(s) for s in source.streams},
    )
    return build_transport(source.connector, context)


def _extract_streams(
    engine: Engine,
    source: SourceConfig,
    run_id: str,
    tr: Any,
    streams: list[str] | None = None,
    window: Window | None = None,
) -> tuple[list[str], list[tuple[str, Exception]]]:
    """Batch ids landed per stream, and the streams that failed (with their error)."""

    ids: list[str] = []
    errors: list[tuple[str, Exception]] = []
    for stream in source.streams:
        if streams and stream.name not in streams:
            continue
        try:
            ids += _extract_stream(engine, source, stream, run_id, tr, window)
        except Exception as e:  # a refused endpoint (404, 403) is this stream's config error
            log.debug("%s/%s: extraction failed", source.name, stream.name, exc_info=e)
            errors.append((stream.name, e))
    return ids, errors


def _extract_stream(
    engine: Engine,
    source: SourceConfig,
    stream: StreamSpec,
    run_id: str,
    tr: Any,
    window: Window | None,
) -> list[str]:
    """Land every batch the transport yields for one stream; the ids to process."""
    request = StreamRequest(
        stream.name,
        stream.format.type,
        source.stream_options(stream),
        cursor=watermark(engine, source.name, stream.name),
        window=window,
    )
    where = f"{source.name}/{stream.name}"
    ids: list[str] = []
    for raw in tr.fetch(request):
        batch_id = land(engine, source.name, stream.name, raw, run_id)
        status = _status(engine, batch_id)
        if status in ("loaded", *PARKED) and raw.metadata.get("claim"):
            _finish_duplicate(tr, raw, batch_id, status)
        if status in PARKED or (source.mode == "incremental" and status == "loaded"):
            log.info(
                "%s %s: same bytes as batch %s, which is %s: skipped",
                where,
                raw.name,
                batch_id,
                status,
            )
            continue
        log.info("%s %s: landed as %s (%d bytes)", where, raw.name, batch_id, len(raw.content))
        ids.append(batch_id)
    return ids


def _finish_duplicate(tr: Any, raw: RawBatch, batch_id: str, status: str | None) -> None:
    """A claimed file whose bytes were already landed and done is finished at once
    (archived when that batch loaded, else moved to error/): it never stays in
    `processing/`, and a later finish of that batch is for its own first file."""
    finish = getattr(tr, "finish", None)
    if finish is None:
        return
    ok = status == "loaded"
    finish(raw.metadata, ok, None if ok else f"same bytes as batch {batch_id}, which is {status}")


def _pending(engine: Engine, source: SourceConfig) -> list[str]:
    """Batches earlier runs left: never processed, or failed and still to be retried."""
    q = (
        select(_lb.c.batch_id)
        .where(_lb.c.source == source.name)
        .where(
            or_(
                _lb.c.status == "landed",
                (_lb.c.status == "failed") & (_lb.c.attempts < source.max_batch_attempts),
            )
        )
        .order_by(_lb.c.landed_at, _lb.c.batch_id)
    )
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def _status(engine: Engine, batch_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(_lb.c.status).where(_lb.c.batch_id == batch_id)).scalar()


def watermark(engine: Engine, source: str, stream: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(_wm.c.cursor_value).where(_wm.c.source == source, _wm.c.stream == stream)
        ).scalar()
