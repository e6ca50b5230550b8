"""Apply a compiled mapping to a batch of raw records, field by field over the whole batch.

A value that cannot be converted becomes a `Reason` against its source record (which will
be quarantined) and never stops the batch. Children are exploded with their parent's row,
so a child field can read a parent's column (`parent:`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from oms.arrow import TIMESTAMP, column_type
from oms.entities import entity_spec
from transforms.arrowshape import entity_table, python_column
from transforms.batch import Reason

if TYPE_CHECKING:
    from transforms.compiler import CompiledEntity, CompiledField


def natural_key(entity: str) -> tuple[str, ...]:
    """The key rows of `entity` are deduplicated by, for any kind (`oms.entities`)."""
    return entity_spec(entity).natural_key


Item = tuple[
    Any, tuple[Any, ...], int, int, int
]  # (obj, parents, record idx, position, parent row)


def run_field(
    f: CompiledField,
    entity: str,
    items: list[Item],
    parent_cols: dict[str, list[Any]] | None,
    errors: dict[int, list[Reason]],
) -> list[Any]:
    if f.getter is not None:
        values = _get_all(f, entity, items, errors)
    elif f.parent_field is not None:
        assert parent_cols is not None
        pcol = parent_cols[f.parent_field]
        values = [pcol[prow] for _, _, _, _, prow in items]
    else:
        off = f.index_offset or 0
        values = [pos + off for _, _, _, pos, _ in items]
    for label, fn, on_null in f.steps:
        for i, v in enumerate(values):
            if v is None and not on_null:
                continue
            try:
                values[i] = fn(v)
            except (ValueError, TypeError, ArithmeticError) as e:
                values[i] = None
                errors[items[i][2]].append(
                    Reason(entity, f.name, label, f"{f.where} field {f.name!r}: {e}")
                )
    if f.required:
        for i, v in enumerate(values):
            if v is None or v == "":
                errors[items[i][2]].append(
                    Reason(
                        entity,
                        f.name,
                        "required",
                        f"{f.where} field {f.name!r}: required value is missing",
                    )
                )
    return values


def _get_all(
    f: CompiledField, entity: str, items: list[Item], errors: dict[int, list[Reason]]
) -> list[Any]:
    """Read the field of every item; an expression that fails rejects its record only."""
    g = f.getter
    assert g is not None
    values: list[Any] = []
    for obj, parents, rec, _, _ in items:
        try:
            values.append(g(obj, parents))
        except (ValueError, TypeError, ArithmeticError) as e:
            values.append(None)
            errors[rec].append(Reason(entity, f.name, "expr", f"{f.where} field {f.name!r}: {e}"))
    return values


def typed_column(
    f: CompiledField,
    entity: str,
    values: list[Any],
    t: pa.DataType,
    records: list[int],
    errors: dict[int, list[Reason]],
) -> pa.Array:
    """The field's values as the column's Arrow type; a value it cannot hold is a reason."""
    arr, misfits = python_column(values, t)
    for i, msg in misfits:
        errors[records[i]].append(
            Reason(entity, f.name, "column type", f"{f.where} field {f.name!r}: {msg}")
        )
    return arr


def apply_entity(
    ce: CompiledEntity,
    items: list[Item],
    parent_cols: dict[str, list[Any]] | None,
    tables: dict[str, list[pa.Table]],
    errors: dict[int, list[Reason]],
) -> int:
    filtered = 0
    if ce.filter is not None:
        flt = ce.filter
        kept = [it for it in items if flt(it[0], it[1])]
        filtered, items = len(items) - len(kept), kept
    records = [it[2] for it in items]
    cols: dict[str, list[Any]] = {}
    arrays: dict[str, pa.Array] = {}
    for f in ce.fields:
        cols[f.name] = run_field(f, ce.entity, items, parent_cols, errors)
        t = column_type(ce.entity, f.name)
        arrays[f.name] = typed_column(f, ce.entity, cols[f.name], t, records, errors)
    key_cols = [cols[k] for k in natural_key(ce.entity) if k in cols]
    if ce.external_id is not None:
        ext = run_field(ce.external_id, ce.entity, items, parent_cols, errors)
    else:
        ext = [
            "|".join("" if v is None else str(v) for v in key)
            for key in zip(*key_cols, strict=True)
        ]
    if ce.updated_at is not None:
        upd = run_field(ce.updated_at, ce.entity, items, parent_cols, errors)
        upd_arr = typed_column(ce.updated_at, ce.entity, upd, TIMESTAMP, records, errors)
    else:
        upd_arr = pa.nulls(len(items), TIMESTAMP)
    ext_arr = pa.array(ext, type=pa.string())
    tbl = entity_table(ce.entity, arrays, pa.array(records, pa.int64()), ext_arr, upd_arr)
    tables.setdefault(ce.entity, []).append(tbl)
    for child in ce.children:
        assert child.explode is not None
        sub: list[Item] = []
        for row, (obj, parents, rec, _, _) in enumerate(items):
            arr = child.explode(obj, parents)
            if arr is None:
                continue
            if not isinstance(arr, list):
                arr = [arr]
            chain = (*parents, obj)
            sub.extend((x, chain, rec, j, row) for j, x in enumerate(arr))
        filtered += apply_entity(child, sub, cols, tables, errors)
    return filtered
