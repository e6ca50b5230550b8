"""The per-row reference loader: the set-based `oms.load` is tested against it.

Production loads go through `oms.load.load_batch`; this module states the same rules
(DESIGN.md §4: the source-of-truth contract) one row at a time, readable as a spec.

Per entity and batch, inside the caller's transaction:
1. keep the newest row per natural key of the batch;
2. ask the binder what this system sent last: same hash -> unchanged, older update time
   -> stale (an older update never overwrites a newer one);
3. fetch current rows, decide field by field: equal values are no change; a null never
   erases a value another system set; an owned field set by a higher-ranked system is
   kept (`config/ownership.yaml`);
4. bulk insert/update through the writer, refresh bindings, write the change log of the
   changed fields only, with provenance on every written row.
Re-running a batch therefore changes nothing, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from oms.bindings import Binder, NewBinding
from oms.entities import ENTITIES, EntitySpec
from oms.ids import canonical_id
from oms.load.context import LoadContext, LoadResult
from oms.models import ChangeLog, table
from oms.ownership import Ownership
from oms.types import normalize_decimal
from oms.writer import SqlWriter

EXTERNAL_ID, UPDATED_AT, RECORD = "_external_id", "_updated_at", "_record"
META = (EXTERNAL_ID, UPDATED_AT, RECORD)


def norm(value: Any) -> Any:
    """Comparable form (hot path: called per field and row).

    Decimals compare numerically (`Decimal("1.50") == Decimal("1.5")`) and aware datetimes
    by instant, so only floats (exact decimal of their text) and naive times (UTC) change.
    """
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(normalize_decimal(value), "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _newer_or_same(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    return a is None or b is None or a >= b


def derive_line_status(row: dict[str, Any]) -> str:
    """A line's status follows from its quantities (Moqui Mantle), never from a source."""
    zero = Decimal(0)
    ordered = row.get("qty_ordered") or zero
    shipped = row.get("qty_shipped") or zero
    cancelled = row.get("qty_cancelled") or zero
    returned = row.get("qty_returned") or zero
    allocated = row.get("qty_allocated") or zero
    open_qty = ordered - cancelled
    if ordered > 0 and cancelled >= ordered:
        return "cancelled"
    if returned > 0 and returned >= shipped > 0:
        return "returned"
    if shipped > 0:
        return "shipped" if shipped >= open_qty else "partially_shipped"
    if allocated > 0:
        return "allocated"
    return "open"


DERIVED_HOOKS = {"order_line": lambda row: {"status": derive_line_status(row)}}


