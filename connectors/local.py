"""Local folder transport: files dropped into a folder (or a system's export folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import RawBatch, StreamRequest
from connectors.errors import ConnectorConfigError, ConnectorError


class LocalFolderTransport:
    """Yields one batch per file matching the stream's `pattern`, oldest name first.

    Files are read, never moved: the landing zone keeps the immutable copy, and the
    loader's idempotence makes a re-read harmless.
    """

    kind: ClassVar[str] = "local_folder"

    def __init__(self, path: str, base: str | None = None, **_: Any) -> None:
        root = Path(path)
        if not root.is_absolute() and base:
            root = Path(base) / root
        self.root = root

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        pattern = request.options.get("pattern")
        if not pattern:
            raise ConnectorConfigError(f"stream {request.stream!r}: local_folder needs `pattern`")
        if not self.root.is_dir():
            raise ConnectorError(f"folder {self.root} does not exist or is not a directory")
        for path in sorted(self.root.glob(pattern)):
            if not path.is_file():
                continue
            try:
                content = path.read_bytes()
            except OSError as e:
                raise ConnectorError(f"cannot read {path}: {e.strerror}") from e
            yield RawBatch(content, path.name, request.format, metadata={"path": str(path)})
