"""Connector errors, by what the runner should do."""

from __future__ import annotations

from oms.errors import ConfigError, DataError, RetriableError


class ConnectorError(RetriableError):
    """The source could not be reached or answered badly; Airflow retries."""


class ConnectorConfigError(ConfigError):
    """The connector configuration is wrong (unknown type, missing path or connection)."""


class FormatError(DataError):
    """A landed payload cannot be parsed; it stays landed, the reason is recorded."""

    def __init__(self, message: str, *, name: str | None = None, line: int | None = None) -> None:
        where = name or ""
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
