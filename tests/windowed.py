"""Transports registered in-process, like an embedding application's, for the state and
backfill tests: `windowed` serves orders updated after its cursor or inside a backfill
window, `cursored` keeps its own cursor (`cursor_key`, `parse_cursor`), `nowindow` cannot
re-read a window."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.errors import ConnectorConfigError


def t(minute: int) -> str:
    return f"2026-11-20T10:{minute:02d}:00+00:00"


class WindowedConfig(TransportConfig):
    type: Literal["windowed"] = "windowed"


class Windowed:
    """One batch per fetch: the orders after the cursor, or inside the window."""

    kind: ClassVar[str] = "windowed"
    Config: ClassVar[type[TransportConfig]] = WindowedConfig
    Stream: ClassVar[type[StreamOptions]] = StreamOptions
    orders: ClassVar[list[dict[str, Any]]] = []
    requests: ClassVar[list[StreamRequest]] = []

    def __init__(self, config: TransportConfig, context: TransportContext) -> None:
        pass

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        Windowed.requests.append(request)
        rows = [o for o in Windowed.orders if self.wanted(request, o)]
        if rows:
            body = json.dumps({"orders": rows}).encode()
            last = max(o["id"] for o in rows)
            yield RawBatch(body, f"{request.stream}.json", request.format, cursor_to=f"{last:06d}")

    def wanted(self, request: StreamRequest, order: dict[str, Any]) -> bool:
        at = dt.datetime.fromisoformat(order["updated_at"])
        if request.window is not None:
            start, end = request.window
            return (start is None or start <= at) and (end is None or at < end)
        return request.cursor is None or at > dt.datetime.fromisoformat(request.cursor)


class Cursored(Windowed):
    """The same; its watermark is its own cursor (the newest id, six digits)."""

    kind: ClassVar[str] = "cursored"

    class Config(TransportConfig):
        type: Literal["cursored"] = "cursored"

    def wanted(self, request: StreamRequest, order: dict[str, Any]) -> bool:
        if request.window is not None or request.cursor is None:
            return super().wanted(request, order)
        return bool(order["id"] > int(request.cursor))

    @classmethod
    def cursor_key(cls, value: str) -> tuple[int]:
        return (int(value),)

    @classmethod
    def parse_cursor(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("an order id (digits only)")
        return f"{int(value):06d}"


class NoWindow(Windowed):
    kind: ClassVar[str] = "nowindow"

    class Config(TransportConfig):
        type: Literal["nowindow"] = "nowindow"

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        if request.window is not None:
            raise ConnectorConfigError(f"stream {request.stream!r}: cannot re-read a time window")
        yield from super().fetch(request)
