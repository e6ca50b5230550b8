"""Transports the registry must refuse (each names what is wrong in `plugin_errors()`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.local import LocalFolderConfig, LocalFolderStream


class _Base:
    def __init__(self, config: Any, context: TransportContext) -> None:
        self.config = config

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        yield RawBatch(b"[]", "x.json", request.format)


class _AcmeConfig(TransportConfig):
    type: Literal["acme_wrong_kind"] = "acme_wrong_kind"


class WrongKind(_Base):
    """Declared as `acme_wrong_kind`, but says it is `acme_ftp`."""

    kind: ClassVar[str] = "acme_ftp"
    Config: ClassVar[type[TransportConfig]] = _AcmeConfig
    Stream: ClassVar[type[StreamOptions]] = StreamOptions


class _PlainConfig(BaseModel):
    type: Literal["acme_bad_config"] = "acme_bad_config"


class BadConfig(_Base):
    """Its Config is a plain pydantic model: secrets inline and unknown keys would pass."""

    kind: ClassVar[str] = "acme_bad_config"
    Config: ClassVar[type[BaseModel]] = _PlainConfig
    Stream: ClassVar[type[StreamOptions]] = StreamOptions


class ShadowsLocalFolder(_Base):
    """A well-formed transport that tries to replace the built-in `local_folder`."""

    kind: ClassVar[str] = "local_folder"
    Config: ClassVar[type[TransportConfig]] = LocalFolderConfig
    Stream: ClassVar[type[StreamOptions]] = LocalFolderStream
