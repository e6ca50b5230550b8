"""Source configuration (`config/sources/*.yaml`), validated by pydantic.

Parsing is cheap (no heavy imports) because DAG files call it at parse time; it is
validated in CI by `omshub config check` and the test suite, not only when a DAG parses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.config import InlineSecretError, TransportConfig
from oms.db import project_home
from oms.errors import ConfigError
from omshub.schedule import Schedule
from transforms.yamlsrc import col_of, line_of, load_yaml, safe_load

log = logging.getLogger("omshub.config")
SystemKind = Literal["erp", "wms", "tms", "pos", "crm", "channel", "3pl", "edi", "carrier"]


class FormatSpec(BaseModel):
    """How a landed batch is parsed; other keys are the format's options (docs/sources.md)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="json, ndjson, csv, xml, x12")


class StreamSpec(BaseModel):
    """One stream of a source: what to read, how to parse it and the mapping to apply."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="unique in the source; watermarks are kept per stream")
    mapping: str | None = Field(
        description="mapping file, relative to mappings/ (none: an EDI partner's inbox, whose "
        "sets are routed to the partner's mappings)"
    )
    format: FormatSpec = Field(description="how a landed batch is parsed")
    pattern: str | None = Field(None, description="file glob (folder/SFTP transports)")
    cursor_field: str | None = Field(
        None,
        description="deprecated and ignored: the watermark follows the mapping's updated_at",
        json_schema_extra={"deprecated": True},
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="the transport's stream options (validated by its `Stream` model)",
    )

    routes: dict[str, str | None] = Field(
        default_factory=dict,
        description="x12 streams without `mapping`: transaction set id -> mapping (an EDI "
        "partner's inbox takes them from its partner YAML; none: acknowledged, not mapped)",
    )

    @model_validator(mode="after")
    def _mapped(self) -> StreamSpec:
        if self.mapping is None and self.format.type != "x12":
            raise ValueError(f"stream {self.name!r}: `mapping` is required")
        return self

    def mapping_files(self) -> list[str]:
        """Every mapping this stream's records may go through."""
        routed = [m for m in self.routes.values() if m]
        return [self.mapping, *routed] if self.mapping else list(dict.fromkeys(routed))


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,62}$", description="the source's name: DAG id, CLI argument"
    )
    system: str = Field(description="system name used in bindings and ownership rules")
    kind: SystemKind = Field(description="the kind of system; ownership rules may name it")
    description: str | None = Field(None, description="free text, shown in Airflow")
    connector: TransportConfig = Field(
        description="transport: local_folder, sftp, rest, sql, or a plugin's `type`"
    )
    schedule: Schedule | None = Field(
        "@hourly", description="the DAG's schedule: a cron expression or an Airflow preset"
    )
    mode: Literal["incremental", "full"] = Field(
        "incremental", description="incremental: skip batches already loaded; full: reprocess"
    )
    reject_threshold: float = Field(
        0.1, ge=0, le=1, description="max share of bad records per batch"
    )
    streams: list[StreamSpec] = Field(description="the source's streams")
    max_batch_attempts: int = Field(
        3,
        ge=1,
        le=100,
        description="failed processing attempts of a batch (over later runs) before it is parked "
        "as `dead`; configuration errors do not count",
    )
    retries: int = Field(2, ge=0, le=20, description="Airflow retries of retriable failures")
    retry_delay_seconds: int = Field(30, ge=0, description="wait between retries")
    tags: list[str] = Field(default_factory=list, description="Airflow tags of the DAG")
    file: str = ""

    @field_validator("connector", mode="before")
    @classmethod
    def _typed_connector(cls, v: Any) -> Any:
        if isinstance(v, TransportConfig):
            return v
        from connectors.registry import connector_adapter, transports

        if not isinstance(v, dict):
            raise ValueError("must be a mapping with a `type`")
        kind = v.get("type")
        if kind is None:
            raise ValueError(f"`type` is required: one of {', '.join(sorted(transports()))}")
        if kind not in transports():
            from connectors.registry import transport_class

            try:
                transport_class(str(kind))
            except ConfigError as e:
                raise ValueError(str(e)) from None
        return connector_adapter().validate_python(v)

    @model_validator(mode="after")
    def _typed_stream_options(self) -> SourceConfig:
        from connectors.registry import transport_class

        model = transport_class(self.connector.type).Stream
        for i, s in enumerate(self.streams):
            if s.pattern is not None and "pattern" not in model.model_fields:
                raise StreamOptionsError(
                    ("streams", i, "pattern"),
                    f"transport {self.connector.type!r} takes no `pattern` (it reads no files)",
                )
            try:
                self.stream_options(s)
            except ValidationError as e:
                err = e.errors()[0]
                loc = ("streams", i, "options", *err["loc"])
                if err["loc"][:1] == ("pattern",) and "pattern" not in s.options:
                    loc = ("streams", i, *err["loc"])  # written as the stream's `pattern`
                cause = (err.get("ctx") or {}).get("error")
                if isinstance(cause, InlineSecretError):
                    loc = (*loc, *cause.keys)
                raise StreamOptionsError(loc, err["msg"].removeprefix("Value error, ")) from None
        return self

    def stream_options(self, stream: StreamSpec) -> Any:
        """The stream's `options:` (and `pattern`) validated by its transport's model."""
        from connectors.registry import transport_class

        model = transport_class(self.connector.type).Stream
        data = dict(stream.options)
        if stream.pattern is not None:
            if "pattern" not in model.model_fields:
                raise ValidationError.from_exception_data(
                    model.__name__,
                    [{"type": "extra_forbidden", "loc": ("pattern",), "input": stream.pattern}],
                )
            data["pattern"] = stream.pattern
        return model.model_validate(data)

    @field_validator("streams")
    @classmethod
    def _unique_streams(cls, v: list[StreamSpec]) -> list[StreamSpec]:
        names = [s.name for s in v]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate stream names: {', '.join(sorted(dup))}")
        for s in v:
            if s.cursor_field:
                log.warning(
                    "stream %r: cursor_field is deprecated and ignored; the watermark "
                    "follows the mapping's updated_at",
                    s.name,
                )
        return v

    def stream(self, name: str) -> StreamSpec:
        for s in self.streams:
            if s.name == name:
                return s
        raise ConfigError(f"source {self.name!r} has no stream {name!r}")


