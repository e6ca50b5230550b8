"""What applying a mapping produces: canonical frames and the reasons records were rejected."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

RECORD = "_record"  # index of the source record a row came from
EXTERNAL_ID = "_external_id"
UPDATED_AT = "_updated_at"
META = (RECORD, EXTERNAL_ID, UPDATED_AT)


@dataclass(frozen=True)
class Reason:
    """Why a record is rejected: one per failed value or rule."""

    entity: str
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "entity": self.entity,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass
class MappedBatch:
    """Canonical frames of one batch plus every reason, keyed by source record index."""

    frames: dict[str, pd.DataFrame]
    errors: dict[int, list[Reason]]
    record_count: int
    filtered: int = 0

    def bad_records(self) -> set[int]:
        return {i for i, reasons in self.errors.items() if reasons}
