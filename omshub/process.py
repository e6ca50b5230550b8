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
from collections.abc import Iterator, Mapping
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, update

from connectors.base import RecordChunk, iter_chunks
from connectors.registry import get_format
from oms.load import LoadContext, load_batch, prepare_batch
from oms.load.ahead import BindingsAhead, ChunkBindings, reader_for
from oms.load.prepare import Prepared
from oms.models import LandedBatch, table
from oms.ownership import Ownership
from omshub import failures, origins, quarantine, stats, watermark
from omshub.config import StreamSpec, config_dir, get_source
from omshub.landing import open_landed
from omshub.lookups import for_batch
from omshub.mappings import get_mapping
from omshub.prefetch import prefetched
from omshub.quarantine import BadEntry, format_reason
from omshub.runs import now
from omshub.stats import Counts, write_stat
from omshub.ticker import Ticker
from omshub.unread import unread_entries
from transforms.aggregate import SplitGroups
from transforms.arrowshape import records_table
from transforms.compiler import RECORD, CompiledMapping, MappedBatch
from transforms.delivery import delivery_of
from transforms.lookups import Lookups
from transforms.validated import map_validated

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


def map_records(
    mapping: CompiledMapping,
    chunk: RecordChunk,
    delivery: Mapping[str, Any] | None = None,
    lookups: Lookups | None = None,
) -> MappedBatch:
    """Map a chunk column-wise and validate it; reasons end up in `mapped.errors`.

    The columnar path runs any part of a mapping without a vectorised form per value
    (`omshub mapping check` lists them), so it is right for every mapping; records that
    came as Python objects (JSON, XML) are turned into a table first, unless their shape
    does not fit one (a field that is an object in one record and a list in the next):
    those chunks take the per-record path, which gives the same rows. `delivery` is what
    the mapping's `$delivery.` paths read (`transforms.delivery.delivery_of`).
    """
    table = chunk.table if chunk.table is not None else records_table(chunk.python_records())
    return map_validated(mapping, table, chunk.records or [], delivery, lookups)


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
        failed = failures.record(engine, row, run_id, e, attempts[-1] if attempts else None)
        origins.settle(engine, batch_id)  # moved to error/ when it is now dead
        raise failed from e
    _log_done(row, outcome)
    origins.settle(engine, batch_id)
    return outcome.as_dict()


def _process(
    engine: Engine, row: dict[str, Any], run_id: str, outcome: BatchOutcome, progress: Progress
) -> None:
    source = get_source(row["source"])
    stream = source.stream(row["stream"])
    if stream.mapping is None:  # an EDI inbox: sets routed to mappings, acknowledged
        from omshub.edi.batch import process_x12

        outcome.message = process_x12(engine, row, run_id, progress)
    else:
        _process_mapped(engine, row, run_id, progress, source, stream)
    outcome.status = "success"
    outcome.records, outcome.quarantined_records = progress.records, len(progress.bad)
    outcome.entities = {e: c.as_dict() for e, c in progress.counts.items()}


def _process_mapped(
    engine: Engine,
    row: dict[str, Any],
    run_id: str,
    progress: Progress,
    source: Any,
    stream: StreamSpec,
) -> None:
    """A batch of one stream with one mapping, read and loaded chunk by chunk."""
    from oms.locks import source_xact_lock, write_transaction

    assert stream.mapping is not None
    mapping = get_mapping(stream.mapping)
    ctx = LoadContext(
        source.system, source.kind, run_id, row["batch_id"], mapping.name, mapping.version, now()
    )
    lookups = for_batch(engine, source, mapping)  # read before the write transaction
    ahead = reader_for(engine, source.system)
    with (
        closing(ahead) if ahead is not None else nullcontext(),
        open_landed(row["uri"], row["checksum"]) as fh,
        write_transaction(engine) as conn,
    ):
        source_xact_lock(conn, source.name)
        name = row["original_name"] or row["batch_id"]
        delivery = delivery_of(row, source.system)
        work = partial(
            _map_chunk,
            mapping,
            source.system,
            delivery=delivery,
            lookups=lookups,
            name=name,
            ahead=ahead,
        )
        ready_chunks = prefetched(_chunks(stream, fh, name), work)
        split = SplitGroups(mapping.root, mapping.file)
        ticker = Ticker(f"{source.name}/{stream.name} {name}")
        with closing(ready_chunks):
            for ready in _locked_chunks(conn, ready_chunks, mapping, ahead):
                split.check(ready.mapped.tables)
                _load_chunk(conn, ready, ctx, name, progress)
                ticker.tick(progress.records)
        finish_batch(conn, source, stream.name, row, run_id, ctx, progress, mapping)


def finish_batch(
    conn: Connection,
    source: Any,
    stream: str,
    row: dict[str, Any],
    run_id: str,
    ctx: LoadContext,
    progress: Progress,
    mapping: CompiledMapping | None,
    message: str | None = None,
) -> None:
    """The end of a batch's transaction: reject threshold, quarantine, watermark, counts,
    and the batch marked loaded (all or nothing with the rows it loaded); `message` is
    what an operator should know about a loaded batch (an EDI file's skipped duplicate)."""
    failures.check_threshold(source, row, progress)
    quarantine.record(conn, source, stream, ctx.batch_id, run_id, mapping, progress.bad)
    _advance_watermark(conn, source, stream, row, progress, run_id)
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
            message=message,
            error_kind=None,
            last_run_id=run_id,
        )
    )


