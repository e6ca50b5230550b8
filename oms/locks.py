"""Locks that keep concurrent loads correct (DESIGN.md §4, "Under concurrency too").

Taken in one order, run -> source -> rows, so no two loads ever wait on each other in a
cycle:

- `source_run_lock`, for a whole CLI run: a PostgreSQL session advisory lock on its own
  connection, or on SQLite an exclusive `flock` on `<db>.locks/<source>.lock`. A second
  run of the source waits (saying so) or stops with `SourceBusy`.
- `source_xact_lock`, for one batch transaction: a PostgreSQL transaction advisory lock
  on the same key, so batches of one source never interleave, and an Airflow batch of a
  source also waits for a CLI run of it. On SQLite `write_transaction` already admits one
  writer at a time (`BEGIN IMMEDIATE`).
- `lock_rows`, for one batch transaction on PostgreSQL: advisory locks on buckets of the
  canonical ids the batch writes, all taken in one statement in one global order before
  anything is read. Batches of different sources touching the same rows then decide and
  write one after the other, so "newest wins" and ownership hold whatever the timing and
  two inserts of one new row never collide. `SqlWriter.fetch` also locks the buckets of
  the rows it reads: a safety net for callers that did not lock up front (correct, but
  taken late, entity by entity, it can deadlock; PostgreSQL then fails one batch).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Connection, Engine, event, text

from oms.db import SQLITE_BEGIN, SQLITE_WAIT, WRITE_WAIT_S, _sqlite_begin
from oms.entities import ENTITIES, SNAPSHOT_ENTITY
from oms.errors import SourceBusy

if TYPE_CHECKING:
    import pyarrow as pa


#: row-lock buckets per entity: bounded, so a batch holds at most this many locks per
#: entity it writes, and PostgreSQL's shared lock table (max_locks_per_transaction 64 x
#: max_connections) holds many concurrent loads. A batch of a few hundred rows covers
#: nearly every bucket anyway: more buckets would only help tiny batches.
BUCKETS = 64

#: rows written besides a frame's own: an entity's position moves with its movements and
#: snapshots; an order line's derived quantities with its shipment and return lines

_LOCK_ROWS = text(
    "SELECT count(pg_advisory_xact_lock(k.c, k.o)) FROM"
    " (SELECT c, o FROM unnest(CAST(:c AS int4[]), CAST(:o AS int4[])) AS u(c, o)"
    " ORDER BY c, o) AS k"
)

_HELD_ROWS = "omshub.locks.rows"

#: (store, source) -> depth: run locks this process holds (its batches skip the xact lock)
_held: dict[tuple[str, str], int] = {}


def _signed(text_: str, size: int) -> int:
    digest = hashlib.blake2b(text_.encode(), digest_size=size).digest()
    return int.from_bytes(digest, "big", signed=True)


def source_key(source: str) -> int:
    """The 64-bit advisory-lock key of a source: stable across processes and versions."""
    return _signed(f"omshub.source\x1f{source}", 8)


def entity_class(entity: str) -> int:
    """The int4 class of an entity's row locks (the two-int lock space, apart from sources)."""
    return _signed(f"omshub.rows\x1f{entity}", 4)


def bucket(canonical_id: str) -> int:
    return zlib.crc32(canonical_id.encode()) % BUCKETS