def config_dir() -> Path:
    return project_home() / "config"


def mappings_dir() -> Path:
    return project_home() / "mappings"


class StreamOptionsError(ValueError):
    """A stream's options do not fit its transport (carries where, for the line number)."""

    def __init__(self, loc: tuple[Any, ...], msg: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {msg}")
        self.loc = loc
        self.msg = msg


class SourceConfigError(ConfigError):
    """A source file does not validate; the message starts with `file:line key:`.

    `file`, `line`, `column` and `key` say where (`mapping check` prints the column)."""

    def __init__(self, file: str, message: str, line: int | None, column: int | None, key: str):
        super().__init__(f"{file}:{line} {key}: {message}")
        self.file, self.line, self.column, self.key, self.detail = (
            file,
            line,
            column,
            key,
            message,
        )


def load_source(path: Path) -> SourceConfig:
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}, not a mapping of keys"
        raise ConfigError(f"{path}: the source file is {what} (name:, system:, connector: ...)")
    try:
        cfg = SourceConfig.model_validate({**data, "file": str(path)})
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, StreamOptionsError):
            loc, msg = cause.loc, cause.msg
        elif isinstance(cause, InlineSecretError):
            loc = (*loc, *cause.keys)  # the secret's own line
        keys = yaml_path(data, loc, keep_last=err["type"] in ("missing", "extra_forbidden"))
        at = keys
        if keys == ("connector",) and isinstance(data.get("connector"), dict):
            at = ("connector", "type")  # an unknown type: point at the word itself
        raise SourceConfigError(
            str(path), msg, line_of(lines, keys), col_of(lines, at), ".".join(map(str, keys))
        ) from None
    return cfg