def _advance_watermark(
    conn: Connection,
    source: Any,
    stream: str,
    row: dict[str, Any],
    progress: Progress,
    run_id: str,
) -> None:
    """Move the stream's watermark in the batch's transaction: to the transport's own
    cursor after this batch when the transport keeps one (`cursor_key`), else to the
    newest mapped `updated_at` of the rows loaded. Never backwards."""
    from connectors.registry import transport_class

    key = getattr(transport_class(source.connector.type), "cursor_key", None)
    if key is None:
        watermark.advance(conn, source.name, stream, progress.cursor, run_id)
    elif row["cursor_to"]:
        watermark.advance_to(conn, source.name, stream, row["cursor_to"], run_id, key)


def _chunks(stream: StreamSpec, fh: BinaryIO, name: str) -> Iterator[RecordChunk]:
    options = stream.format.model_dump(exclude={"type"})
    return iter_chunks(get_format(stream.format.type), fh, options, name, chunk_records())


@dataclass
class Ready:
    """A chunk mapped, validated and prepared for loading (one chunk ahead of the load)."""

    chunk: RecordChunk
    mapped: MappedBatch
    good: dict[str, pa.Table]  # per entity, the rows of records that passed
    prepared: dict[str, Prepared]
    unread: list[BadEntry] = field(default_factory=list)  # records its root path read nothing from
    bindings: ChunkBindings | None = None  # read ahead on a side connection (PostgreSQL)


def _map_chunk(
    mapping: CompiledMapping,
    system: str,
    chunk: RecordChunk,
    delivery: Mapping[str, Any] | None = None,
    lookups: Lookups | None = None,
    name: str | None = None,
    ahead: BindingsAhead | None = None,
) -> Ready:
    """Everything a chunk needs before the database: run ahead by `omshub.prefetch`.

    `name` (the batch's file) words the quarantine entries of records the mapping's root
    `path:` read nothing from (`omshub.unread`); without it they are left to the caller
    (the EDI inbox, which words its own for the 997)."""
    if not chunk.positions:
        return Ready(chunk, MappedBatch({}, {}, 0), {}, {})
    mapped = map_records(mapping, chunk, delivery, lookups)
    unread = unread_entries(mapping, mapped, chunk, name) if name is not None else []
    rejected = pa.array(sorted(mapped.bad_records()), pa.int64())
    good: dict[str, pa.Table] = {}
    for entity in dict.fromkeys(mapping.entities):
        tbl = mapped.tables.get(entity)
        if tbl is not None:
            good[entity] = tbl.filter(pc.invert(pc.is_in(tbl[RECORD], value_set=rejected)))
    prepared = prepare_batch(good, system)
    bindings = ahead.submit(prepared) if ahead is not None else None
    return Ready(chunk, mapped, good, prepared, unread, bindings)


def _locked_chunks(
    conn: Connection,
    chunks: Iterator[Ready],
    mapping: CompiledMapping,
    ahead: BindingsAhead | None = None,
) -> Iterator[Ready]:
    """The chunks of a batch; a batch of several chunks locks its entities first.

    A one-chunk batch locks just the rows it writes (`oms.load`, per chunk); a longer one
    takes every row bucket of its entities up front, so no later chunk takes a lock out
    of the global order and deadlocks with a concurrent batch.
    """
    from oms.locks import lock_entities

    head = list(islice(chunks, 2))
    if len(head) > 1 and lock_entities(conn, mapping.entities) and ahead is not None:
        ahead.locked.set()  # bindings may now be read ahead (`oms.load.ahead`)
    yield from head
    yield from chunks


def _load_chunk(
    conn: Connection, ready: Ready, ctx: LoadContext, name: str, progress: Progress
) -> None:
    """Quarantine and load one mapped chunk inside the batch's transaction."""
    chunk, mapped = ready.chunk, ready.mapped
    for i, item in chunk.bad:
        reason = format_reason(item.where(name), None, item.reason)
        progress.bad.append(BadEntry(i, item.raw, [reason]))
    progress.records += chunk.items
    if not chunk.positions:
        return
    for j in sorted(mapped.bad_records()):
        progress.bad.append(BadEntry(chunk.positions[j], chunk.raw(j), mapped.errors[j]))
    progress.bad.extend(ready.unread)  # no rows to hold back: they gave none
    for entity, tbl in ready.good.items():
        counts = progress.entity(entity)
        counts.extracted += mapped.tables[entity].num_rows
        counts.quarantined += mapped.tables[entity].num_rows - tbl.num_rows
    progress.cursor = watermark.later(progress.cursor, watermark.newest_mapped(ready.good))
    results = load_batch(conn, ready.good, ctx, ownership(), ready.prepared, ready.bindings)
    for entity, result in results.items():
        progress.entity(entity).add(0, result, 0)


def map_and_load(
    conn: Connection,
    mapping: CompiledMapping,
    chunk: RecordChunk,
    ctx: LoadContext,
    name: str,
    progress: Progress,
) -> Ready:
    """Map, validate, quarantine and load one chunk in the caller's transaction, as a
    batch does each of its chunks: for callers that route records themselves (the EDI
    inbox, a group's sets per mapping). The mapped chunk is returned for what the caller
    records about its rows."""
    ready = _map_chunk(mapping, ctx.system, chunk)
    _load_chunk(conn, ready, ctx, name, progress)
    return ready


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
