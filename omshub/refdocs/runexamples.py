"""Run a reference example through the real mapping compiler, on both engines.

The example's field goes into a one-field mapping of its entity (the natural key filled
with constants when the example does not map it), compiled like any mapping file, and
applied to its record per record (`apply`) and column-wise (`apply_table`). Both must
give the same value or the same rejection, else the generator stops: a page never shows
an output the engines do not produce.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from oms.entities import entity_spec
from omshub.refdocs.examples import Example
from transforms.batch import MappedBatch
from transforms.compiler import compile_mapping


class ExampleError(RuntimeError):
    """An example that does not run, or whose engines disagree (names the example)."""


@dataclass(frozen=True)
class Outcome:
    column: str
    value: Any = None
    rejected: str | None = None


def _mapping(example: Example) -> tuple[str, dict[str, Any]]:
    fields = yaml.safe_load(example.field)
    if not isinstance(fields, dict) or len(fields) != 1:
        raise ExampleError(f"example {example.field!r}: give exactly one `column: spec`")
    column = next(iter(fields))
    spec = entity_spec(example.entity)
    for key in spec.natural_key:
        if key not in fields and key not in spec.implicit_key:
            fields[key] = {"const": "1"}
    doc = {"mapping": "reference.example", "version": "1", "entity": example.entity}
    return column, {**doc, "fields": fields}


def _outcome(batch: MappedBatch, entity: str, column: str) -> Outcome:
    reasons = [r.message for rs in batch.errors.values() for r in rs]
    if reasons:
        return Outcome(column, rejected=reasons[0].split(": ", 1)[-1])
    rows = batch.tables[entity].column(column).to_pylist()
    return Outcome(column, rows[0])


def run_example(example: Example) -> Outcome:
    """The value the example's field maps to (or why its record is rejected)."""
    column, doc = _mapping(example)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "example.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        try:
            mapping = compile_mapping(path, {}, display="example.yaml")
        except Exception as e:
            raise ExampleError(f"example {example.field!r} does not compile: {e}") from e
    per_record = _outcome(mapping.apply([example.record]), example.entity, column)
    columnar = _outcome(
        mapping.apply_table(pa.Table.from_pylist([example.record])), example.entity, column
    )
    if per_record != columnar:
        raise ExampleError(
            f"example {example.field!r}: the engines disagree: per record {per_record}, "
            f"columnar {columnar}"
        )
    return per_record