def yaml_path(data: Any, loc: tuple[Any, ...], keep_last: bool = True) -> tuple[Any, ...]:
    """`loc` as keys of the YAML document: pydantic puts the names of union members in it
    (`connector.rest.auth`, `params.a.str`), which are not keys. With `keep_last`, a last
    key that is not in the document (a missing one) stays, so the message names it."""
    keys: list[Any] = []
    node = data
    for i, k in enumerate(loc):
        in_dict = isinstance(node, dict) and k in node
        in_list = isinstance(node, list) and isinstance(k, int) and 0 <= k < len(node)
        if in_dict or in_list:
            node = node[k]
        elif i < len(loc) - 1 or not keep_last:
            continue
        keys.append(k)
    return tuple(keys)


T = TypeVar("T")


def load_folder(
    folder: str, load: Callable[[Path], T], key: Callable[[T], str], what: str
) -> tuple[dict[str, T], dict[str, ConfigError]]:
    """Every `*.yaml` of `folder` that `load` validates, by `key`, and the error of every
    file that does not, by the file's stem (its name is unknown when it does not parse).

    One broken file never hides the others: callers use the good ones and report the
    broken ones. A second file with a name already taken is broken too (sources, partners).
    """
    good: dict[str, T] = {}
    broken: dict[str, ConfigError] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            cfg = load(path)
        except ConfigError as e:
            broken[path.stem] = e
            continue
        name = key(cfg)
        if name in good:
            first = getattr(good[name], "file", "")
            broken[path.stem] = ConfigError(f"{path}: {what} {name!r} also defined in {first}")
            continue
        good[name] = cfg
    return good, broken


@cache
def _load_sources(folder: str) -> tuple[dict[str, SourceConfig], dict[str, ConfigError]]:
    """Every source that validates, and the error of every file that does not
    (`load_folder`), with each trading partner's inbox source."""
    out, broken = load_folder(folder, load_source, lambda cfg: cfg.name, "source")
    partners = Path(folder).parent / "partners"
    if partners.is_dir():  # each trading partner's inbox is a source too (omshub.edi)
        from omshub.edi.sources import partner_sources

        more, more_broken = partner_sources(partners)
        broken.update(more_broken)
        for name, cfg in more.items():
            if name in out:
                broken[name] = ConfigError(f"{cfg.file}: source {name!r} also in {out[name].file}")
            else:
                out[name] = cfg
    return out, broken


def _folder(folder: Path | None) -> str:
    return str(folder or config_dir() / "sources")


def sources(folder: Path | None = None) -> dict[str, SourceConfig]:
    """The sources whose YAML validates (see `broken_sources` for the others)."""
    return _load_sources(_folder(folder))[0]


def broken_sources(folder: Path | None = None) -> dict[str, ConfigError]:
    """File stem -> why that source file does not validate."""
    return _load_sources(_folder(folder))[1]


def get_source(name: str) -> SourceConfig:
    good, broken = _load_sources(_folder(None))
    if name in good:
        return good[name]
    if name in broken:
        raise broken[name]
    raise ConfigError(f"unknown source {name!r} (known: {', '.join(sorted(good)) or 'none'})")


def stream_entities(stream: StreamSpec) -> list[str]:
    """Canonical entities a stream's mapping writes, read without compiling it.

    Used at DAG-parse time (Asset outlets), so it must stay cheap: YAML only.
    """
    out: list[str] = []
    for mapping in stream.mapping_files():
        for entity in mapping_entities(mapping):
            if entity not in out:
                out.append(entity)
    return out


def mapping_entities(mapping: str) -> list[str]:
    """Canonical entities one mapping file writes, read from its YAML without compiling."""
    import yaml

    path = Path(mapping)
    path = path if path.is_absolute() else mappings_dir() / path
    try:
        doc = safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read mapping: {e}") from e
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("entity"), str):
                out.append(node["entity"])
            for child in node.get("children") or []:
                walk(child)

    walk(doc)
    return list(dict.fromkeys(out))