def _owner_tag(ctx: LoadContext) -> str:
    return f"{ctx.system}|{ctx.kind or ''}"


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of an object frame as dicts, values untouched (5x faster than `to_dict`)."""
    keys = list(frame.columns)
    columns = [frame[k].tolist() for k in keys]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def record_hash(values: list[Any]) -> str:
    """Stable hash of what a system sent for one row (binding change detection)."""
    text = "\x1f".join([repr(norm(v)) for v in values])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Loader:
    def __init__(self, ownership: Ownership | None = None, writer: SqlWriter | None = None) -> None:
        self.ownership = ownership or Ownership()
        self.writer = writer or SqlWriter()

    @staticmethod
    def _newest_per_key(spec: EntitySpec, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in records:
            key = tuple(r[k] for k in spec.natural_key)
            prev = by_key.get(key)
            if prev is None or _newer_or_same(r[UPDATED_AT], prev[UPDATED_AT]):
                by_key[key] = r
        return list(by_key.values())

    @staticmethod
    def _binding_owners(rows: list[dict[str, Any]]) -> dict[str, int]:
        """External id -> index of the newest row carrying it (the one its binding names)."""
        out: dict[str, int] = {}
        for i, r in enumerate(rows):
            ext = str(r[EXTERNAL_ID])
            j = out.get(ext)
            if j is None or _newer_or_same(r[UPDATED_AT], rows[j][UPDATED_AT]):
                out[ext] = i
        return out

    def load(
        self, conn: Connection, entity: str, frame: pd.DataFrame, ctx: LoadContext
    ) -> LoadResult:
        spec = ENTITIES[entity]
        result = LoadResult(entity, received=len(frame))
        if frame.empty:
            return result
        data_cols = [c for c in frame.columns if c not in META]
        records = frame_records(frame)
        data_cols += spec.identify(records, data_cols, ctx.system)
        rows = self._newest_per_key(spec, records)
        result.duplicates = len(frame) - len(rows)
        binder = Binder(conn, ctx.system, entity)
        bound = binder.to_internal(str(r[EXTERNAL_ID]) for r in rows)

        candidates: list[tuple[str, dict[str, Any], str]] = []
        bindings: list[NewBinding] = []
        owners = self._binding_owners(rows)
        for i, r in enumerate(rows):
            cid = canonical_id(entity, [r[k] for k in spec.natural_key])
            h = record_hash([r[c] for c in data_cols])
            ext = str(r[EXTERNAL_ID])
            # rows of different keys sharing one external id (two guest orders' customer
            # "0"): the newest holds the binding, the others are compared by value only
            owner = owners[ext] == i
            b = bound.get(ext) if owner else None
            if b is not None:
                if b.payload_hash == h and b.canonical_id == cid:
                    result.unchanged += 1
                    continue
                if not _newer_or_same(r[UPDATED_AT], b.source_updated_at):
                    result.stale += 1
                    continue
            candidates.append((cid, r, h))
            if owner:
                bindings.append(NewBinding(ext, cid, r[UPDATED_AT], h))

        tbl = spec.table
        existing = self.writer.fetch(conn, tbl, [c for c, _, _ in candidates])
        owned = self.ownership.owned_fields(entity)
        hook = DERIVED_HOOKS.get(entity)
        all_cols = [c.name for c in tbl.columns]
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        log: list[dict[str, Any]] = []
        tag = _owner_tag(ctx)
        ref_ids: dict[tuple[Any, ...], str] = {}
        for cid, r, _h in candidates:
            values = {c: r[c] for c in data_cols}
            old = existing.get(cid)
            self._resolve_refs(spec, values, old, ref_ids)
            prov = ctx.provenance(r[UPDATED_AT])
            if old is None:
                row = dict.fromkeys(all_cols)
                row.update(values)
                if hook:
                    row.update(hook(row))
                fs = {c: tag for c in owned if row.get(c) is not None}
                row.update(
                    prov,
                    id=cid,
                    created_at=ctx.now,
                    field_sources=json.dumps(fs, sort_keys=True) if fs else None,
                )
                inserts.append(row)
                result.inserted_rows.append(row)
                result.inserted_ids.append(cid)
                log.append(self._log(ctx, entity, cid, "insert", "*", None, None))
            else:
                changed, claims = self._changes(values, old, owned, ctx)
                merged = {**old, **changed}
                if hook:
                    for c, v in hook(merged).items():
                        if norm(v) != norm(old.get(c)):
                            changed[c] = v
                            merged[c] = v
                if not changed and not claims:
                    result.unchanged += 1
                    continue
                fs = json.loads(old.get("field_sources") or "{}")
                for c in (*changed, *claims):
                    if c in owned:
                        fs[c] = tag
                merged.update(prov, field_sources=json.dumps(fs, sort_keys=True) if fs else None)
                updates.append(merged)
                for c, v in changed.items():
                    log.append(self._log(ctx, entity, cid, "update", c, old.get(c), v))
            result.changed_keys.append(tuple(r[k] for k in spec.natural_key))
            result.changed_ids.append(cid)

        self.writer.insert(conn, tbl, inserts)
        self.writer.update(conn, tbl, sorted(updates, key=lambda x: x["id"]))
        binder.bind(bindings, set(bound), ctx.run_id, ctx.now, self.writer)
        self.writer.insert(conn, table(ChangeLog), log)
        result.inserted, result.updated = len(inserts), len(updates)
        return result

    @staticmethod
    def _resolve_refs(
        spec: EntitySpec,
        values: dict[str, Any],
        old: dict[str, Any] | None,
        cache: dict[tuple[Any, ...], str],
    ) -> None:
        """Parent ids from the parents' natural keys (cached: lines share their order)."""
        for ref in spec.refs:
            key = tuple(values[k] if k in values else (old or {}).get(k) for k in ref.key_columns)
            if any(v is None for v in key):
                values[ref.id_column] = None
                continue
            ckey = (ref.entity, *key)
            if ckey not in cache:
                cache[ckey] = canonical_id(ref.entity, key)
            values[ref.id_column] = cache[ckey]

    def _changes(
        self,
        values: dict[str, Any],
        old: dict[str, Any],
        owned: dict[str, tuple[str, ...]],
        ctx: LoadContext,
    ) -> tuple[dict[str, Any], set[str]]:
        fs: dict[str, str] = json.loads(old.get("field_sources") or "{}")
        changed: dict[str, Any] = {}
        claims: set[str] = set()
        for c, new in values.items():
            cur = old.get(c)
            setter = fs.get(c, f"{old.get('source_system')}|")
            set_by_me = setter.split("|", 1)[0] == ctx.system
            if norm(new) == norm(cur):
                if (
                    c in owned
                    and cur is not None
                    and not set_by_me
                    and self._outranks(owned[c], ctx, setter)
                ):
                    claims.add(c)  # same value, confirmed by a higher-ranked owner
                continue
            if new is None and not set_by_me:
                continue  # a null never erases what another system set
            owners = owned.get(c)
            if (
                owners
                and cur is not None
                and not set_by_me
                and self._rank(owners, setter) < Ownership.rank(owners, ctx.system, ctx.kind)
            ):
                continue  # owned by a higher-ranked system that has set it
            changed[c] = new
        return changed, claims

    @staticmethod
    def _rank(owners: tuple[str, ...], setter: str) -> int:
        """Rank of the system recorded in `field_sources` as `system|kind`."""
        system, _, kind = setter.partition("|")
        return Ownership.rank(owners, system, kind or None)

    def _outranks(self, owners: tuple[str, ...], ctx: LoadContext, setter: str) -> bool:
        return Ownership.rank(owners, ctx.system, ctx.kind) < self._rank(owners, setter)

    @staticmethod
    def _log(
        ctx: LoadContext, entity: str, cid: str, op: str, fld: str, old: Any, new: Any
    ) -> dict[str, Any]:
        return {
            "run_id": ctx.run_id,
            "batch_id": ctx.batch_id,
            "entity": entity,
            "canonical_id": cid,
            "system": ctx.system,
            "operation": op,
            "field": fld,
            "old_value": as_text(old),
            "new_value": as_text(new),
            "changed_at": ctx.now,
        }
