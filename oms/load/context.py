"""What a load knows about its batch, and what it reports back (the `oms.load` seam).

`LoadContext` names the loading system, run, batch and mapping (the provenance every
written row carries); `LoadResult` counts what one entity's load did and names the ids
the post-load steps recompute from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LoadContext:
    system: str
    kind: str | None
    run_id: str
    batch_id: str
    mapping_name: str
    mapping_version: str
    now: dt.datetime

    def provenance(self, source_updated_at: dt.datetime | None) -> dict[str, Any]:
        """The provenance columns of a row this context writes (DESIGN.md §4)."""
        return {
            "source_system": self.system,
            "source_updated_at": source_updated_at,
            "mapping_name": self.mapping_name,
            "mapping_version": self.mapping_version,
            "last_run_id": self.run_id,
            "last_batch_id": self.batch_id,
            "updated_at": self.now,
        }


@dataclass
class LoadResult:
    entity: str
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    #: rows of the batch folded into a newer row with the same natural key
    duplicates: int = 0
    #: natural keys of inserted/updated rows (for derived values downstream)
    changed_keys: list[tuple[Any, ...]] = field(default_factory=list)
    inserted_rows: list[dict[str, Any]] = field(default_factory=list)
    #: canonical ids of the rows this load inserted, and of those it inserted or updated
    #: (what the post-load steps, `oms.load`, recompute from)
    inserted_ids: list[str] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated

    @property
    def loaded(self) -> int:
        """Rows accepted: written, confirmed unchanged, or folded into a newer duplicate."""
        return self.inserted + self.updated + self.unchanged + self.duplicates
