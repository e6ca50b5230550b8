"""A chunk's bindings read ahead, on a second connection, while the chunk before it loads.

Deciding which rows changed starts with one read of the chunk's bindings (`_decide` in
`oms.load.upsert`): on a re-run of a million lines that read is a third of the load, and
on one connection it waits for the writes of the chunk before. PostgreSQL serves two
connections on two cores, so a multi-chunk batch reads chunk N+1's bindings on a side
connection while chunk N is written in the batch's transaction.

What the side connection can see is what has been committed, so two rules keep its
answer the one the batch's own transaction would give:

- it reads only after the batch holds every row lock of its entities
  (`oms.locks.lock_entities`, taken before the first chunk of a multi-chunk batch): no
  other writer can then change these entities' rows or bindings before the batch ends;
- an external id that an EARLIER chunk of the same batch carried may have been bound or
  re-bound by the batch itself (uncommitted, invisible to the side connection): its rows
  are read again in the batch's transaction (`again`). Earlier ids are kept as Python
  hashes (a collision only sends a row to that safe path).

A one-chunk batch takes no batch-wide lock, so its chunk is read in its transaction as
before. SQLite never reads ahead: tried on a WAL file (a second connection reads the last
commit beside the writer, which holds the one write lock from BEGIN IMMEDIATE), a 1M-line
no-change run lost 20% (the side reads miss the writer's page cache) for 3% on the
10%-changed run (bench/RESULTS.md). Any failure of the side read falls back to the
in-transaction read.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine

from oms.load.lookup import at_positions, bindings_at
from oms.load.prepare import Prepared

log = logging.getLogger("omshub.load")


@dataclass
class ChunkBindings:
    """One chunk's bindings: read ahead (a future), and the rows to read in the batch."""

    reader: BindingsAhead
    future: Future[dict[str, pa.Table] | None]
    ext: dict[str, pa.Array] = field(default_factory=dict)  # entity -> the rows' ids
    again: dict[str, np.ndarray] = field(default_factory=dict)  # entity -> row mask

    def bound(self, conn: Connection, system: str, entity: str) -> pa.Table | None:
        """The entity's bindings, row by row (`bindings_at`), or None: read them in the
        transaction."""
        if not self.reader.locked.is_set():
            return None  # a one-chunk batch: no batch-wide locks, nothing was read ahead
        try:
            ahead = self.future.result()
        except Exception as e:  # the side connection failed: the batch reads itself
            log.warning("bindings read ahead failed (%s); the batch reads them itself", e)
            return None
        if ahead is None or entity not in ahead:
            return None
        table, again = ahead[entity], self.again[entity]
        if not again.any():
            return table
        rows = np.flatnonzero(again)
        mine = bindings_at(conn, system, entity, self.ext[entity].take(pa.array(rows)))
        placed = at_positions(mine.append_column("n", pa.array(rows)), table.num_rows)
        pick = pa.array(again)
        return pa.table({c: pc.if_else(pick, placed[c], table[c]) for c in table.column_names})


class BindingsAhead:
    """One per batch: `submit` each chunk in order (the prefetch thread), `close` at the end."""

    def __init__(self, engine: Engine, system: str) -> None:
        self.engine, self.system = engine, system
        self.locked = threading.Event()  # set once the batch holds its entities' locks
        self._closed = self._broken = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="omshub-bindings")
        self._seen: dict[str, set[int]] = {}
        self._conn: Connection | None = None

    def submit(self, prepared: Mapping[str, Prepared]) -> ChunkBindings:
        """Queue the read of a chunk's bindings; mark the rows whose id an earlier chunk
        carried (read again in the batch's transaction, `ChunkBindings.bound`)."""
        ext: dict[str, pa.Array] = {}
        again: dict[str, np.ndarray] = {}
        for entity, p in prepared.items():
            seen = self._seen.setdefault(entity, set())
            ids = p.table.column("_ext").combine_chunks()
            texts = ids.to_pylist()
            keys = set(map(hash, texts))  # set operations in C: no Python loop per row
            common = keys & seen
            again[entity] = np.zeros(len(texts), bool)
            if common:  # rare: an id an earlier chunk carried
                again[entity] = np.fromiter((hash(x) in common for x in texts), bool, len(texts))
            seen |= keys
            ext[entity] = ids
        return ChunkBindings(self, self._pool.submit(self._read, ext), ext, again)

    def _read(self, ext: dict[str, pa.Array]) -> dict[str, pa.Table] | None:
        self.locked.wait()
        if self._closed or self._broken:
            return None  # after one failure the batch reads every later chunk itself
        try:
            if self._conn is None:
                self._conn = self.engine.connect()
            conn = self._conn
            try:
                out = {e: bindings_at(conn, self.system, e, x) for e, x in ext.items()}
            finally:
                conn.rollback()  # READ COMMITTED: each read sees what is committed now
        except Exception:
            self._broken = True  # no second wait for a connection that is not there
            raise
        return out

    def close(self) -> None:
        self._closed = True
        self.locked.set()  # release reads still waiting for a lock that never came
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._conn is not None:
            self._conn.close()


def reader_for(engine: Engine, system: str) -> BindingsAhead | None:
    """A reader for a batch on PostgreSQL; None on SQLite, or with `OMSHUB_READ_AHEAD=0`
    (every read in the batch's transaction, one connection per batch as before)."""
    if engine.dialect.name != "postgresql" or os.environ.get("OMSHUB_READ_AHEAD") == "0":
        return None
    return BindingsAhead(engine, system)
