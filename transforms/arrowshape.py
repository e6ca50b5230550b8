"""Give mapped columns the Arrow shape of `oms.arrow.entity_schema` (both mapping paths).

The per-record path produces Python values and converts each column once at the end
(`python_column`); the columnar path produces Arrow arrays and only casts them
(`arrow_column`). Both round decimals half-even to the column's scale, so the two paths
give byte-identical tables. A value the column cannot hold (a decimal past its precision,
text in an int column) is reported back by index so the caller can reject its record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from oms.arrow import EXTERNAL_ID, META_FIELDS, RECORD, TIMESTAMP, UPDATED_AT, entity_schema
from oms.types import normalize_decimal

Misfit = tuple[int, str]  # (row, message)


def _decimal_value(v: Any, t: pa.Decimal128Type) -> Decimal:
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    out = d.quantize(Decimal(1).scaleb(-t.scale), rounding=ROUND_HALF_EVEN)
    if len(out.as_tuple().digits) > t.precision:
        shown = format(normalize_decimal(d), "f")
        raise ValueError(f"{shown} does not fit decimal({t.precision},{t.scale})")
    return out


def _fit(v: Any, t: pa.DataType) -> Any:
    """One Python value as `t` holds it; raises ValueError when it cannot."""
    if v is None:
        return None
    if pa.types.is_decimal(t):
        if isinstance(v, bool) or not isinstance(v, Decimal | int | float):
            raise ValueError(f"{v!r} is not a number")
        try:
            return _decimal_value(v, t)
        except InvalidOperation as e:
            raise ValueError(f"{v!r} is not a finite number") from e
    if pa.types.is_timestamp(t):
        if not isinstance(v, dt.datetime) or v.tzinfo is None:
            raise ValueError(f"{v!r} is not a time with a zone")
        return v.astimezone(dt.UTC)
    if pa.types.is_integer(t):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{v!r} is not a whole number")
        if not -(2**63) <= v < 2**63:
            raise ValueError(f"{v} does not fit a 64-bit integer")
        return v
    if pa.types.is_date(t):
        if isinstance(v, dt.datetime) or not isinstance(v, dt.date):
            raise ValueError(f"{v!r} is not a date")
        return v
    if pa.types.is_boolean(t):
        if not isinstance(v, bool):
            raise ValueError(f"{v!r} is not a boolean")
        return v
    if isinstance(v, Decimal):
        return format(v, "f")
    return v if isinstance(v, str) else str(v)


def python_column(values: Sequence[Any], t: pa.DataType) -> tuple[pa.Array, list[Misfit]]:
    """Python values -> an array of `t`; values it cannot hold become null + a misfit."""
    out: list[Any] = []
    misfits: list[Misfit] = []
    for i, v in enumerate(values):
        try:
            out.append(_fit(v, t))
        except ValueError as e:
            out.append(None)
            misfits.append((i, str(e)))
    return pa.array(out, type=t), misfits


def arrow_column(arr: pa.Array, t: pa.DataType) -> tuple[pa.Array, list[Misfit]]:
    """An Arrow array -> `t` (rounding decimals); falls back to values when types differ."""
    if arr.type == t:
        return arr, []
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), t), []
    if pa.types.is_decimal(t) and (pa.types.is_decimal(arr.type) or pa.types.is_integer(arr.type)):
        src = arr
        if pa.types.is_integer(src.type):
            src = pc.cast(src, pa.decimal128(19, 0))
        if src.type.scale > t.scale:
            src = pc.round(src, ndigits=t.scale, round_mode="half_to_even")
        try:
            return pc.cast(src, t), []
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # past the precision: find the rows by value
    elif pa.types.is_timestamp(t) and pa.types.is_timestamp(arr.type) and arr.type.tz:
        return pc.cast(arr, t), []
    elif (pa.types.is_string(t) and pa.types.is_large_string(arr.type)) or (
        pa.types.is_integer(t) and pa.types.is_integer(arr.type)
    ):
        try:
            return pc.cast(arr, t), []  # safe cast: an int past 64 bits fails, found below
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return python_column(arr.to_pylist(), t)


def entity_table(
    entity: str,
    columns: dict[str, pa.Array],
    record: pa.Array,
    external_id: pa.Array,
    updated_at: pa.Array,
) -> pa.Table:
    """The entity's table: the written columns in schema order, then the meta columns."""
    schema = entity_schema(entity)
    names = [f.name for f in schema if f.name in columns]
    fields = [schema.field(n) for n in names] + list(META_FIELDS)
    arrays = [columns[n] for n in names] + [
        pc.cast(record, pa.int64()),
        pc.cast(external_id, pa.string()),
        pc.cast(updated_at, TIMESTAMP),
    ]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def concat(tables: list[pa.Table], entity: str) -> pa.Table:
    """Tables of one entity from several mapping nodes: union of columns, schema order."""
    if len(tables) == 1:
        return tables[0]
    schema = entity_schema(entity)
    present = {n for t in tables for n in t.column_names}
    fields = [f for f in schema if f.name in present and f.name not in META_NAMES]
    target = pa.schema([*fields, *META_FIELDS])
    parts = []
    for t in tables:
        cols = [
            t.column(f.name) if f.name in t.column_names else pa.nulls(t.num_rows, f.type)
            for f in target
        ]
        parts.append(pa.Table.from_arrays(cols, schema=target))
    return pa.concat_tables(parts)


META_NAMES = (RECORD, EXTERNAL_ID, UPDATED_AT)


def records_table(records: list[Any]) -> pa.Table | None:
    """Python records as one Arrow table, or None when they do not share one shape.

    The columns are the union of every record's keys (`pa.array` infers the struct from
    all rows; `Table.from_pylist` would take the first record's keys only and silently
    drop a key the first record lacks)."""
    if not records or not all(isinstance(r, dict) for r in records):
        return None
    try:
        rows = pa.array(records)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None
    if not pa.types.is_struct(rows.type) or rows.type.num_fields == 0:
        return None
    return pa.Table.from_struct_array(rows)
