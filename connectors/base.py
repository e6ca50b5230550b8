"""The contracts between transports, formats and the landing zone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


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


class Transport(Protocol):
    """Fetches raw batches of one stream. Implementations: local folder, SFTP, REST, SQL."""

    kind: ClassVar[str]

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]: ...


class Format(Protocol):
    """Parses landed bytes into raw records (dicts), never into canonical rows."""

    kind: ClassVar[str]

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]: ...
