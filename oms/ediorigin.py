"""Per-row EDI provenance: which file, ISA13/GS06/ST02 and segment a store row came from.

The EDI inbox writes one `edi_row_origin` row per loaded store row and transaction set,
in the load's own transaction (`record`), so provenance commits or rolls back with the
rows it describes. Its key is (entity, row id, partner, ISA13, GS06, ST02): the same set
loaded again (a batch reprocessed) updates its row, a later set that changes the same
store row adds one, so a row's history of sets stays answerable (`find`, newest first).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from oms.base import table
from oms.bookkeeping import EdiRowOrigin

__all__ = ["KEY", "Origin", "find", "record"]

_t = table(EdiRowOrigin)
KEY = ("entity", "row_id", "partner", "isa_control", "gs06", "st02")


@dataclass(frozen=True)
class Origin:
    """One store row's origin in one transaction set."""

    entity: str
    row_id: str
    row_key: str | None
    partner: str
    batch_id: str | None
    file_name: str | None
    isa_control: str
    gs06: str
    st02: str
    st01: str
    segment: str | None  # the loop the row came from, `PO1@12` (ST@n for a set's header row)
    fields: dict[str, str] = field(default_factory=dict)  # field -> `PO102@12`
    loaded_at: dt.datetime | None = None

    def row(self) -> dict[str, Any]:
        return asdict(self) | {"fields": json.dumps(self.fields, sort_keys=True)}

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["loaded_at"] = self.loaded_at.isoformat() if self.loaded_at else None
        return out


def record(conn: Connection, origins: Iterable[Origin]) -> int:
    """Upsert `origins` in the caller's transaction; the number written. Several rows
    of one set that load into one store row keep the last (as the load does)."""
    rows = {tuple(getattr(o, k) for k in KEY): o.row() for o in origins}
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_t)
    updated = {c: stmt.excluded[c] for c in next(iter(rows.values())) if c not in KEY}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=list(KEY), set_=updated), list(rows.values())
    )
    return len(rows)


def find(conn: Connection, entity: str, key: str) -> list[Origin]:
    """The origins of the `entity` row named by `key`: its canonical id, its natural key
    as `a/b` (`acme_retail/4500012345`), or the key's last part (`4500012345`); newest
    first."""
    match = or_(
        _t.c.row_id == key, _t.c.row_key == key, _t.c.row_key.endswith(f"/{key}", autoescape=True)
    )
    query = (
        select(_t)
        .where(_t.c.entity == entity, match)
        .order_by(_t.c.loaded_at.desc(), _t.c.id.desc())
    )
    out = []
    for r in conn.execute(query).mappings():
        data = {k: r[k] for k in Origin.__dataclass_fields__}
        data["fields"] = json.loads(r["fields"] or "{}")
        out.append(Origin(**data))
    return out
