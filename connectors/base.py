"""The contracts between transports, formats and the landing zone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar, Protocol


@dataclass(frozen=True)
class RawBatch:
    """Bytes exactly as the system sent them, plus where they came from."""

    content: bytes
    name: str  # file name, URL or query: shown in manifests and errors
    format: str
    cursor_from: str | None = None
    cursor_to: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamRequest:
    """What a source config asks a transport for (one stream of one source)."""

    stream: str
    format: str
    options: dict[str, Any]
    cursor: str | None = None  # the watermark, when the stream is incremental


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
    """Fetches raw batches of one stream. Implementations: local folder, SFTP, REST, SQL."""

    kind: ClassVar[str]

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
