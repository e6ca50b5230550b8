"""Aggregation: many mapped rows -> one row, and list values -> one value.

Two forms, both shared by the per-record and the columnar engine (so they cannot differ):

- `aggregate:` on a field (`freight_cost: {path: freight, aggregate: sum}`): rows of the
  entity with the same natural key in one mapped chunk become one row (a 3PL file with
  one row per shipped line -> one shipment). The row keeps the first row's values and
  source record; each aggregated field is the sum/count/min/max/first/last of the
  group's values (nulls ignored; count = values present); `_updated_at` is the newest.
  A record of a group that is rejected rejects the others too: the grouped row stands
  for all of them, so it never loads with a part missing.
- the `sum`, `min`, `max` transforms (with the existing `first` and `count`) over a path
  that yields a list (`lines.freight`: a name applied to an array maps over its items):
  child values into the parent's field.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.batch import RECORD, UPDATED_AT, Reason
from transforms.functions import V, transform
from transforms.runtime import natural_key

if TYPE_CHECKING:
    from transforms.compiler import CompiledEntity


def aggregates(root: CompiledEntity) -> dict[str, dict[str, str]]:
    """Entity -> {column: function} of every field with `aggregate:` in the mapping."""
    out: dict[str, dict[str, str]] = {}

    def walk(ce: CompiledEntity) -> None:
        for f in ce.fields:
            if f.spec is not None and f.spec.aggregate:
                out.setdefault(ce.entity, {})[f.name] = f.spec.aggregate
        for c in ce.children:
            walk(c)

    walk(root)
    return out


def collapse_all(
    root: CompiledEntity, tables: dict[str, pa.Table], errors: dict[int, list[Reason]]
) -> dict[str, pa.Table]:
    """The mapped tables with each aggregated entity's groups collapsed (see module)."""
    for entity, aggs in aggregates(root).items():
        tbl = tables.get(entity)
        if tbl is not None and tbl.num_rows:
            tables[entity], groups = collapse(tbl, entity, aggs)
            _share_rejections(entity, groups, errors)
    return tables


class SplitGroups:
    """Refuses a batch whose aggregated rows of one key fall into two chunks.

    Groups collapse within one mapped chunk (`OMSHUB_CHUNK_RECORDS` records): the rows
    of a key that reach a later chunk would collapse again and their sum overwrite the
    first chunk's in the store. Seeing a key again fails the batch (one transaction:
    nothing of it loads) with what to do, instead of loading a partial sum.
    """

    def __init__(self, root: CompiledEntity, file: str) -> None:
        self.file = file
        self.seen: dict[str, set[tuple[Any, ...]]] = {e: set() for e in aggregates(root)}

    def check(self, tables: dict[str, pa.Table]) -> None:
        for entity, seen in self.seen.items():
            tbl = tables.get(entity)
            if tbl is None or not tbl.num_rows:
                continue
            keys = [k for k in natural_key(entity) if k in tbl.column_names]
            rows = set(zip(*(tbl.column(k).to_pylist() for k in keys), strict=True))
            again = rows & seen
            if again:
                raise ValueError(
                    f"{self.file}: rows of {entity} {sorted(again)[0]!r} are in two chunks of"
                    " the file, so their `aggregate:` would count only part of them: sort the"
                    " file by that key or raise OMSHUB_CHUNK_RECORDS"
                )
            seen |= rows


def _group_ids(tbl: pa.Table, entity: str) -> tuple[np.ndarray, int]:
    keys = [k for k in natural_key(entity) if k in tbl.column_names]
    seen: dict[tuple[Any, ...], int] = {}
    gid = np.empty(tbl.num_rows, dtype=np.int64)
    for i, key in enumerate(zip(*(tbl.column(k).to_pylist() for k in keys), strict=True)):
        gid[i] = seen.setdefault(key, len(seen))
    return gid, len(seen)


def collapse(tbl: pa.Table, entity: str, aggs: dict[str, str]) -> tuple[pa.Table, list[list[int]]]:
    """(one row per natural key, the source records of each group of several rows)."""
    gid, count = _group_ids(tbl, entity)
    if count == tbl.num_rows:
        return tbl, []
    _, heads = np.unique(gid, return_index=True)
    out = tbl.take(pa.array(heads, pa.int64()))
    by = pa.table({"g": pa.array(gid)})
    for col, fn in {**aggs, UPDATED_AT: "max"}.items():
        values = tbl.column(col).combine_chunks()
        grouped = (
            by.append_column("v", values)
            .group_by("g", use_threads=False)
            .aggregate([("v", fn, pc.CountOptions("only_valid"))] if fn == "count" else [("v", fn)])
            .sort_by("g")
        )
        result = grouped.column(f"v_{fn}").combine_chunks()
        target = tbl.schema.field(col).type
        out = out.set_column(
            out.schema.get_field_index(col), tbl.schema.field(col), pc.cast(result, target)
        )
    records = tbl.column(RECORD).to_numpy()
    groups = [sorted(set(records[gid == g].tolist())) for g in range(count)]
    return out, [g for g in groups if len(g) > 1]


def _share_rejections(
    entity: str, groups: list[list[int]], errors: dict[int, list[Reason]]
) -> None:
    for group in groups:
        bad = [r for r in group if errors.get(r)]
        if not bad:
            continue
        for r in group:
            if r not in bad:
                msg = f"grouped into one {entity} with rejected record {bad[0]}"
                errors.setdefault(r, []).append(Reason(entity, "*", "aggregate", msg))


# -- list aggregates (transforms) ---------------------------------------------------------


def _items(value: Any) -> Iterator[Any]:
    for v in value if isinstance(value, list) else [value]:
        if v is not None and v != "":
            yield v


def _number(v: Any) -> Decimal:
    try:
        return Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError(f"not a number: {v!r}") from None


def _ordered(values: list[Any]) -> list[Any]:
    """Numbers compare as numbers (text "9.5" < "12"), anything else as it is."""
    try:
        return sorted(values, key=_number)
    except ValueError:
        return sorted(values, key=str)


@transform("sum", vectorised=V.replace("funcs", "lists") + "list_sum")
def list_sum(value: Any) -> Decimal:
    """The exact sum of a list's values (nulls and empty text skipped; [] -> 0)."""
    return sum((_number(v) for v in _items(value)), Decimal(0))


@transform("min", vectorised=V.replace("funcs", "lists") + "list_min")
def list_min(value: Any) -> Any:
    """The smallest of a list's values (numbers as numbers), null for none."""
    values = _ordered(list(_items(value)))
    return values[0] if values else None


@transform("max", vectorised=V.replace("funcs", "lists") + "list_max")
def list_max(value: Any) -> Any:
    """The largest of a list's values (numbers as numbers), null for none."""
    values = _ordered(list(_items(value)))
    return values[-1] if values else None
