"""External-id bindings (the OCA binder): the only writer of the `binding` table.

Four verbs: `to_internal` (external ids -> canonical id and what was last sent),
`to_external` (canonical id -> the system's id), `bind` (record or refresh bindings) and
`unwrap` (all systems' ids of one canonical row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from oms.models import Binding, table
from oms.sqlutil import in_values
from oms.writer import SqlWriter

CHUNK = 900
_t = table(Binding)


@dataclass(frozen=True)
class BoundRecord:
    canonical_id: str
    source_updated_at: dt.datetime | None
    payload_hash: str | None


@dataclass(frozen=True)
class NewBinding:
    external_id: str
    canonical_id: str
    source_updated_at: dt.datetime | None
    payload_hash: str


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


class Binder:
    def __init__(self, conn: Connection, system: str, entity: str) -> None:
        self.conn, self.system, self.entity = conn, system, entity

    def to_internal(self, external_ids: Iterable[str]) -> dict[str, BoundRecord]:
        ids = sorted(set(external_ids))
        out: dict[str, BoundRecord] = {}
        for chunk in _chunks(ids):
            rows = self.conn.execute(
                select(
                    _t.c.external_id, _t.c.canonical_id, _t.c.source_updated_at, _t.c.payload_hash
                )
                .where(_t.c.system == self.system, _t.c.entity == self.entity)
                .where(in_values(self.conn, _t.c.external_id, chunk))
            )
            for ext, cid, upd, h in rows:
                out[ext] = BoundRecord(cid, upd, h)
        return out

    def to_external(self, canonical_id: str) -> str | None:
        return self.conn.execute(
            select(_t.c.external_id).where(
                _t.c.system == self.system,
                _t.c.entity == self.entity,
                _t.c.canonical_id == canonical_id,
            )
        ).scalar_one_or_none()

    def bind(
        self,
        records: Sequence[NewBinding],
        existing: set[str],
        run_id: str,
        now: dt.datetime,
        writer: SqlWriter | None = None,
    ) -> None:
        """Insert new bindings, refresh known ones (hash, time, canonical id) in bulk."""
        writer = writer or SqlWriter()
        new = [r for r in records if r.external_id not in existing]
        old = [r for r in records if r.external_id in existing]
        writer.insert(
            self.conn,
            _t,
            [
                {
                    "system": self.system,
                    "entity": self.entity,
                    "external_id": r.external_id,
                    "canonical_id": r.canonical_id,
                    "source_updated_at": r.source_updated_at,
                    "payload_hash": r.payload_hash,
                    "last_run_id": run_id,
                    "bound_at": now,
                    "updated_at": now,
                }
                for r in new
            ],
        )
        if old:
            stmt = (
                update(_t)
                .where(
                    _t.c.system == self.system,
                    _t.c.entity == self.entity,
                    _t.c.external_id == bindparam("b_ext"),
                )
                .values(
                    canonical_id=bindparam("b_cid"),
                    source_updated_at=bindparam("b_upd"),
                    payload_hash=bindparam("b_hash"),
                    last_run_id=run_id,
                    updated_at=now,
                )
            )
            self.conn.execute(
                stmt,
                [
                    {
                        "b_ext": r.external_id,
                        "b_cid": r.canonical_id,
                        "b_upd": r.source_updated_at,
                        "b_hash": r.payload_hash,
                    }
                    for r in old
                ],
            )


def unwrap(conn: Connection, entity: str, canonical_id: str) -> dict[str, list[str]]:
    """Every system's external ids of one canonical row."""
    out: dict[str, list[str]] = {}
    rows = conn.execute(
        select(_t.c.system, _t.c.external_id)
        .where(_t.c.entity == entity, _t.c.canonical_id == canonical_id)
        .order_by(_t.c.system, _t.c.external_id)
    )
    for system, ext in rows:
        out.setdefault(system, []).append(ext)
    return out
