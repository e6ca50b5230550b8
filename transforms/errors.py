"""Errors of the mapping layer. Messages always name the file, line and field.

The column is kept as an attribute (`mapping check` prints `file:line:column`), not in
the message, whose `file:line field` form users and tools already read."""

from __future__ import annotations

from oms.errors import ConfigError


class MappingError(ConfigError):
    """A mapping file (or code list) is wrong; fix the YAML."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        column: int | None = None,
    ) -> None:
        self.file, self.line, self.field, self.column = file, line, field, column
        self.detail = message
        where = ""
        if file:
            where = f"{file}:{line}" if line else file
        if field:
            where = f"{where} field {field!r}" if where else f"field {field!r}"
        super().__init__(f"{where}: {message}" if where else message)
