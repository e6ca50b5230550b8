"""Values of the delivery itself: `path: $delivery.file_name`, `$delivery.landed_at`...

A WMS snapshot file without a timestamp column can take its time from when it landed, or
from a date in its file name (with the `regex` transform). The loader passes the batch's
landing record to `apply` / `apply_table`, which set it here for the duration of one
application (a context variable: each thread or task sees its own batch).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

PREFIX = "$delivery"
#: what a delivery carries (the landing record of the batch, `omshub.landing`)
KEYS = {
    "file_name": "the file's original name (or the batch id where it had none)",
    "landed_at": "when the batch landed, ISO 8601 text in UTC",
    "source": "the configured source name",
    "system": "the source's system (shopify, wms...)",
    "stream": "the source stream",
    "batch_id": "the landed batch's id",
    "metadata": "what the transport recorded about the file (e.g. its remote path)",
}

_CURRENT: ContextVar[Mapping[str, Any] | None] = ContextVar("omshub_delivery", default=None)


def is_delivery_path(text: str) -> bool:
    body = text.strip()
    return body == PREFIX or body.startswith(PREFIX + ".")


def current() -> Mapping[str, Any] | None:
    return _CURRENT.get()


@contextmanager
def delivering(values: Mapping[str, Any] | None) -> Iterator[None]:
    """The delivery that `$delivery.` paths read while a mapping is applied."""
    token = _CURRENT.set(values)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def compile_delivery_path(text: str) -> Any:
    """A getter `(record, parents) -> value` reading the current delivery."""
    from transforms.paths import PathSyntaxError, compile_path

    rest = text.strip()[len(PREFIX) :].lstrip(".")
    head = rest.split(".", 1)[0].split("[", 1)[0]
    if head not in KEYS:
        known = ", ".join(f"{PREFIX}.{k}" for k in KEYS)
        raise PathSyntaxError(f"unknown delivery value {text.strip()!r} (known: {known})")
    inner = compile_path(rest)

    def get(record: Any, parents: Sequence[Any]) -> Any:
        values = _CURRENT.get()
        return None if values is None else inner(dict(values), ())

    return get


def delivery_of(batch: Mapping[str, Any], system: str | None = None) -> dict[str, Any]:
    """The delivery values of a landed batch (its `landed_batch` row, `omshub.landing`)."""
    import datetime as dt
    import json

    landed = batch.get("landed_at")
    if isinstance(landed, dt.datetime):
        aware = landed if landed.tzinfo else landed.replace(tzinfo=dt.UTC)
        landed = aware.astimezone(dt.UTC).isoformat()
    origin = batch.get("origin")
    try:
        metadata = json.loads(origin) if isinstance(origin, str) else dict(origin or {})
    except ValueError:
        metadata = {}
    return {
        "file_name": batch.get("original_name") or batch.get("batch_id"),
        "landed_at": landed,
        "source": batch.get("source"),
        "system": system,
        "stream": batch.get("stream"),
        "batch_id": batch.get("batch_id"),
        "metadata": metadata,
    }
