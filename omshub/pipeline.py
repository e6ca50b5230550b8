"""One sync run: extract -> land -> map -> validate -> load (DESIGN.md §1).

Every step is a plain function keyed by ids that live in the store (run id, batch id),
so Airflow tasks can run them on any worker, retry them, and the CLI can call the same
functions in one process. Per batch, mapping, validation, quarantine, load, derived
values, watermark and statistics commit in one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from connectors.base import StreamRequest
from connectors.errors import FormatError
from connectors.registry import get_format, transport
from oms.db import get_engine, project_home
from oms.derive import refresh_order_lines, touched_lines
from oms.entities import SNAPSHOT_ENTITY
from oms.errors import FatalError, RejectThresholdExceeded
from oms.inventory import apply_movements, apply_snapshot
from oms.loader import LoadContext, Loader, LoadResult
from oms.models import LandedBatch, RunStat, SyncRun, Watermark, table
from oms.ownership import Ownership
from omshub import quarantine
from omshub.config import SourceConfig, config_dir, get_source
from omshub.landing import land, read_landed
from omshub.mappings import get_mapping
from transforms.casts import datetime_caster
from transforms.compiler import RECORD, CompiledMapping, MappedBatch
from transforms.validation import validate

log = logging.getLogger("omshub.pipeline")

_lb, _rs, _sr, _wm = (
    table(LandedBatch),
    table(RunStat),
    table(SyncRun),
    table(Watermark),
)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_run_id() -> str:
    return f"cli__{now():%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"


def ownership() -> Ownership:
    return Ownership.load(config_dir() / "ownership.yaml")


@dataclass
class BatchOutcome:
    batch_id: str
    source: str
    stream: str
    status: str
    records: int = 0
    quarantined_records: int = 0
    message: str | None = None
    entities: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


# --- run bookkeeping --------------------------------------------------------------------


def start_run(
    engine: Engine, source: str, run_id: str, trigger: str, status: str = "running"
) -> None:
    """Open (or re-open, on a task retry) the run; `extracted` once its batches are landed."""
    with engine.begin() as conn:
        if conn.execute(select(_sr.c.run_id).where(_sr.c.run_id == run_id)).scalar():
            conn.execute(update(_sr).where(_sr.c.run_id == run_id).values(status=status))
            return
        conn.execute(
            insert(_sr).values(
                run_id=run_id, source=source, trigger=trigger, status=status, started_at=now()
            )
        )


def _set_run(engine: Engine, run_id: str, status: str, message: str | None = None) -> None:
    with engine.begin() as conn:
        values: dict[str, Any] = {"status": status, "message": message}
        if status == "failed":
            values["finished_at"] = now()
        conn.execute(update(_sr).where(_sr.c.run_id == run_id).values(**values))


def finish_run(source: str, run_id: str, engine: Engine | None = None) -> dict[str, Any]:
    """Close the run; raise `FatalError` if any batch failed (after recording why)."""
    engine = engine or get_engine()
    with engine.begin() as conn:
        stats = conn.execute(select(_rs).where(_rs.c.run_id == run_id)).mappings().all()
        run = conn.execute(
            select(_sr.c.status, _sr.c.message).where(_sr.c.run_id == run_id)
        ).one_or_none()
        failed = [s for s in stats if s["status"] == "failed"]
        messages = {s["message"] or "" for s in failed}
        extract_failed = run is None or run.status in ("running", "failed")
        if extract_failed:
            # extraction never finished: loading what happened to land is not a whole run
            messages.add(
                run.message if run is not None and run.message else "extraction did not complete"
            )
        status = "failed" if failed or extract_failed else "success"
        message = "; ".join(sorted(messages))[:4000] or None
        conn.execute(
            update(_sr)
            .where(_sr.c.run_id == run_id)
            .values(status=status, finished_at=now(), message=message)
        )
    summary = {
        "source": source,
        "run_id": run_id,
        "status": status,
        "batches": len({s["batch_id"] for s in stats}),
    }
    if status == "failed":
        raise FatalError(
            f"run {run_id} of {source} failed ({len(failed)} failed batch entries): {message}"
        )
    return summary


# --- extract -----------------------------------------------------------------------------


def extract(
    source_name: str, run_id: str, trigger: str = "cli", engine: Engine | None = None
) -> list[str]:
    """Fetch every stream of the source and land each batch; return the batch ids to load."""
    engine = engine or get_engine()
    source = get_source(source_name)
    start_run(engine, source.name, run_id, trigger)
    try:
        ids = _extract_streams(engine, source, run_id)
    except Exception as e:
        _set_run(engine, run_id, "failed", f"extract failed: {type(e).__name__}: {e}"[:4000])
        raise
    _set_run(engine, run_id, "extracted", f"{len(ids)} batches to load")
    return ids


def _extract_streams(engine: Engine, source: SourceConfig, run_id: str) -> list[str]:
    options = source.connector.model_dump(exclude={"type"})
    options.setdefault("base", str(project_home()))
    tr = transport(source.connector.type, options)
    ids: list[str] = []
    for stream in source.streams:
        request = StreamRequest(
            stream.name,
            stream.format.type,
            {**stream.options, "pattern": stream.pattern},
            cursor=_watermark(engine, source.name, stream.name),
        )
        for raw in tr.fetch(request):
            batch_id = land(engine, source.name, stream.name, raw, run_id)
            if source.mode == "incremental" and _is_loaded(engine, batch_id):
                log.info("%s/%s %s: already loaded, skipped", source.name, stream.name, raw.name)
                continue
            log.info(
                "%s/%s %s: landed as %s (%d bytes)",
                source.name,
                stream.name,
                raw.name,
                batch_id,
                len(raw.content),
            )
            ids.append(batch_id)
    return ids


def _is_loaded(engine: Engine, batch_id: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(select(_lb.c.status).where(_lb.c.batch_id == batch_id)).scalar()
            == "loaded"
        )


def _watermark(engine: Engine, source: str, stream: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(_wm.c.cursor_value).where(_wm.c.source == source, _wm.c.stream == stream)
        ).scalar()


# --- map, validate, load -------------------------------------------------------------------


def map_records(mapping: CompiledMapping, records: list[Any]) -> MappedBatch:
    """Apply the mapping and every validation; reasons end up in `mapped.errors`."""
    mapped = mapping.apply(records)
    rules = mapping.rules()
    where = f"{mapping.file} (validation): "
    for entity, frame in mapped.frames.items():
        for rec, reasons in validate(entity, frame, rules.get(entity), where).items():
            mapped.errors.setdefault(rec, []).extend(reasons)
    return mapped


def read_batch(row: Any) -> list[Any]:
    source = get_source(row["source"])
    stream = source.stream(row["stream"])
    content = read_landed(row["uri"], row["checksum"])
    fmt = get_format(stream.format.type)
    return fmt.read(content, stream.format.model_dump(exclude={"type"}), row["original_name"] or "")


def process_batch(batch_id: str, run_id: str, engine: Engine | None = None) -> dict[str, Any]:
    """Map, validate and load one landed batch in one transaction; return its counts."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        row = conn.execute(select(_lb).where(_lb.c.batch_id == batch_id)).mappings().one_or_none()
    if row is None:
        raise FatalError(f"no landed batch {batch_id!r}")
    source = get_source(row["source"])
    stream = source.stream(row["stream"])
    outcome = BatchOutcome(batch_id, source.name, stream.name, "running")
    try:
        records = read_batch(row)
    except FormatError as e:
        _fail(engine, outcome, run_id, f"unparseable: {e}")
        raise
    mapping = get_mapping(stream.mapping)
    mapped = map_records(mapping, records)
    bad = mapped.bad_records()
    outcome.records, outcome.quarantined_records = len(records), len(bad)
    ctx = LoadContext(
        source.system, source.kind, run_id, batch_id, mapping.name, mapping.version, now()
    )
    over = bool(records) and len(bad) / len(records) > source.reject_threshold
    with engine.begin() as conn:
        quarantine.record(
            conn, source, stream.name, batch_id, run_id, mapping, records, mapped.errors
        )
        if over:
            outcome.status = "failed"
            outcome.message = (
                f"{len(bad)} of {len(records)} records of {row['original_name']} failed validation "
                f"({len(bad) / len(records):.0%} > reject_threshold {source.reject_threshold:.0%} "
                f"of source {source.name}); nothing of this batch was loaded, see "
                f"`omshub quarantine list --batch {batch_id}`"
            )
            for entity, frame in mapped.frames.items():
                _write_stat(
                    conn,
                    outcome,
                    run_id,
                    entity,
                    len(frame),
                    None,
                    int(frame[RECORD].isin(bad).sum()),
                )
            conn.execute(
                update(_lb)
                .where(_lb.c.batch_id == batch_id)
                .values(status="failed", message=outcome.message, record_count=len(records))
            )
        else:
            _load_all(conn, mapping, mapped, bad, ctx, outcome, run_id)
            _advance_watermark(conn, source, stream.name, stream.cursor_field, records, bad, run_id)
            conn.execute(
                update(_lb)
                .where(_lb.c.batch_id == batch_id)
                .values(status="loaded", loaded_at=ctx.now, record_count=len(records), message=None)
            )
            outcome.status = "success"
    if over:
        log.error("%s", outcome.message)
        raise RejectThresholdExceeded(outcome.message)
    counts = ", ".join(
        f"{e} {c['changed']} changed/{c['loaded']} loaded" for e, c in outcome.entities.items()
    )
    log.info(
        "%s/%s %s: %d records, %d quarantined; %s",
        source.name,
        stream.name,
        row["original_name"],
        len(records),
        len(bad),
        counts,
    )
    return outcome.as_dict()


