"""`omshub mapping test`: run a mapping on a sample and compare with a reviewed golden file.

The golden file is JSON: canonical rows per entity (values as text: exact decimals, UTC
ISO times) and the rejected records with their reasons. It is rewritten only by an
explicit `--update-golden`, and the diff is printed so a reviewer sees what changed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.base import RecordChunk
from connectors.registry import get_format
from oms.types import normalize_decimal
from omshub.config import SourceConfig, StreamSpec, mappings_dir, sources
from omshub.mappings import get_mapping, resolve
from omshub.pipeline import map_records
from transforms.compiler import META, RECORD, CompiledMapping, MappedBatch

EXT_FORMATS = {".json": "json", ".ndjson": "ndjson", ".csv": "csv", ".xml": "xml"}


def _text(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(normalize_decimal(v), "f")
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return v


def _user(mapping: CompiledMapping) -> tuple[SourceConfig, StreamSpec] | None:
    """The first (source, stream) whose records go through this mapping."""
    target = (mappings_dir().parent / mapping.file).resolve()
    for src in sources().values():
        for stream in src.streams:
            if any(resolve(m).resolve() == target for m in stream.mapping_files()):
                return src, stream
    return None


def source_of(mapping: CompiledMapping) -> SourceConfig | None:
    """The source that uses this mapping (its other streams are what lookups read)."""
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


def read_sample(mapping: CompiledMapping, sample: Path) -> list[Any]:
    fmt = format_for(mapping, sample)
    reader = get_format(fmt.pop("type"))
    return list(reader.read(sample.read_bytes(), fmt, sample.name))


def canonical_output(mapped: MappedBatch) -> dict[str, Any]:
    entities: dict[str, list[dict[str, Any]]] = {}
    for entity, frame in mapped.frames.items():
        rows = []
        for r in frame.to_dict("records"):
            row = {k: _text(v) for k, v in r.items() if k not in META}
            row["_external_id"] = r["_external_id"]
            row["_updated_at"] = _text(r["_updated_at"])
            row["_record"] = r[RECORD]
            rows.append(row)
        entities[entity] = rows
    rejected = [
        {"record": i, "reasons": [r.as_dict() for r in reasons]}
        for i, reasons in sorted(mapped.errors.items())
        if reasons
    ]
    return {"entities": entities, "rejected": rejected}


def run(mapping_path: str, sample: Path) -> tuple[CompiledMapping, dict[str, Any]]:
    from omshub.lookups import for_samples

    mapping = get_mapping(mapping_path)
    records = read_sample(mapping, sample)
    chunk = RecordChunk(0, list(range(len(records))), None, records, [])
    lookups = for_samples(mapping, resolve(mapping_path))
    return mapping, canonical_output(map_records(mapping, chunk, lookups))


def dumps(output: dict[str, Any]) -> str:
    return json.dumps(output, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def diff(golden: Path, output: dict[str, Any]) -> str:
    want = golden.read_text(encoding="utf-8") if golden.exists() else ""
    got = dumps(output)
    return "".join(
        difflib.unified_diff(
            want.splitlines(True), got.splitlines(True), f"{golden} (golden)", "actual"
        )
    )
