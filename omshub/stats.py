"""Per-batch, per-entity counts (`run_stat`): what monitoring and run summaries add up.

extracted = loaded + stale + quarantined + failed, for every entity of every batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert

from oms.load.context import LoadResult
from oms.models import RunStat, table

_rs = table(RunStat)


@dataclass
class Counts:
    extracted: int = 0
    loaded: int = 0
    changed: int = 0
    stale: int = 0
    quarantined: int = 0
    failed: int = 0

    def add(self, extracted: int, result: LoadResult, quarantined: int) -> None:
        self.extracted += extracted
        self.loaded += result.loaded
        self.changed += result.changed
        self.stale += result.stale
        self.quarantined += quarantined

    def rejected(self) -> Counts:
        """The same rows when the whole batch was refused: nothing loaded, the rest failed."""
        return Counts(self.extracted, 0, 0, 0, self.quarantined, self.extracted - self.quarantined)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def clear(conn: Connection, run_id: str, batch_id: str) -> None:
    """Forget a batch's earlier counts in this run (a task retry counts the batch once)."""
    conn.execute(delete(_rs).where(_rs.c.run_id == run_id, _rs.c.batch_id == batch_id))


def write_stat(
    conn: Connection,
    batch: dict[str, Any],
    run_id: str,
    entity: str,
    counts: Counts,
    status: str,
    message: str | None,
) -> None:
    """Replace the (run, batch, entity) row: a retried batch in the same run counts once."""
    conn.execute(
        delete(_rs).where(
            _rs.c.run_id == run_id, _rs.c.batch_id == batch["batch_id"], _rs.c.entity == entity
        )
    )
    from omshub.runs import now

    conn.execute(
        insert(_rs).values(
            run_id=run_id,
            source=batch["source"],
            stream=batch["stream"],
            batch_id=batch["batch_id"],
            entity=entity,
            status=status,
            message=message,
            finished_at=now(),
            **counts.as_dict(),
        )
    )