def _load_all(
    conn: Connection,
    mapping: CompiledMapping,
    mapped: MappedBatch,
    bad: set[int],
    ctx: LoadContext,
    outcome: BatchOutcome,
    run_id: str,
) -> None:
    loader = Loader(ownership())
    line_keys: set[tuple[Any, ...]] = set()
    for entity in dict.fromkeys(mapping.entities):
        frame = mapped.frames.get(entity)
        if frame is None:
            continue
        is_bad = frame[RECORD].isin(bad)
        good = frame[~is_bad]
        if entity == SNAPSHOT_ENTITY:
            result = apply_snapshot(conn, good, ctx)
        else:
            result = loader.load(conn, entity, good, ctx)
        if entity == "inventory_movement":
            apply_movements(conn, result.inserted_rows, ctx)
        line_keys |= touched_lines(entity, good, result.changed_keys)
        _write_stat(conn, outcome, run_id, entity, len(frame), result, int(is_bad.sum()))
    if line_keys:
        refresh_order_lines(conn, line_keys, ctx)


def _write_stat(
    conn: Connection,
    outcome: BatchOutcome,
    run_id: str,
    entity: str,
    extracted: int,
    result: LoadResult | None,
    quarantined: int,
) -> None:
    counts = {
        "extracted": extracted,
        "loaded": result.loaded if result else 0,
        "changed": result.changed if result else 0,
        "stale": result.stale if result else 0,
        "quarantined": quarantined,
    }
    outcome.entities[entity] = counts
    conn.execute(
        delete(_rs).where(
            _rs.c.run_id == run_id, _rs.c.batch_id == outcome.batch_id, _rs.c.entity == entity
        )
    )
    conn.execute(
        insert(_rs).values(
            run_id=run_id,
            source=outcome.source,
            stream=outcome.stream,
            batch_id=outcome.batch_id,
            entity=entity,
            status="failed" if outcome.status == "failed" else "success",
            message=outcome.message,
            finished_at=now(),
            **counts,
        )
    )


