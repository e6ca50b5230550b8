"""Process one landed batch: parse, map, validate, quarantine and load, in one transaction.

The landed file is read as a stream in chunks of records, each chunk mapped, validated and
loaded inside the batch's single transaction, so memory stays bounded by the chunk and not
by the file, and the batch still commits whole or not at all (watermark, quarantine and
counts included). Any error, expected or not, fails the batch: `omshub.failures` records
why on the batch and the run, and the run goes on with its next batch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, BinaryIO

from sqlalchemy import Connection, Engine, update

from connectors.base import BadRecord, iter_records
from connectors.registry import get_format
from oms.derive import refresh_order_lines, touched_lines
from oms.entities import SNAPSHOT_ENTITY
from oms.inventory import apply_movements, apply_snapshot
from oms.loader import LoadContext, Loader
from oms.models import LandedBatch, table
from oms.ownership import Ownership
from omshub import failures, quarantine, stats, watermark
from omshub.config import StreamSpec, config_dir, get_source
from omshub.landing import open_landed
from omshub.mappings import get_mapping
from omshub.quarantine import BadEntry, format_reason
from omshub.runs import now
from omshub.stats import Counts, write_stat
from transforms.compiler import RECORD, CompiledMapping, MappedBatch
from transforms.validation import validate

log = logging.getLogger("omshub.pipeline")
_lb = table(LandedBatch)
#: batch states processing leaves alone (an operator retries them explicitly)
PARKED = ("dead", "discarded")


def chunk_records() -> int:
    """Records per chunk (`OMSHUB_CHUNK_RECORDS`, default 50,000): bounds memory per batch."""
    return max(1, int(os.environ.get("OMSHUB_CHUNK_RECORDS", "50000")))


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


@dataclass
class Progress:
    """What a batch has produced so far, across its chunks."""

    records: int = 0
    bad: list[BadEntry] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    cursor: Any = None

    def entity(self, name: str) -> Counts:
        return self.counts.setdefault(name, Counts())


def map_records(mapping: CompiledMapping, records: list[Any]) -> MappedBatch:
    """Apply the mapping and every validation; reasons end up in `mapped.errors`."""
    mapped = mapping.apply(records)
    rules = mapping.rules()
    where = f"{mapping.file} (validation): "
    for entity, frame in mapped.frames.items():
        for rec, reasons in validate(entity, frame, rules.get(entity), where).items():
            mapped.errors.setdefault(rec, []).extend(reasons)
    return mapped


def ownership() -> Ownership:
    """The field ownership rules of `config/ownership.yaml`."""
    return Ownership.load(config_dir() / "ownership.yaml")


def batch_row(engine: Engine, batch_id: str) -> dict[str, Any]:
    from oms.errors import ConfigError
    from omshub.batches import find_batch

    row = find_batch(engine, batch_id)
    if row is None:
        raise ConfigError(f"no landed batch {batch_id!r} (see `omshub batches list`)")
    return row


def process_batch(batch_id: str, run_id: str, engine: Engine | None = None) -> dict[str, Any]:
    """Map, validate and load one landed batch in one transaction; return its counts.

    On any failure the batch is recorded `failed` (or `dead`) with the reason, and
    `BatchFailed` is raised; a parked (dead or discarded) batch is skipped.
    """
    from oms.db import get_engine

    engine = engine or get_engine()
    row = batch_row(engine, batch_id)
    outcome = BatchOutcome(batch_id, row["source"], row["stream"], "running")
    if row["status"] in PARKED:
        outcome.status, outcome.message = "skipped", f"batch is {row['status']}"
        return outcome.as_dict()
    attempts: list[Progress] = []

    def attempt() -> None:
        attempts.append(Progress())  # a retried attempt starts afresh
        _process(engine, row, run_id, outcome, attempts[-1])

    try:
        failures.retry_on_conflict(attempt)
    except Exception as e:
        raise failures.record(engine, row, run_id, e, attempts[-1] if attempts else None) from e
    _log_done(row, outcome)
    return outcome.as_dict()


def _process(
    engine: Engine, row: dict[str, Any], run_id: str, outcome: BatchOutcome, progress: Progress
) -> None:
    from oms.locks import source_xact_lock, write_transaction

    source = get_source(row["source"])
    stream = source.stream(row["stream"])
    mapping = get_mapping(stream.mapping)
    ctx = LoadContext(
        source.system, source.kind, run_id, row["batch_id"], mapping.name, mapping.version, now()
    )
    with open_landed(row["uri"], row["checksum"]) as fh, write_transaction(engine) as conn:
        source_xact_lock(conn, source.name)
        name = row["original_name"] or row["batch_id"]
        for chunk in _locked_chunks(conn, _records(stream, fh, name), mapping):
            _load_chunk(conn, chunk, mapping, ctx, stream, name, progress)
        failures.check_threshold(source, row, progress)
        quarantine.record(conn, source, stream.name, ctx.batch_id, run_id, mapping, progress.bad)
        watermark.advance(conn, source.name, stream.name, progress.cursor, run_id)
        stats.clear(conn, run_id, ctx.batch_id)
        for entity, counts in progress.counts.items():
            write_stat(conn, row, run_id, entity, counts, "success", None)
        conn.execute(
            update(_lb)
            .where(_lb.c.batch_id == ctx.batch_id)
            .values(
                status="loaded",
                loaded_at=ctx.now,
                record_count=progress.records,
                message=None,
                error_kind=None,
                last_run_id=run_id,
            )
        )
    outcome.status = "success"
    outcome.records, outcome.quarantined_records = progress.records, len(progress.bad)
    outcome.entities = {e: c.as_dict() for e, c in progress.counts.items()}


def _records(stream: StreamSpec, fh: BinaryIO, name: str) -> Iterator[Any]:
    options = stream.format.model_dump(exclude={"type"})
    return iter_records(get_format(stream.format.type), fh, options, name)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[tuple[int, Any]]]:
    numbered = enumerate(items)
    while chunk := list(islice(numbered, size)):
        yield chunk


def _locked_chunks(
    conn: Connection, items: Iterable[Any], mapping: CompiledMapping
) -> Iterator[list[tuple[int, Any]]]:
    """Chunks of (position, record); a batch of several chunks locks its entities first.

    A one-chunk batch locks just the rows it writes (`lock_rows`, per chunk); a longer one
    takes every row bucket of its entities up front, so no later chunk takes a lock out
    of the global order and deadlocks with a concurrent batch.
    """
    from oms.locks import lock_entities

    chunks = _chunks(items, chunk_records())
    head = list(islice(chunks, 2))
    if len(head) > 1:
        lock_entities(conn, mapping.entities)
    yield from head
    yield from chunks


def _load_chunk(
    conn: Connection,
    chunk: list[tuple[int, Any]],
    mapping: CompiledMapping,
    ctx: LoadContext,
    stream: StreamSpec,
    name: str,
    progress: Progress,
) -> None:
    """Map, validate and load one chunk of records inside the batch's transaction."""
    from oms.locks import batch_row_ids, lock_rows

    positions: list[int] = []
    records: list[Any] = []
    for i, item in chunk:
        if isinstance(item, BadRecord):
            reason = format_reason(item.where(name), None, item.reason)
            progress.bad.append(BadEntry(i, item.raw, [reason]))
            continue
        positions.append(i)
        records.append(item)
    progress.records += len(chunk)
    if not records:
        return
    mapped = map_records(mapping, records)
    bad = mapped.bad_records()
    for j in sorted(bad):
        progress.bad.append(BadEntry(positions[j], records[j], mapped.errors[j]))
    progress.cursor = watermark.later(
        progress.cursor,
        watermark.newest((r for j, r in enumerate(records) if j not in bad), stream.cursor_field),
    )
    good = {e: f[~f[RECORD].isin(bad)] for e, f in mapped.frames.items()}
    lock_rows(conn, batch_row_ids(good, ctx.system))
    _load_frames(conn, mapping, mapped, bad, ctx, progress)


def _load_frames(
    conn: Connection,
    mapping: CompiledMapping,
    mapped: MappedBatch,
    bad: set[int],
    ctx: LoadContext,
    progress: Progress,
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
        progress.entity(entity).add(len(frame), result, int(is_bad.sum()))
    if line_keys:
        refresh_order_lines(conn, line_keys, ctx)


def _log_done(row: dict[str, Any], outcome: BatchOutcome) -> None:
    counts = ", ".join(
        f"{e} {c['changed']} changed/{c['loaded']} loaded" for e, c in outcome.entities.items()
    )
    log.info(
        "%s/%s %s: %d records, %d quarantined; %s",
        row["source"],
        row["stream"],
        row["original_name"],
        outcome.records,
        outcome.quarantined_records,
        counts,
    )
