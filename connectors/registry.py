"""Transports and formats by name; third parties register through entry points.

Entry point groups (named once, here): `omshub.transports` (value: a transport class, see
`connectors.base.Transport`) and `omshub.formats` (a format class). A plugin is checked
against the protocol when the registry loads it: one that does not fit is left out and
named in `plugin_errors()` (and in the error a source that asks for it gets), so a broken
plugin never breaks the built-ins.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points
from typing import Annotated, Any, Union, get_args

from pydantic import Field, TypeAdapter

from connectors.base import TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.errors import ConnectorConfigError

log = logging.getLogger("omshub.connectors")

TRANSPORTS_GROUP = "omshub.transports"
FORMATS_GROUP = "omshub.formats"


def check_transport(cls: Any, name: str) -> str | None:
    """Why `cls` is not a usable transport class (None when it is)."""
    if not isinstance(cls, type):
        return f"{cls!r} is not a class"
    kind = getattr(cls, "kind", None)
    if kind != name:
        return f"its `kind` is {kind!r}, the entry point is named {name!r}"
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, TransportConfig)):
        return "`Config` must be a subclass of connectors.config.TransportConfig"
    if get_args(config.model_fields["type"].annotation) != (name,):
        return f"`Config.type` must be Literal[{name!r}]"
    stream = getattr(cls, "Stream", None)
    if not (isinstance(stream, type) and issubclass(stream, StreamOptions)):
        return "`Stream` must be a subclass of connectors.config.StreamOptions"
    if not callable(getattr(cls, "fetch", None)):
        return "it has no `fetch(request)` method"
    return None


def _builtin_transports() -> list[type[Any]]:
    from connectors.local import LocalFolderTransport

    found: list[type[Any]] = [LocalFolderTransport]
    for module, name in (
        ("connectors.rest", "RestTransport"),
        ("connectors.sftp", "SftpTransport"),
        ("connectors.sql", "SqlTransport"),
    ):
        try:
            mod = __import__(module, fromlist=[name])
        except ModuleNotFoundError as e:
            if e.name != module:  # the module exists and a dependency of it is missing
                raise
            continue
        found.append(getattr(mod, name))
    return found


@cache
def _load_transports() -> tuple[dict[str, type[Any]], dict[str, str]]:
    table: dict[str, type[Any]] = {cls.kind: cls for cls in _builtin_transports()}
    errors: dict[str, str] = {}
    for ep in entry_points(group=TRANSPORTS_GROUP):
        try:
            cls = ep.load()
        except Exception as e:  # a plugin's import error must not break the built-ins
            errors[ep.name] = f"entry point {ep.value!r} does not load: {type(e).__name__}: {e}"
            continue
        why = check_transport(cls, ep.name)
        if why:
            errors[ep.name] = f"entry point {ep.value!r}: {why}"
            continue
        if ep.name in table and table[ep.name] is not cls:
            errors[ep.name] = f"entry point {ep.value!r}: {ep.name!r} is already a transport"
            continue
        table[ep.name] = cls
    for name, why in errors.items():
        log.warning("transport plugin %s left out: %s", name, why)
    return table, errors


def register_transport(cls: type[Any]) -> None:
    """Add a transport class in-process (an embedding application, tests); checked like a
    plugin. An entry point in the package's metadata is the way for a distributed plugin."""
    why = check_transport(cls, getattr(cls, "kind", ""))
    if why:
        raise ConnectorConfigError(f"{cls!r} is not a transport: {why}")
    _load_transports()[0][cls.kind] = cls
    connector_adapter.cache_clear()


def transports() -> dict[str, type[Any]]:
    """Every usable transport class by `kind`."""
    return _load_transports()[0]


def plugin_errors() -> dict[str, str]:
    """Transport plugins that were left out, and why."""
    return _load_transports()[1]


def transport_class(kind: str) -> type[Any]:
    cls = transports().get(kind)
    if cls is None:
        broken = plugin_errors().get(kind)
        if broken:
            raise ConnectorConfigError(f"connector type {kind!r} is a broken plugin: {broken}")
        raise ConnectorConfigError(
            f"unknown connector type {kind!r} (known: {', '.join(sorted(transports()))})"
        )
    return cls


@cache
def connector_adapter() -> TypeAdapter[Any]:
    """Validates a `connector:` block: a discriminated union on `type` of every Config."""
    models = tuple(cls.Config for cls in transports().values())
    if len(models) == 1:
        return TypeAdapter(models[0])
    union: Any = Union[models]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="type")])


def build_transport(config: TransportConfig, context: TransportContext) -> Any:
    """The transport for a validated `connector:` block."""
    return transport_class(config.type)(config, context)


def transport(kind: str, options: dict[str, Any], context: TransportContext | None = None) -> Any:
    """Validate `{type: kind, **options}` and build the transport (tests, scripts)."""
    from pathlib import Path

    from pydantic import ValidationError

    cls = transport_class(kind)
    try:
        config = cls.Config.model_validate({"type": kind, **options})
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(map(str, err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        raise ConnectorConfigError(
            f"{kind}: {where}: {msg}" if where else f"{kind}: {msg}"
        ) from None
    return cls(config, context or TransportContext(source="-", base=Path.cwd()))


def clear() -> None:
    """Forget loaded plugins (tests that install one)."""
    _load_transports.cache_clear()
    connector_adapter.cache_clear()
    _load_formats.cache_clear()


@cache
def _load_formats() -> tuple[dict[str, Any], dict[str, str]]:
    from connectors.formats.csv import CsvFormat
    from connectors.formats.json import JsonFormat, NdjsonFormat
    from connectors.formats.x12 import X12Format
    from connectors.formats.xml import XmlFormat

    table: dict[str, Any] = {
        f.kind: f() for f in (CsvFormat, JsonFormat, NdjsonFormat, XmlFormat, X12Format)
    }
    errors: dict[str, str] = {}
    for ep in entry_points(group=FORMATS_GROUP):
        try:
            fmt = ep.load()()
        except Exception as e:  # a plugin's import error must not break the built-ins
            errors[ep.name] = f"entry point {ep.value!r} does not load: {type(e).__name__}: {e}"
            continue
        if ep.name in table:
            errors[ep.name] = f"entry point {ep.value!r}: {ep.name!r} is already a format"
        elif not callable(getattr(fmt, "records", None) or getattr(fmt, "read", None)):
            errors[ep.name] = f"entry point {ep.value!r}: it has no `records` or `read` method"
        else:
            table[ep.name] = fmt
    for name, why in errors.items():
        log.warning("format plugin %s left out: %s", name, why)
    return table, errors


def formats() -> dict[str, Any]:
    """Every usable format (an instance) by name."""
    return _load_formats()[0]


def format_errors() -> dict[str, str]:
    """Format plugins that were left out, and why."""
    return _load_formats()[1]


def get_format(kind: str) -> Any:
    fmt = formats().get(kind)
    if fmt is None:
        broken = format_errors().get(kind)
        if broken:
            raise ConnectorConfigError(f"format {kind!r} is a broken plugin: {broken}")
        raise ConnectorConfigError(
            f"unknown format {kind!r} (known: {', '.join(sorted(formats()))})"
        )
    return fmt