def buckets(ids: Iterable[str] | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """`bucket` of every id (Arrow ids: no `str` objects made, the CRC run by `map`).

    zlib's CRC-32 per id costs ~0.1 us: cheaper than a numpy loop over the id bytes.
    """
    import pyarrow as pa_

    if isinstance(ids, pa_.Array | pa_.ChunkedArray):
        raw = ids.cast(pa_.binary()).to_pylist()
        return np.fromiter(map(zlib.crc32, raw), dtype=np.int64, count=len(raw)) % BUCKETS
    crc = zlib.crc32
    return np.fromiter((crc(i.encode()) for i in ids), dtype=np.int64) % BUCKETS


def _store(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


# --- transactions --------------------------------------------------------------------------


@contextlib.contextmanager
def write_transaction(engine: Engine, wait_seconds: float = WRITE_WAIT_S) -> Iterator[Connection]:
    """A batch load's transaction; on SQLite it holds the write lock from BEGIN on.

    Waits up to `wait_seconds` for another writer, then raises `StoreBusy`. On PostgreSQL
    a plain transaction: pair it with `source_xact_lock` and `lock_rows`.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            if not event.contains(engine, "begin", _sqlite_begin):
                event.listen(engine, "begin", _sqlite_begin)
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE", SQLITE_WAIT: wait_seconds})
        with conn.begin():
            yield conn


def source_xact_lock(conn: Connection, source: str) -> None:
    """Wait until no other transaction or run of `source` loads; held until commit.

    A no-op on SQLite (one writer at a time) and in a process that holds the source's
    run lock (its own connection would otherwise wait for itself).
    """
    if conn.dialect.name != "postgresql" or _held.get((_store(conn.engine), source)):
        return
    conn.execute(
        text("SELECT pg_advisory_xact_lock(CAST(:k AS bigint))"), {"k": source_key(source)}
    )


def lock_rows(
    conn: Connection, ids_by_entity: Mapping[str, Iterable[str] | pa.Array | pa.ChunkedArray]
) -> int:
    """Lock the buckets of these canonical ids until commit; return how many buckets.

    Call it once per batch, right after opening the transaction and before reading
    bindings or rows, with every entity the batch writes (`batch_row_ids`): one
    statement takes every lock in one global order, so two batches never deadlock.
    Buckets this transaction already holds cost no statement. SQLite: a no-op.
    """
    if conn.dialect.name != "postgresql":
        return 0
    wanted: set[tuple[int, int]] = set()
    for e, ids in ids_by_entity.items():
        cls = entity_class(e)  # once per entity: a blake2b per id cost more than the lock
        wanted.update((cls, b) for b in np.unique(buckets(ids)).tolist())
    return _lock_pairs(conn, wanted)


_POSITION = ("inventory_position", ("sku", "location_code"))
_DERIVED_PARENT = {"shipment_line": "order_line", "return_line": "order_line"}


def targets(entity: str) -> list[tuple[str, tuple[str, ...]]]:
    """(entity written, its key columns in this frame) for every row kind a frame writes."""
    if entity == SNAPSHOT_ENTITY:
        return [_POSITION]
    spec = ENTITIES.get(entity)
    if spec is None:
        return []
    out = [(entity, tuple(spec.natural_key))]
    if entity == "inventory_movement":
        out.append(_POSITION)
    parent = _DERIVED_PARENT.get(entity)
    out += [(r.entity, tuple(r.key_columns)) for r in spec.refs if r.entity == parent]
    return out


def lock_entities(conn: Connection, entities: Iterable[str]) -> int:
    """Lock every bucket of every row kind these (mapped) entities write, until commit.

    For a batch loaded in chunks: called once before the first chunk, it makes the
    chunks' own `lock_rows` free, and no later chunk takes a lock out of the global
    order (which could deadlock with another batch). It serialises the batch with every
    other batch writing those entities; a one-chunk batch does better with `lock_rows`.
    """
    kinds = {target for e in entities for target, _ in targets(e)}
    if conn.dialect.name != "postgresql" or not kinds:
        return 0
    wanted = {(entity_class(k), b) for k in kinds for b in range(BUCKETS)}
    return _lock_pairs(conn, wanted)


def _lock_pairs(conn: Connection, wanted: set[tuple[int, int]]) -> int:
    held = _held_rows(conn)
    pairs = sorted(wanted - held)
    if pairs:
        conn.execute(_LOCK_ROWS, {"c": [c for c, _ in pairs], "o": [o for _, o in pairs]})
        if not conn.in_nested_transaction():  # a rolled-back savepoint releases its locks
            held.update(pairs)
    return len(wanted)


def _held_rows(conn: Connection) -> set[tuple[int, int]]:
    """Row-lock buckets this transaction holds (so `SqlWriter.fetch` skips a statement)."""
    tx = conn.get_transaction()
    mine = conn.info.get(_HELD_ROWS)
    if mine is None or mine[0] is not tx:
        mine = conn.info[_HELD_ROWS] = (tx, set())
    held: set[tuple[int, int]] = mine[1]
    return held


# --- run locks -----------------------------------------------------------------------------


def _waiting(source: str) -> str:
    return f"another run of {source} is in progress; waiting"


@contextlib.contextmanager
def _pg_run_lock(
    engine: Engine, source: str, wait: bool, on_wait: Callable[[str], None] | None
) -> Iterator[None]:
    """Session advisory lock on a connection of its own; closing it releases the lock."""
    key = {"k": source_key(source)}
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if not conn.execute(text("SELECT pg_try_advisory_lock(CAST(:k AS bigint))"), key).scalar():
            if not wait:
                raise SourceBusy(
                    f"another run of {source} is in progress (PostgreSQL backend "
                    f"{_pg_holder(conn, key['k'])} holds its lock); not waiting"
                )
            if on_wait:
                on_wait(_waiting(source))
            conn.execute(text("SELECT pg_advisory_lock(CAST(:k AS bigint))"), key)
        yield
    finally:
        # never back to the pool: a pooled connection would keep the lock for its next user
        conn.invalidate()
        conn.close()


def _pg_holder(conn: Connection, key: int) -> str:
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(
        text(
            "SELECT l.pid, a.application_name FROM pg_locks l"
            " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid = CAST(:hi AS oid) AND l.objid = CAST(:lo AS oid)"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
    ).first()
    return f"pid {row[0]} {row[1] or ''}".strip() if row else "unknown"


def lock_file(engine: Engine, source: str) -> Path | None:
    """`<db>.locks/<source>.lock` beside a SQLite file (None for an in-memory store)."""
    db = engine.url.database
    if not db or db == ":memory:" or db.startswith("file::memory:"):
        return None
    name = (
        source
        if re.fullmatch(r"[A-Za-z0-9_-]{1,100}", source)
        else (
            re.sub(r"[^A-Za-z0-9_-]", "_", source)[:60]
            + "-"
            + hashlib.blake2b(source.encode(), digest_size=6).hexdigest()
        )
    )
    return Path(f"{db}.locks") / f"{name}.lock"


@contextlib.contextmanager
def _file_run_lock(
    engine: Engine, source: str, wait: bool, on_wait: Callable[[str], None] | None
) -> Iterator[None]:
    """An exclusive `flock`: the kernel releases it when the holder exits or dies."""
    path = lock_file(engine, source)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
                raise SourceBusy(
                    f"another run of {source} is in progress (pid {holder} holds {path});"
                    " not waiting"
                ) from None
            if on_wait:
                on_wait(_waiting(source))
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}@{os.uname().nodename}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def source_run_lock(
    engine: Engine,
    source: str,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold `source` for a whole run: one run of a source at a time, across processes.

    If another run holds it: with `wait`, call `on_wait` with a message, then block until
    it ends; without, raise `SourceBusy`. The lock dies with its process (a killed run
    never blocks the next one). While held, this process's batch transactions of the
    source skip `source_xact_lock`; other processes' wait for the run to end.
    """
    dialect = engine.dialect.name
    held: contextlib.AbstractContextManager[None]
    if dialect == "postgresql":
        held = _pg_run_lock(engine, source, wait, on_wait)
    elif dialect == "sqlite":
        held = _file_run_lock(engine, source, wait, on_wait)
    else:
        held = contextlib.nullcontext()
    key = (_store(engine), source)
    with held:
        _held[key] = _held.get(key, 0) + 1
        try:
            yield
        finally:
            _held[key] -= 1
            if not _held[key]:
                del _held[key]
