"""Deterministic canonical ids.

An id is a UUIDv5 of the entity name and its natural key, so every system, run and
worker computes the same id for the same business object without a lookup; a child can
point at its parent before the parent has arrived (sources arrive out of order).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

NAMESPACE = uuid.UUID("6f1b2c7e-5a0c-4a53-9d2e-0f6d3c1b9a41")


def canonical_id(entity: str, key: Iterable[object]) -> str:
    parts = "\x1f".join("" if v is None else str(v) for v in key)
    return str(uuid.uuid5(NAMESPACE, f"{entity}\x1e{parts}"))
