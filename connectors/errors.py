"""Connector errors, by what the runner should do."""

from __future__ import annotations

from oms.errors import ConfigError, DataError, RetriableError


class ConnectorError(RetriableError):
    """The source could not be reached or answered badly; Airflow retries."""


class ConnectorConfigError(ConfigError):
    """The connector configuration is wrong (unknown type, missing path or connection)."""


class FormatError(DataError):
    """A landed payload cannot be parsed (any further); it stays landed, the reason is recorded.

    The message starts with where: `name:line:` when the line is known, else
    `name: record N:` (1-based position of the record in the file) when that is known.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        line: int | None = None,
        record: int | None = None,
    ) -> None:
        self.name = name
        self.line = line
        self.record = record
        self.reason = message
        where = name or ""
        if line is not None:
            where = f"{where}:{line}"
        elif record is not None:
            where = f"{where}: record {record}" if where else f"record {record}"
        super().__init__(f"{where}: {message}" if where else message)
