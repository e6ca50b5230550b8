"""Deterministic canonical ids.

An id is a UUIDv5 of the entity name and its natural key, so every system, run and
worker computes the same id for the same business object without a lookup; a child can
point at its parent before the parent has arrived (sources arrive out of order).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

NAMESPACE = uuid.UUID("6f1b2c7e-5a0c-4a53-9d2e-0f6d3c1b9a41")


_NS = NAMESPACE.bytes


def canonical_id(entity: str, key: Iterable[object]) -> str:
    """`str(uuid.uuid5(NAMESPACE, ...))`, computed without building UUID objects (hot path)."""
    parts = "\x1f".join("" if v is None else str(v) for v in key)
    d = bytearray(hashlib.sha1(_NS + f"{entity}\x1e{parts}".encode()).digest()[:16])  # noqa: S324
    d[6] = (d[6] & 0x0F) | 0x50  # version 5
    d[8] = (d[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _reference_id(entity: str, key: Iterable[object]) -> str:
    """The definition `canonical_id` must agree with (checked by the tests)."""
    parts = "\x1f".join("" if v is None else str(v) for v in key)
    return str(uuid.uuid5(NAMESPACE, f"{entity}\x1e{parts}"))
