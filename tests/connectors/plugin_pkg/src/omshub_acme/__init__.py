"""Acme FTP drop, as a third party writes a transport for omshub.

Acme's "FTP server" is a folder here (a stand-in that needs no server): each user has a
home folder named after their login, with an `outbox/` the ERP writes files into, named
so that they sort in the order they were written (`orders_000123.json`). The transport:

- takes the login from the source's connection (`conn_id`), never from YAML;
- keeps its own cursor, the name of the last file handed over (`cursor_to`), ordered by
  `cursor_key` (and checked by `parse_cursor` when set by hand), so a re-run fetches only
  the files written since;
- cannot backfill by time (its files carry no time it can filter on) and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.errors import ConnectorConfigError, ConnectorError


class AcmeFtpConfig(TransportConfig):
    """`connector: {type: acme_ftp, root: ..., conn_id: ...}`."""

    type: Literal["acme_ftp"] = "acme_ftp"
    root: str = Field(min_length=1, description="the server's folder; relative to the project")


class AcmeFtpStream(StreamOptions):
    """A stream's `pattern` and `options:`."""

    pattern: str = Field("*", description="file glob inside the folder")
    folder: str = Field("outbox", pattern=r"^[A-Za-z0-9_.-]+$", description="folder in the home")


class AcmeFtpTransport:
    """One batch per file, in name order, after the stream's cursor."""

    kind: ClassVar[str] = "acme_ftp"
    Config: ClassVar[type[AcmeFtpConfig]] = AcmeFtpConfig
    Stream: ClassVar[type[AcmeFtpStream]] = AcmeFtpStream

    def __init__(self, config: AcmeFtpConfig, context: TransportContext) -> None:
        creds = context.credentials
        if creds is None or not creds.login:
            raise ConnectorConfigError(
                f"source {context.source!r}: acme_ftp needs `conn_id`, a connection with a login"
            )
        root = Path(config.root)
        self.home = (root if root.is_absolute() else context.base / root) / creds.login

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        if request.window is not None:
            raise ConnectorConfigError(
                "acme_ftp cannot backfill a time window: its files carry no time"
            )
        opts = AcmeFtpStream.coerce(request.options, request.stream)
        folder = self.home / opts.folder
        if not folder.is_dir():
            raise ConnectorError(f"acme_ftp: no folder {folder}")
        for path in sorted(folder.glob(opts.pattern)):
            if request.cursor is not None and path.name <= request.cursor:
                continue  # handed over by an earlier run
            yield RawBatch(
                content=path.read_bytes(),
                name=path.name,
                format=request.format,
                cursor_to=path.name,
                metadata={"path": str(path)},
            )

    @classmethod
    def cursor_key(cls, value: str) -> tuple[str]:
        """Cursors are file names, written in order: a later name is a later cursor."""
        return (value,)

    @classmethod
    def parse_cursor(cls, value: str) -> str:
        """A cursor set by hand (`omshub state set`): the last file already handed over."""
        if not value or "/" in value:
            raise ValueError("expected a file name, e.g. orders_000123.json")
        return value
