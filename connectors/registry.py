"""Transports and formats by name; third parties register through entry points.

Entry point groups: `omshub.transports` and `omshub.formats` (value: a class with a
`kind` and the `Transport`/`Format` protocol). Built-ins are registered below, so the
source YAML can say `connector: {type: local_folder}` or `format: {type: xml}`.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from connectors.errors import ConnectorConfigError


@cache
def transports() -> dict[str, type[Any]]:
    from connectors.local import LocalFolderTransport

    table: dict[str, type[Any]] = {LocalFolderTransport.kind: LocalFolderTransport}
    for ep in entry_points(group="omshub.transports"):
        table[ep.name] = ep.load()
    return table


@cache
def formats() -> dict[str, Any]:
    from connectors.formats.csv import CsvFormat
    from connectors.formats.json import JsonFormat, NdjsonFormat
    from connectors.formats.xml import XmlFormat

    table: dict[str, Any] = {f.kind: f() for f in (CsvFormat, JsonFormat, NdjsonFormat, XmlFormat)}
    for ep in entry_points(group="omshub.formats"):
        table[ep.name] = ep.load()()
    return table


def transport(kind: str, options: dict[str, Any]) -> Any:
    cls = transports().get(kind)
    if cls is None:
        raise ConnectorConfigError(
            f"unknown connector type {kind!r} (known: {', '.join(sorted(transports()))})"
        )
    return cls(**options)


def get_format(kind: str) -> Any:
    fmt = formats().get(kind)
    if fmt is None:
        raise ConnectorConfigError(
            f"unknown format {kind!r} (known: {', '.join(sorted(formats()))})"
        )
    return fmt