def _fail(engine: Engine, outcome: BatchOutcome, run_id: str, message: str) -> None:
    outcome.status, outcome.message = "failed", message
    with engine.begin() as conn:
        conn.execute(
            update(_lb)
            .where(_lb.c.batch_id == outcome.batch_id)
            .values(status="failed", message=message[:4000])
        )
        _write_stat(conn, outcome, run_id, "*", 0, None, 0)


def _advance_watermark(
    conn: Connection,
    source: SourceConfig,
    stream: str,
    cursor_field: str | None,
    records: list[Any],
    bad: set[int],
    run_id: str,
) -> None:
    if not cursor_field:
        return
    cast = datetime_caster(None, "UTC")
    best: dt.datetime | None = None
    for i, rec in enumerate(records):
        if i in bad or not isinstance(rec, dict) or rec.get(cursor_field) in (None, ""):
            continue
        try:
            value = cast(rec[cursor_field])
        except ValueError:
            continue
        best = value if best is None or value > best else best
    if best is None:
        return
    current = conn.execute(
        select(_wm.c.cursor_value).where(_wm.c.source == source.name, _wm.c.stream == stream)
    ).scalar()
    text = best.isoformat()
    if current is None:
        conn.execute(
            insert(_wm).values(
                source=source.name,
                stream=stream,
                cursor_value=text,
                run_id=run_id,
                updated_at=now(),
            )
        )
    elif _cursor_time(current, cast) < best:
        conn.execute(
            update(_wm)
            .where(_wm.c.source == source.name, _wm.c.stream == stream)
            .values(cursor_value=text, run_id=run_id, updated_at=now())
        )


