"""The contracts between transports, formats and the landing zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from connectors.config import StreamOptions, TransportConfig
    from connectors.credentials import Credentials

#: items per chunk when the caller does not say (omshub.process's default too)
DEFAULT_CHUNK = 50_000


@dataclass(frozen=True)
class RawBatch:
    """Bytes exactly as the system sent them, plus where they came from.

    `metadata` is kept with the landed batch (manifest and store) and handed back to the
    transport's `finish` hook: it must say where the batch came from (a path, a URL
    without credentials) and never hold a secret. `cursor_to`, when set, is the
    transport's own cursor after this batch: the stream's watermark moves to it when the
    batch loads (ordered by the transport's `cursor_key`).
    """

    content: bytes
    name: str  # file name, URL or query: shown in manifests and errors
    format: str
    cursor_from: str | None = None
    cursor_to: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamRequest:
    """What a source config asks a transport for (one stream of one source).

    `options` is the stream's `options:` validated by the transport's `Stream` model (a
    plain dict for a transport without one). `cursor` is the stream's watermark as stored
    (the transport's own cursor when its batches carry `cursor_to`, else the newest mapped
    `updated_at` as an ISO time). `window` asks for a backfill: only records updated in
    [start, end), whatever the watermark; a transport that cannot filter by time raises
    `ConnectorConfigError` saying so.
    """

    stream: str
    format: str
    options: Any  # the transport's Stream model instance, or a dict
    cursor: str | None = None
    window: tuple[dt.datetime | None, dt.datetime | None] | None = None


@dataclass(frozen=True)
class TransportContext:
    """What a transport gets besides its config: who it works for and its credentials."""

    source: str
    base: Path  # the project home: relative paths in YAML are relative to it
    credentials: Credentials | None = None  # resolved from the config's conn_id
    #: every stream of the source: name -> its options (the transport's Stream model), so
    #: a stream can read another's (a REST child endpoint reads its parent's)
    streams: Mapping[str, Any] = field(default_factory=dict)


#: a key a transport sets in a record it fetched but must not be loaded (a REST
#: sub-resource that was gone): its value is the reason; every format quarantines such a
#: record (`connectors.formats.common.record_problem`), from the landed page as on replay
REFUSED_KEY = "_omshub_refused"


@dataclass(frozen=True)
class BadRecord:
    """A record the format could not read correctly: it goes to quarantine, the file goes on.

    A format yields it in place of the record, so one bad row never hides the good ones
    around it and is never loaded with shifted or invented values.
    """

    raw: Any  # what was read (the raw line text or a partial dict), JSON-serialisable
    line: int | None  # 1-based line in the file, where known
    reason: str  # e.g. "row has 7 cells, header has 9", "NaN is not valid JSON"
    index: int | None = None  # 0-based position of the record in the file, where known

    def where(self, name: str = "") -> str:
        """`name:line` or `name: record N` (1-based), for messages."""
        if self.line is not None:
            return f"{name}:{self.line}"
        if self.index is not None:
            return f"{name}: record {self.index + 1}" if name else f"record {self.index + 1}"
        return name


class Transport(Protocol):
    """Fetches raw batches of one stream. Built-ins: local folder, SFTP, REST, SQL.

    A transport class has a `kind` (the YAML `type`), a `Config` model (a
    `connectors.config.TransportConfig` whose `type` is `Literal[kind]`), a `Stream`
    model for its streams' `options:` (a `connectors.config.StreamOptions`), and is built
    as `cls(config, context)`. `fetch` yields batches one at a time (memory flat): each
    is landed before the next is asked for.

    Optional hooks (looked up with getattr):
    - `finish(ref, ok, reason)`: called once a landed batch is done, with the batch's
      `RawBatch.metadata` as `ref`, only when that metadata has `claim: true` (the
      transport took the file out of its inbox): `ok` after it loaded, not ok (with the
      reason) when it failed for good (dead, discarded). Called again after a crash, so
      it must be idempotent. Drop-folder transports archive the file or move it to
      `error/` (with a `.reason` beside it) here.
    - `cursor_key(value) -> tuple` (a classmethod): the order of the transport's own
      cursors (`RawBatch.cursor_to`), so a watermark never moves backwards.
    """

    kind: ClassVar[str]
    Config: ClassVar[type[TransportConfig]]
    Stream: ClassVar[type[StreamOptions]]

    def __init__(self, config: Any, context: TransportContext) -> None: ...

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]: ...


class Format(Protocol):
    """Parses landed bytes into raw records (dicts), never into canonical rows.

    `records` streams in bounded memory: it yields each record (a dict) or a `BadRecord`,
    and raises `FormatError` (naming the file and line or record) when the file cannot be
    read any further; records yielded before that were read correctly. An empty file
    (no bytes, or only whitespace/BOM) has zero records. `read` is the whole-file form
    for samples and tests: a list of records, `FormatError` on the first bad one.
    """

    kind: ClassVar[str]

    def records(
        self, stream: BinaryIO, options: dict[str, Any], name: str = ""
    ) -> Iterator[Any]: ...

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]: ...


def iter_records(
    fmt: Any, stream: BinaryIO, options: dict[str, Any], name: str = ""
) -> Iterator[Any]:
    """Records of `stream` through `fmt`: streamed when the format has `records`, else
    (a third-party format with only `read`) from the whole content at once."""
    records = getattr(fmt, "records", None)
    if records is not None:
        yield from records(stream, options, name)
    else:
        yield from fmt.read(stream.read(), options, name)


@dataclass
class RecordChunk:
    """One chunk of a batch: its good records (as a table or as Python) and its bad ones.

    A chunk covers the batch positions `start .. start + items - 1`; `positions` and `bad`
    together hold each of them once, so the quarantine names records as before.
    """

    start: int  # batch position of the chunk's first item
    positions: list[int]  # batch position of each good record, in order
    table: pa.Table | None  # the good records as columns, from a columnar reader
    records: list[Any] | None  # else the good records as Python objects
    bad: list[tuple[int, BadRecord]]  # batch position + the unreadable item
    _python: list[Any] | None = field(default=None, repr=False, compare=False)

    @property
    def items(self) -> int:
        return len(self.positions) + len(self.bad)

    def python_records(self) -> list[Any]:
        """The good records as Python objects (for the per-record path); converted once."""
        if self.records is not None:
            return self.records
        if self._python is None:
            self._python = self.table.to_pylist() if self.table is not None else []
        return self._python

    def raw(self, j: int) -> Any:
        """The j-th good record as Python (for quarantine), without converting the rest."""
        if self.records is not None:
            return self.records[j]
        if self._python is not None:
            return self._python[j]
        assert self.table is not None
        return self.table.slice(j, 1).to_pylist()[0]


class _Chunker:
    """Collects pieces into chunks of exactly `size` items; positions count from 0.

    Pieces: a `pa.Table` of consecutive good records (columnar readers; the first table,
    possibly empty, fixes the schema), a `BadRecord`, or one Python record.
    """

    def __init__(self, size: int, table_type: type[Any] | None) -> None:
        self.size = size
        self.table_type = table_type  # pa.Table for a columnar reader, else None
        self.schema: pa.Schema | None = None
        self.position = 0
        self._reset()

    def _reset(self) -> None:
        self.start = self.position
        self.tables: list[pa.Table] = []
        self.records: list[Any] = []
        self.positions: list[int] = []
        self.bad: list[tuple[int, BadRecord]] = []

    def add(self, piece: Any) -> Iterator[RecordChunk]:
        if self.table_type is not None and isinstance(piece, self.table_type):
            yield from self._add_table(piece)
            return
        if isinstance(piece, BadRecord):
            self.bad.append((self.position, piece))
        else:
            self.records.append(piece)
            self.positions.append(self.position)
        self.position += 1
        if self.position - self.start >= self.size:
            yield self.emit()

    def _add_table(self, table: pa.Table) -> Iterator[RecordChunk]:
        if self.schema is None:
            self.schema = table.schema
        offset = 0
        while offset < table.num_rows:
            take = min(self.size - (self.position - self.start), table.num_rows - offset)
            self.tables.append(table.slice(offset, take))
            self.positions.extend(range(self.position, self.position + take))
            self.position += take
            offset += take
            if self.position - self.start >= self.size:
                yield self.emit()

    def emit(self) -> RecordChunk:
        table = None
        if self.schema is not None:
            import pyarrow as pa

            if self.records:
                raise TypeError("a columnar reader yielded both tables and Python records")
            tables = self.tables or [self.schema.empty_table()]
            table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        records = None if table is not None else self.records
        chunk = RecordChunk(self.start, self.positions, table, records, self.bad)
        self._reset()
        return chunk

    def finish(self) -> RecordChunk | None:
        return self.emit() if self.position > self.start else None


def iter_chunks(
    fmt: Any, stream: BinaryIO, options: dict[str, Any], name: str = "", size: int = DEFAULT_CHUNK
) -> Iterator[RecordChunk]:
    """The items of `stream` through `fmt` in chunks of `size`, one chunk in memory at a time.

    The cut is the one `omshub.process` makes over `iter_records` (every chunk exactly
    `size` items but the last), so positions are the same. A format with
    `columnar(stream, options, name)` gives tables (see `_Chunker`); any other is read
    through `iter_records`. When the file cannot be read any further (FormatError), the
    items read before the error come as a last chunk, then the error is raised, as
    `iter_records` yields the records before it.
    """
    from connectors.errors import FormatError

    if size < 1:
        raise ValueError("chunk size must be at least 1")
    columnar = getattr(fmt, "columnar", None)
    table_type: type[Any] | None = None
    pieces: Iterable[Any]
    if columnar is not None:
        import pyarrow as pa

        table_type, pieces = pa.Table, columnar(stream, options, name)
    else:
        pieces = iter_records(fmt, stream, options, name)
    chunker = _Chunker(size, table_type)
    try:
        for piece in pieces:
            yield from chunker.add(piece)
    except FormatError:
        if (last := chunker.finish()) is not None:
            yield last
        raise
    if (last := chunker.finish()) is not None:
        yield last
