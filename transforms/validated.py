"""A batch of records mapped and validated: what the pipeline and `mapping test` both run.

The pipeline validates with great-expectations (the validator of record);
`omshub mapping test` asks for `checker="fast"` (GX's verdicts without its import,
`transforms.fastcheck`). Records go column-wise through `apply_table` when they fit one
Arrow table, else through the per-record `apply` (the same rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from transforms.lookups import use_lookups
from transforms.validation import validate

if TYPE_CHECKING:
    import pyarrow as pa

    from transforms.batch import MappedBatch
    from transforms.compiler import CompiledMapping
    from transforms.lookups import Lookups


def map_validated(
    mapping: CompiledMapping,
    table: pa.Table | None,
    records: Sequence[Any],
    delivery: Mapping[str, Any] | None = None,
    lookups: Lookups | None = None,
    checker: Literal["gx", "fast"] = "gx",
) -> MappedBatch:
    """Map `table` (or, when None, `records`) and add each entity suite's reasons to
    `mapped.errors`. Look-ups are set here: chunks are mapped in a prefetch thread."""
    with use_lookups(lookups):
        mapped = (
            mapping.apply_table(table, delivery)
            if table is not None
            else mapping.apply(records, delivery)
        )
    rules = mapping.rules()
    where = f"{mapping.file} (validation): "
    for entity, tbl in mapped.tables.items():
        for rec, reasons in validate(entity, tbl, rules.get(entity), where, checker).items():
            mapped.errors.setdefault(rec, []).extend(reasons)
    return mapped
