"""Drop-folder options: the YAML keys every drop-folder transport (SFTP, a claiming local
folder) has, their checks, and one stream's rules resolved from them (`rules`)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from connectors.config import StreamOptions, TransportConfig
from connectors.errors import ConnectorConfigError


def check_marker(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip() or "/" in value or "\\" in value or value in (".", ".."):
        raise ValueError(
            f"done_marker must be a file name like '{{name}}.done' or '_SUCCESS', not {value!r}"
        )
    try:
        value.format(name="x", stem="x")
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"done_marker {value!r}: only {{name}} and {{stem}} can be used") from e
    return value


def check_pattern(value: str | None) -> str | None:
    if value is None:
        return None
    if not value or value.startswith(("/", "\\")) or ".." in value.replace("\\", "/").split("/"):
        raise ValueError(
            f"pattern {value!r} must stay inside the folder (no absolute path, no '..')"
        )
    return value


def check_folder(value: str | None) -> str | None:
    if value is not None and (not value.strip() or ".." in value.split("/")):
        raise ValueError(f"folder {value!r} must be a name or a path without '..'")
    return value


class DropConfig(TransportConfig):
    """Connector keys every drop-folder transport has (a stream may override each)."""

    settle_seconds: float = Field(
        0, ge=0, description="take a file only once its mtime is at least this old"
    )
    done_marker: str | None = Field(
        None, description="take a file only once `{name}.done` (or a fixed name) exists"
    )
    processing_dir: str = Field("processing", description="claimed files; relative to the inbox")
    archive_dir: str = Field("archive", description="loaded files, under YYYY/MM/DD/")
    error_dir: str = Field("error", description="failed files, each with a `.reason` file")
    claim_timeout_seconds: float = Field(
        3600, gt=0, description="a claim this old whose batch never finished is taken again"
    )

    _check_marker = field_validator("done_marker")(check_marker)
    _check_folders = field_validator("processing_dir", "archive_dir", "error_dir")(check_folder)


class DropStream(StreamOptions):
    """A stream's `pattern` and its overrides of the connector's drop-folder keys."""

    pattern: str | None = Field(None, description="file glob inside the folder")
    settle_seconds: float | None = Field(None, ge=0)
    done_marker: str | None = None
    processing_dir: str | None = None
    archive_dir: str | None = None
    error_dir: str | None = None
    claim_timeout_seconds: float | None = Field(None, gt=0)

    _check_pattern = field_validator("pattern")(check_pattern)
    _check_marker = field_validator("done_marker")(check_marker)
    _check_folders = field_validator("processing_dir", "archive_dir", "error_dir")(check_folder)


@dataclass(frozen=True)
class DropRules:
    """One stream's drop folder, resolved: absolute folders and the effective settings."""

    inbox: str
    glob: str
    processing: str
    archive: str
    error: str
    settle_seconds: float
    done_marker: str | None
    claim_timeout_seconds: float


def rules(config: DropConfig, opts: DropStream, stream: str, inbox: str) -> DropRules:
    """The stream's rules: its `pattern` split into the inbox folder and a name glob
    (the folder part may not hold wildcards), claim folders resolved against the inbox."""
    if not opts.pattern:
        raise ConnectorConfigError(f"stream {stream!r}: {config.type} needs `pattern`")
    folder, glob = posixpath.split(opts.pattern)
    if any(c in folder for c in "*?["):
        raise ConnectorConfigError(
            f"stream {stream!r}: pattern {opts.pattern!r}: a claimed drop folder reads one"
            " folder; put wildcards in the file name only"
        )
    inbox = posixpath.normpath(posixpath.join(inbox, folder)) if folder else inbox

    def pick(name: str) -> Any:
        value = getattr(opts, name)
        return getattr(config, name) if value is None else value

    def under(name: str) -> str:
        return posixpath.normpath(posixpath.join(inbox, pick(name)))

    return DropRules(
        inbox=inbox,
        glob=glob,
        processing=under("processing_dir"),
        archive=under("archive_dir"),
        error=under("error_dir"),
        settle_seconds=float(pick("settle_seconds")),
        done_marker=pick("done_marker"),
        claim_timeout_seconds=float(pick("claim_timeout_seconds")),
    )
