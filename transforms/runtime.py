"""Apply a compiled mapping to a batch of raw records, field by field over the whole batch.

A value that cannot be converted becomes a `Reason` against its source record (which will
be quarantined) and never stops the batch. Children are exploded with their parent's row,
so a child field can read a parent's column (`parent:`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from oms.arrow import TIMESTAMP, column_type
from oms.entities import entity_spec
from transforms.arrowshape import entity_table, python_column
from transforms.batch import Reason
from transforms.conditionals import StepErrs, first_given, pick_values, run_steps

if TYPE_CHECKING:
    from transforms.compiler import CompiledEntity, CompiledField


def natural_key(entity: str) -> tuple[str, ...]:
    """The key rows of `entity` are deduplicated by, for any kind (`oms.entities`)."""
    return entity_spec(entity).natural_key


Item = tuple[
    Any, tuple[Any, ...], int, int, int
]  # (obj, parents, record idx, position, parent row)


ItemErrs = list[tuple[int, Reason]]  # (item position, reason), in the order found


def run_field(
    f: CompiledField,
    entity: str,
    items: list[Item],
    parent_cols: dict[str, list[Any]] | None,
    errors: dict[int, list[Reason]],
    own: dict[str, list[Any]] | None = None,
) -> list[Any]:
    values, errs = field_values(f, entity, items, parent_cols, own)
    for i, reason in errs:
        errors[items[i][2]].append(reason)
    return values


def missing_message(spec: Any) -> str:
    """The reason a required field gives when empty: its `description`, when the mapping
    gives one, says what was missing in the source's own terms (`no N1 WH ...`)."""
    described = getattr(spec, "description", None)
    return f"required value is missing ({described})" if described else MISSING


MISSING = "required value is missing"


def _reason(f: CompiledField, entity: str, rule: str, msg: str) -> Reason:
    return Reason(entity, f.name, rule, f"{f.where} field {f.name!r}: {msg}")


def field_values(
    f: CompiledField,
    entity: str,
    items: list[Item],
    parent_cols: dict[str, list[Any]] | None,
    own: dict[str, list[Any]] | None = None,
) -> tuple[list[Any], ItemErrs]:
    """One field over every item: `when`, source, steps (or `pick`), `required`;
    `own` holds the entity's mapped fields (for `field:` in external_id/updated_at)."""
    errs: ItemErrs = []
    keep = _when(f, entity, items, errs) if f.when is not None else None
    values = _source(f, entity, items, parent_cols, errs, keep, own)
    step_errs: StepErrs = []
    if f.pick is not None:
        values, step_errs = pick_values(values, f.steps, f.pick)
    else:
        run_steps(values, f.steps, step_errs)
    errs.extend((i, _reason(f, entity, label, msg)) for i, label, msg in step_errs)
    if f.required:
        errs.extend(
            (i, _reason(f, entity, "required", missing_message(f.spec)))
            for i, v in enumerate(values)
            if v is None or v == ""
        )
    return values, errs


def _when(f: CompiledField, entity: str, items: list[Item], errs: ItemErrs) -> list[bool]:
    """The `when:` condition of every item (False where it fails, with a reason)."""
    assert f.when is not None
    return [bool(v) for v in _each(f.when, f, entity, "when", items, errs, False)]


def _each(
    fn: Callable[[Any, Any], Any],
    f: CompiledField,
    entity: str,
    label: str,
    items: list[Item],
    errs: ItemErrs,
    failed: Any,
) -> list[Any]:
    """`fn(obj, parents)` of every item; one that fails gives `failed` and rejects its
    record only, with a reason labelled `label`."""
    out: list[Any] = []
    for i, (obj, parents, _, _, _) in enumerate(items):
        try:
            out.append(fn(obj, parents))
        except (ValueError, TypeError, ArithmeticError) as e:
            out.append(failed)
            errs.append((i, _reason(f, entity, label, str(e))))
    return out


def _source(
    f: CompiledField,
    entity: str,
    items: list[Item],
    parent_cols: dict[str, list[Any]] | None,
    errs: ItemErrs,
    keep: list[bool] | None,
    own: dict[str, list[Any]] | None = None,
) -> list[Any]:
    if keep is not None and not all(keep):
        picked = [i for i, k in enumerate(keep) if k]
        sub_errs: ItemErrs = []
        sub_own = {k: [v[i] for i in picked] for k, v in own.items()} if own else None
        sub_items = [items[i] for i in picked]
        sub = _source(f, entity, sub_items, parent_cols, sub_errs, None, sub_own)
        errs.extend((picked[i], r) for i, r in sub_errs)
        values: list[Any] = [None] * len(items)
        for i, v in zip(picked, sub, strict=True):
            values[i] = v
        return values
    if f.own_field is not None:
        assert own is not None
        return list(own[f.own_field])
    if f.alternatives:
        return _coalesce(f, entity, items, parent_cols, errs, own)
    if f.getter is not None:
        return _get_all(f, entity, items, errs)
    if f.parent_field is not None:
        assert parent_cols is not None
        pcol = parent_cols[f.parent_field]
        return [pcol[prow] for _, _, _, _, prow in items]
    off = f.index_offset or 0
    return [pos + off for _, _, _, pos, _ in items]


def _coalesce(
    f: CompiledField,
    entity: str,
    items: list[Item],
    parent_cols: dict[str, list[Any]] | None,
    errs: ItemErrs,
    own: dict[str, list[Any]] | None,
) -> list[Any]:
    """The first alternative with a value; the alternatives' reasons where none has one."""
    columns: list[list[Any]] = []
    found: ItemErrs = []
    for alt in f.alternatives:
        col, alt_errs = field_values(alt, entity, items, parent_cols, own)
        columns.append(col)
        found.extend(alt_errs)
    values = first_given(columns, len(items))
    errs.extend((i, r) for i, r in found if values[i] is None)
    return values


def _get_all(f: CompiledField, entity: str, items: list[Item], errs: ItemErrs) -> list[Any]:
    """Read the field of every item; an expression that fails rejects its record only."""
    assert f.getter is not None
    return _each(f.getter, f, entity, "expr", items, errs, None)


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
        ext = run_field(ce.external_id, ce.entity, items, parent_cols, errors, cols)
    else:
        ext = [
            "|".join("" if v is None else str(v) for v in key)
            for key in zip(*key_cols, strict=True)
        ]
    if ce.updated_at is not None:
        upd = run_field(ce.updated_at, ce.entity, items, parent_cols, errors, cols)
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
