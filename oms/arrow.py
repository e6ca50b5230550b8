"""The Arrow shape of a mapped batch: the contract between mapping and loading.

A mapping (columnar or per-record) produces, per canonical entity, one `pyarrow.Table`
whose columns are a subset of the entity's data columns, typed as below, plus the meta
columns `_record` (index of the source record), `_external_id` and `_updated_at`. The
loader (`oms.load`) consumes exactly that, so both sides agree on types without a
per-value conversion in between:

- money and quantities: `decimal128(precision, scale)` of the column (18,4 by default),
  the precision PostgreSQL stores; values with more decimals are rounded half-even;
- times: `timestamp("us", tz="UTC")`; dates: `date32`; integers: `int64`;
  text: `string`.
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa
from sqlalchemy import Boolean, Date, Integer, Numeric
from sqlalchemy.types import TypeEngine

from oms.entities import entity_spec
from oms.types import UTCDateTime

RECORD, EXTERNAL_ID, UPDATED_AT = "_record", "_external_id", "_updated_at"
TIMESTAMP = pa.timestamp("us", tz="UTC")
META_FIELDS = (
    pa.field(RECORD, pa.int64(), nullable=False),
    pa.field(EXTERNAL_ID, pa.string()),
    pa.field(UPDATED_AT, TIMESTAMP),
)


def arrow_type(column_type: TypeEngine[object]) -> pa.DataType:
    """The Arrow type that carries values of a store column exactly."""
    if isinstance(column_type, UTCDateTime):
        return TIMESTAMP
    if isinstance(column_type, Numeric) or hasattr(column_type, "impl_instance"):
        impl = getattr(column_type, "impl_instance", column_type)
        if isinstance(impl, Numeric):
            return pa.decimal128(impl.precision or 18, impl.scale or 4)
    if isinstance(column_type, Boolean):
        return pa.bool_()
    if isinstance(column_type, Integer):
        return pa.int64()
    if isinstance(column_type, Date):
        return pa.date32()
    return pa.string()


@cache
def entity_schema(entity: str) -> pa.Schema:
    """Every column a mapping may write for `entity`, typed, followed by the meta columns.

    Any kind (`oms.entities.REGISTRY`): a snapshot's columns are typed by the table it
    writes (inventory_position).
    """
    spec = entity_spec(entity)
    cols = spec.table.c
    names = [*spec.data_columns, *spec.implicit_key]
    fields = [pa.field(c, arrow_type(cols[c].type)) for c in dict.fromkeys(names)]
    return pa.schema([*fields, *META_FIELDS])


def column_type(entity: str, column: str) -> pa.DataType:
    return entity_schema(entity).field(column).type
