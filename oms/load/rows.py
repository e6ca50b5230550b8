"""Python rows -> a mapped Arrow table (`oms.arrow`): for tests, tools and adapters.

The loader's input is columnar; code that holds records as dicts (tests, the per-record
mapping path, a pandas frame of Python objects) builds the table here, typed by
`entity_schema`, with `_record` numbered when absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from oms.arrow import RECORD, entity_schema


def arrow_rows(entity: str, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """The columns any row names, in schema order, typed as the entity's schema says."""
    schema = entity_schema(entity)
    names = {k for r in rows for k in r}
    unknown = names - set(schema.names)
    if unknown:
        raise ValueError(f"{entity}: no such columns {sorted(unknown)}")
    cols: dict[str, pa.Array] = {}
    for f in schema:
        if f.name == RECORD:
            cols[f.name] = pa.array([r.get(RECORD, i) for i, r in enumerate(rows)], pa.int64())
        elif f.name in names:
            cols[f.name] = pa.array([r.get(f.name) for r in rows], f.type)
    return pa.table(cols)


def arrow_frame(entity: str, frame: pd.DataFrame) -> pa.Table:
    """An object frame of Python values (the per-row loader's input) as a mapped table."""
    records = [
        {
            k: (None if v is None or v is pd.NaT or (isinstance(v, float) and v != v) else v)
            for k, v in r.items()
        }
        for r in frame.to_dict("records")
    ]
    return arrow_rows(entity, records)
