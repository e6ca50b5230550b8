"""The look-up tables of a mapping (`transforms.lookups`), built for one batch or a test.

Freshness: a batch is processed after its run's extract step has landed every stream of
the source, so a `stream:` look-up reads the looked-up stream's most recent extract (all
batches landed by the latest run that landed any, in landing order), whether or not they
have loaded yet: the Square catalogue landed in this run is what this run's inventory
counts see. A stream that fetches only changes (incremental) holds just the changed
records there: look such data up through the store (`binding:`) instead.

A `binding:` look-up reads the store once per batch: every binding of (system, entity)
joined with its canonical row's column, e.g. Square's catalog variation id -> the SKU of
the `product_alias` row the catalogue stream wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from connectors.base import iter_records
from connectors.registry import get_format
from oms.entities import REGISTRY, entity_spec
from oms.errors import ConfigError
from oms.models import Binding, LandedBatch, table
from omshub.config import SourceConfig, StreamSpec
from omshub.landing import open_landed
from transforms.compiler import CompiledMapping
from transforms.lookups import Lookups, LookupSpec, LookupTable, field_lookups, table_from_records

_lb, _bind = table(LandedBatch), table(Binding)


def needs_lookups(mapping: CompiledMapping) -> bool:
    return any(True for _ in field_lookups(mapping.spec))


def for_batch(engine: Engine, source: SourceConfig, mapping: CompiledMapping) -> Lookups | None:
    """The tables a batch of `source` reads (None when the mapping has no look-up)."""
    if not needs_lookups(mapping):
        return None

    def build(spec: LookupSpec) -> LookupTable:
        if spec.stream is not None:
            return _landed_stream(engine, source, spec)
        return _bindings(engine, source.system, spec)

    return Lookups(build)


def _landed_stream(engine: Engine, source: SourceConfig, spec: LookupSpec) -> LookupTable:
    assert spec.stream is not None
    stream = source.stream(spec.stream)  # ConfigError naming the source when unknown
    with engine.connect() as conn:
        latest = conn.execute(
            select(_lb.c.run_id)
            .where(_lb.c.source == source.name, _lb.c.stream == spec.stream)
            .where(_lb.c.status != "discarded")
            .order_by(_lb.c.landed_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        rows = conn.execute(
            select(_lb.c.uri, _lb.c.checksum, _lb.c.original_name)
            .where(_lb.c.source == source.name, _lb.c.stream == spec.stream)
            .where(_lb.c.run_id == latest, _lb.c.status != "discarded")
            .order_by(_lb.c.landed_at, _lb.c.batch_id)
        ).all()
    if not rows:
        raise ConfigError(
            f"lookup {spec.label}: source {source.name!r} has landed nothing of stream"
            f" {spec.stream!r} yet (extract it first: `omshub run {source.name}`)"
        )
    where = f"{source.name}/{spec.stream}, landed {rows[-1].original_name or ''}".rstrip(", ")
    return table_from_records(spec, _landed_records(stream, rows), where)


def _landed_records(stream: StreamSpec, rows: Any) -> Iterator[Any]:
    fmt = get_format(stream.format.type)
    options = stream.format.model_dump(exclude={"type"})
    for uri, checksum, name in rows:
        with open_landed(uri, checksum) as fh:
            yield from iter_records(fmt, fh, options, name or "")


def _value_column(spec: LookupSpec) -> str:
    assert spec.binding is not None
    if spec.binding not in REGISTRY or entity_spec(spec.binding).kind != "row":
        raise ConfigError(f"lookup {spec.label}: not an entity the store keeps rows of")
    es = entity_spec(spec.binding)
    column = spec.value or (es.natural_key[0] if len(es.natural_key) == 1 else None)
    if column is None or column not in es.table.columns:
        raise ConfigError(
            f"lookup {spec.label}: give `value:`, a column of {spec.binding}"
            f" ({', '.join(es.data_columns)})"
        )
    return column


def _bindings(engine: Engine, system: str, spec: LookupSpec) -> LookupTable:
    """Every external id of (system, entity) -> that canonical row's `value` column."""
    assert spec.binding is not None
    column = _value_column(spec)
    t = entity_spec(spec.binding).table
    owner = spec.system or system
    with engine.connect() as conn:
        rows = conn.execute(
            select(_bind.c.external_id, t.c[column])
            .join(t, t.c.id == _bind.c.canonical_id)
            .where(_bind.c.system == owner, _bind.c.entity == spec.binding)
        ).all()
    codes = {str(ext).strip(): value for ext, value in rows}
    return LookupTable(spec.label, codes, False, f"bindings of {owner} {spec.binding}")


# -- `omshub mapping test`: samples stand in for the landing zone and the store ----------


def for_samples(mapping: CompiledMapping, mapping_file: Path) -> Lookups | None:
    """Tables from files: the lookup's `sample:`, else (a stream look-up) the sample of
    the mapping the looked-up stream uses, read in that stream's format."""
    if not needs_lookups(mapping):
        return None

    def build(spec: LookupSpec) -> LookupTable:
        if spec.binding is not None:
            return _binding_sample(spec, mapping_file)
        return _stream_sample(spec, mapping, mapping_file)

    return Lookups(build)


def _binding_sample(spec: LookupSpec, mapping_file: Path) -> LookupTable:
    if spec.sample is None:
        raise ConfigError(
            f"{mapping_file}: lookup {spec.label} needs `sample:` (a JSON object"
            " {external id: value}) to run without a store"
        )
    path = mapping_file.parent / spec.sample
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a binding sample is a JSON object {{external id: value}}")
    return LookupTable(spec.label, {str(k): v for k, v in data.items()}, False, str(path.name))


def _stream_sample(spec: LookupSpec, mapping: CompiledMapping, mapping_file: Path) -> LookupTable:
    from omshub.mappings import get_mapping
    from omshub.mappingtest import EXT_FORMATS, source_of

    assert spec.stream is not None
    source = source_of(mapping)
    stream = source.stream(spec.stream) if source is not None else None
    if spec.sample is not None:
        sample = mapping_file.parent / spec.sample
        fmt = stream.format.model_dump() if stream is not None else None
    elif stream is not None and stream.mapping is not None:
        other = get_mapping(stream.mapping)
        if other.spec.sample is None:
            raise ConfigError(f"lookup {spec.label}: the mapping {other.file} has no `sample:`")
        sample = Path(other.file if Path(other.file).is_absolute() else _root() / other.file)
        sample = sample.parent / other.spec.sample
        fmt = stream.format.model_dump()
    else:
        raise ConfigError(
            f"{mapping_file}: lookup {spec.label}: no source uses this mapping with a stream"
            f" {spec.stream!r}; give the lookup a `sample:`"
        )
    if not fmt:
        kind = EXT_FORMATS.get(sample.suffix.lower())
        if kind is None:
            raise ConfigError(f"lookup {spec.label}: cannot tell the format of {sample}")
        fmt = {"type": kind}
    fmt = dict(fmt)
    reader = get_format(fmt.pop("type"))
    with sample.open("rb") as fh:
        records = list(iter_records(reader, fh, fmt, sample.name))
    return table_from_records(spec, records, f"sample {sample.name}")


def _root() -> Path:
    from omshub.config import mappings_dir

    return mappings_dir().parent
