"""A mapping applied to sample records: the canonical rows and rejections, as text.

The output is what a golden file holds: canonical rows per entity (values as text: exact
decimals, UTC ISO times) and the rejected records with their reasons. It names no line of
the mapping file (a comment added above a field must not change a golden file).

By default the entity suites are judged by `transforms.fastcheck` (GX's verdicts without
its seconds-long import); `checker="gx"` runs the pipeline's own `map_records`, the
validator of record. A test holds both to the same output on every shipped sample.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from connectors.registry import get_format
from oms.types import normalize_decimal
from omshub.config import SourceConfig, StreamSpec, mappings_dir, sources
from omshub.mappings import get_mapping, resolve
from transforms.arrowshape import records_table
from transforms.compiler import META, RECORD, CompiledMapping, MappedBatch
from transforms.validated import map_validated

Checker = Literal["fast", "gx"]
EXT_FORMATS = {".json": "json", ".ndjson": "ndjson", ".csv": "csv", ".xml": "xml"}
#: `mappings/shopify/orders.yaml:30` -> `mappings/shopify/orders.yaml` in messages
_YAML_LINE = re.compile(r"(\.ya?ml):\d+(?::\d+)?")


def _text(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(normalize_decimal(v), "f")
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return v


def _user(mapping: CompiledMapping) -> tuple[SourceConfig, StreamSpec] | None:
    """The first (source, stream) whose records go through this mapping."""
    target = _mapping_path(mapping).resolve()
    for src in sources().values():
        for stream in src.streams:
            if any(resolve(m).resolve() == target for m in stream.mapping_files()):
                return src, stream
    return None


def _mapping_path(mapping: CompiledMapping) -> Path:
    return mappings_dir().parent / mapping.file


def source_of(mapping: CompiledMapping) -> SourceConfig | None:
    """The source that uses this mapping (its other streams are what look-ups read)."""
    found = _user(mapping)
    return found[0] if found else None


def format_for(mapping: CompiledMapping, sample: Path) -> dict[str, Any]:
    """The mapping's own `format:`, else the stream that uses it, else the file extension."""
    if mapping.spec.format:
        return dict(mapping.spec.format)
    found = _user(mapping)
    if found is not None:
        return found[1].format.model_dump()
    kind = EXT_FORMATS.get(sample.suffix.lower())
    if not kind:
        raise ValueError(f"cannot tell the format of {sample}; add `format:` to the mapping")
    return {"type": kind}


def read_bytes(mapping: CompiledMapping, data: bytes, name: Path) -> list[Any]:
    """Records of `data` as the stream's reader gives them (`name` tells the format)."""
    fmt = format_for(mapping, name)
    reader = get_format(fmt.pop("type"))
    return list(reader.read(data, fmt, str(name)))


def read_sample(mapping: CompiledMapping, sample: Path) -> list[Any]:
    """The sample's records; a reader's error names it from the project's root."""
    try:
        shown = sample.resolve().relative_to(mappings_dir().parent.resolve())
    except ValueError:
        shown = sample
    return read_bytes(mapping, sample.read_bytes(), shown)


def map_sample(mapping: CompiledMapping, records: list[Any], checker: Checker) -> MappedBatch:
    """Map and validate records as the pipeline does (`transforms.validated`), with `checker`;
    look-ups read the samples (`omshub.lookups.for_samples`), not a store."""
    from omshub.lookups import for_samples

    lookups = for_samples(mapping, _mapping_path(mapping))
    table = records_table(records)
    return map_validated(mapping, table, records, lookups=lookups, checker=checker)


def canonical_output(mapped: MappedBatch) -> dict[str, Any]:
    entities: dict[str, list[dict[str, Any]]] = {}
    for entity, table in mapped.tables.items():
        rows = []
        for r in table.to_pylist():
            row = {k: _text(v) for k, v in r.items() if k not in META}
            row["_external_id"] = r["_external_id"]
            row["_updated_at"] = _text(r["_updated_at"])
            row["_record"] = r[RECORD]
            rows.append(row)
        entities[entity] = rows
    rejected = [
        {"record": i, "reasons": [_unlined(r.as_dict()) for r in reasons]}
        for i, reasons in sorted(mapped.errors.items())
        if reasons
    ]
    return {"entities": entities, "rejected": rejected}


def _unlined(reason: dict[str, str]) -> dict[str, str]:
    return {**reason, "message": _YAML_LINE.sub(r"\1", reason["message"])}


def run(
    mapping_path: str, sample: Path, checker: Checker = "fast"
) -> tuple[CompiledMapping, dict[str, Any]]:
    mapping = get_mapping(mapping_path)
    records = read_sample(mapping, sample)
    return mapping, canonical_output(map_sample(mapping, records, checker))


def dumps(output: dict[str, Any]) -> str:
    return json.dumps(output, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