def _cursor_time(value: str, cast: Any) -> dt.datetime:
    """A stored cursor as a time; one set by hand that is not a time counts as the oldest."""
    try:
        parsed: dt.datetime = cast(value)
        return parsed
    except ValueError:
        log.warning("watermark %r is not an ISO time; replacing it", value)
        return dt.datetime.min.replace(tzinfo=dt.UTC)


# --- whole runs (CLI) ----------------------------------------------------------------------


@dataclass
class RunReport:
    source: str
    run_id: str
    batches: list[dict[str, Any]]
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


def run_source(
    name: str, run_id: str | None = None, engine: Engine | None = None, trigger: str = "cli"
) -> RunReport:
    """The same steps an Airflow run takes, in one process."""
    engine = engine or get_engine()
    run_id = run_id or new_run_id()
    batch_ids = extract(name, run_id, trigger, engine)
    return _process_many(name, run_id, batch_ids, engine)


def _process_many(name: str, run_id: str, batch_ids: list[str], engine: Engine) -> RunReport:
    report = RunReport(name, run_id, [], [])
    for batch_id in batch_ids:
        try:
            report.batches.append(process_batch(batch_id, run_id, engine))
        except (FatalError, FormatError) as e:
            report.errors.append(f"{batch_id}: {e}")
    with contextlib.suppress(FatalError):  # its reasons are already in report.errors
        finish_run(name, run_id, engine)
    return report


def replay(
    source: str | None = None, batch_ids: list[str] | None = None, engine: Engine | None = None
) -> list[RunReport]:
    """Re-run map+validate+load from landed batches (after a mapping or code-list fix)."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        q = select(_lb.c.source, _lb.c.batch_id).order_by(_lb.c.landed_at, _lb.c.batch_id)
        if batch_ids:
            q = q.where(_lb.c.batch_id.in_(batch_ids))
        elif source:
            q = q.where(_lb.c.source == source)
        rows = conn.execute(q).all()
    by_source: dict[str, list[str]] = {}
    for src, bid in rows:
        by_source.setdefault(src, []).append(bid)
    reports = []
    for src, ids in by_source.items():
        run_id = f"replay__{now():%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"
        start_run(engine, src, run_id, "replay", status="extracted")
        reports.append(_process_many(src, run_id, ids, engine))
    return reports
