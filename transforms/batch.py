"""What applying a mapping produces: canonical Arrow tables and why records were rejected.

`tables` is the contract with the loader (`oms.arrow`): one table per entity, typed by
`entity_schema(entity)`. `frames` is the same data as pandas object frames of Python
values, for callers that have not moved to Arrow yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
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


def object_frame(tbl: pa.Table) -> pd.DataFrame:
    """A table as a frame of Python values (Decimal, aware datetime, str, int, None)."""
    import pandas as pd  # (only the deprecated `frames` view needs it)

    return pd.DataFrame({c: tbl.column(c).to_pylist() for c in tbl.column_names}, dtype=object)


@dataclass
class MappedBatch:
    """Canonical tables of one batch plus every reason, keyed by source record index."""

    tables: dict[str, pa.Table]
    errors: dict[int, list[Reason]]
    record_count: int
    filtered: int = 0
    #: source records a root `path:` read no item from (absent, null, empty list), in
    #: order: no row can come from them, and only the mapper sees why (a collapsed
    #: `aggregate:` group also leaves records without a row of their own)
    unread: list[int] = field(default_factory=list)
    _frames: dict[str, pd.DataFrame] | None = field(default=None, repr=False, compare=False)

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """Deprecated view for per-row callers: object frames built once from `tables`."""
        if self._frames is None:
            self._frames = {e: object_frame(t) for e, t in self.tables.items()}
        return self._frames

    def bad_records(self) -> set[int]:
        return {i for i, reasons in self.errors.items() if reasons}
