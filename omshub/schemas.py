"""JSON Schemas of the project's YAML files, generated from the code, for editors and CI.

The pydantic models (`transforms.spec`, `omshub.config`, `omshub.edi.partnerconfig`,
`transforms.codes`) give the shape (the ownership file's is the store's entities and
columns); this module adds what only the running code knows,
as enumerations an editor completes: canonical entities and each entity's columns, named
transforms (with their docs), code lists, transports and formats. `python -m
omshub.schemas` (or `omshub mapping schema --write`) writes them to `schemas/`; a test
fails when the written files are stale. Each shipped YAML names its schema in its first
line (`# yaml-language-server: $schema=...`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from oms.db import project_home

DRAFT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]


def schema_dir() -> Path:
    return project_home() / "schemas"


def _one_of_names(table: dict[str, str]) -> list[Schema]:
    """A `const` per name with its description: editors complete and explain each."""
    return [{"const": n, "description": d} for n, d in sorted(table.items())]


def _transforms_schema() -> Schema:
    from transforms.functions import registry

    docs = {name: fn.doc.splitlines()[0] if fn.doc else name for name, fn in registry().items()}
    names = _one_of_names(docs)
    calls = {
        name: {"description": doc, "markdownDescription": f"`{name}`: {doc}"}
        for name, doc in sorted(docs.items())
    }
    return {
        "type": "array",
        "description": "named transforms, in order: a name, or {name: argument(s)}",
        "items": {
            "anyOf": [
                {"anyOf": names},
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": calls,
                    "additionalProperties": False,
                },
            ]
        },
    }


def _entities_if_then() -> list[Schema]:
    """Per entity: its columns are the only keys of `fields` (and of a rule's `field`)."""
    from oms.entities import REGISTRY

    out: list[Schema] = []
    for name, spec in sorted(REGISTRY.items()):
        cols = sorted(spec.data_columns)
        out.append(
            {
                "if": {"properties": {"entity": {"const": name}}, "required": ["entity"]},
                "then": {
                    "properties": {
                        "fields": {
                            "propertyNames": {"enum": cols},
                            "properties": {c: {"$ref": "#/$defs/Field"} for c in cols},
                        }
                    }
                },
            }
        )
    return out


def _enrich_entity(node: Schema) -> None:
    from oms.entities import REGISTRY

    props = node["properties"]
    props["entity"] = {
        "description": props["entity"].get("description", ""),
        "enum": sorted(REGISTRY),
    }
    node["allOf"] = _entities_if_then()


def mapping_schema() -> Schema:
    """The mapping file schema: `transforms.spec` plus entities, columns, transforms, codes."""
    from connectors.registry import formats
    from omshub.mappings import code_lists
    from transforms.spec import MappingFile

    schema: Schema = MappingFile.model_json_schema()
    defs = schema["$defs"]
    field = defs["FieldSpec"]["properties"]
    field["transforms"] = _transforms_schema()
    codes = sorted(code_lists())
    field["code"] = {
        "description": field["code"].get("description", ""),
        "anyOf": [{"enum": codes}, {"type": "null"}] if codes else [{"type": ["string", "null"]}],
    }
    defs["Field"] = {"anyOf": [{"$ref": "#/$defs/FieldSpec"}, {"type": "string"}]}
    _enrich_entity(schema)
    _enrich_entity(defs["EntityMapping"])
    schema["properties"]["version"] = {
        "description": schema["properties"]["version"].get("description", ""),
        "type": ["string", "integer", "number"],
    }
    schema["properties"]["format"] = {
        "description": "how to read the sample: {type: json, records_path: orders}",
        "type": ["object", "null"],
        "properties": {"type": {"enum": sorted(formats())}},
    }
    return _finish(schema, "omshub mapping file")


def source_schema() -> Schema:
    """`config/sources/*.yaml`: `omshub.config.SourceConfig`, `connector:` per transport."""
    from connectors.registry import connector_adapter, formats
    from omshub.config import SourceConfig
    from omshub.schedule import PRESETS

    schema: Schema = SourceConfig.model_json_schema()
    defs = schema["$defs"]
    conn = connector_adapter().json_schema(ref_template=REF)
    defs.update(conn.pop("$defs", {}))
    schema["properties"]["connector"] = conn
    schema["properties"].pop("file", None)
    schema["allOf"] = _stream_options(defs)
    _registry_specs(defs)
    schema["properties"]["schedule"] = _schedule(PRESETS)
    fmt = schema["$defs"]["FormatSpec"]["properties"]["type"]
    fmt["enum"] = sorted(formats())
    return _finish(schema, "omshub source file")


REF = "#/$defs/{model}"


def _stream_options(defs: Schema) -> list[Schema]:
    """Per transport: the keys a stream's `options:` takes (its `Stream` model)."""
    from connectors.registry import transports

    out: list[Schema] = []
    for kind, cls in sorted(transports().items()):
        stream = cls.Stream.model_json_schema(ref_template=REF)
        defs.update(stream.pop("$defs", {}))
        stream.get("properties", {}).pop("pattern", None)  # written as the stream's `pattern`
        stream["required"] = [r for r in stream.get("required", []) if r != "pattern"]
        out.append(
            {
                "if": {
                    "properties": {"connector": {"properties": {"type": {"const": kind}}}},
                    "required": ["connector"],
                },
                "then": {"properties": {"streams": {"items": {"properties": {"options": stream}}}}},
            }
        )
    return out


def _registry_specs(defs: Schema) -> None:
    """`auth:` and `paginator:` name a registry entry whose `Options` model has the keys."""
    from connectors.rest.auth import AUTHENTICATORS
    from connectors.rest.paginate import PAGINATORS

    tables: tuple[tuple[str, dict[str, Any]], ...] = (
        ("auth", dict(AUTHENTICATORS)),
        ("paginator", dict(PAGINATORS)),
    )
    for key, table in tables:
        choices: list[Schema] = [{"enum": sorted(table)}]
        for kind, cls in sorted(table.items()):
            opts = cls.Options.model_json_schema(ref_template=REF)
            defs.update(opts.pop("$defs", {}))
            opts["properties"]["type"] = {"const": kind}
            choices.append(opts)
        for model in defs.values():
            prop = model.get("properties", {}).get(key)
            if isinstance(prop, dict) and prop.get("$ref") == "#/$defs/Spec":
                model["properties"][key] = {
                    "description": prop.get("description", ""),
                    "anyOf": choices,
                }


def _schedule(presets: tuple[str, ...]) -> Schema:
    return {
        "description": "an Airflow preset or a 5-field cron expression; null: manual runs only",
        "anyOf": [
            {"enum": list(presets)},
            {"type": "string", "pattern": r"^\S+( \S+){4}$"},
            {"type": "null"},
        ],
    }


def partner_schema() -> Schema:
    """`config/partners/*.yaml`: `omshub.edi.partnerconfig.PartnerConfig`."""
    from omshub.edi.partnerconfig import PartnerConfig
    from omshub.schedule import PRESETS

    schema: Schema = PartnerConfig.model_json_schema()
    schema["properties"].pop("file", None)
    schema["properties"]["schedule"] = _schedule(PRESETS)
    return _finish(schema, "omshub trading partner file")


def codelist_schema() -> Schema:
    """`config/codes/*.yaml`: `transforms.codes.CodeListFile`, `target` enumerated."""
    from oms.enums import ENUM_COLUMNS
    from transforms.codes import CodeListFile

    schema: Schema = CodeListFile.model_json_schema()
    targets = sorted(f"{e}.{c}" for e, cols in ENUM_COLUMNS.items() for c in cols)
    schema["properties"]["target"] = {
        "description": "entity.column whose vocabulary the values use",
        "anyOf": [{"enum": targets}, {"type": "null"}],
    }
    return _finish(schema, "omshub code list file")


def ownership_schema() -> Schema:
    """`config/ownership.yaml` (`oms.ownership`): entity -> its columns -> ranked owners.

    The file has no pydantic model: its keys are the store's own entities and columns,
    so they are enumerated from the model, exactly what `Ownership.load` accepts. Owners
    are system names or kinds; the kinds are offered for completion."""
    from typing import get_args

    from oms.entities import ENTITIES
    from omshub.config import SystemKind

    kinds = list(get_args(SystemKind))
    owners: Schema = {
        "description": "ranked owners, first wins: system names (shopify) or kinds"
        f" ({', '.join(kinds)})",
        "anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/Owner"}},
            {"$ref": "#/$defs/Owner"},
        ],
    }
    owner: Schema = {
        "description": "a system name or a system kind",
        "anyOf": [{"enum": kinds}, {"type": "string", "minLength": 1}],
    }
    entities: Schema = {
        name: {
            "description": f"owned fields of {name}",
            "type": "object",
            "propertyNames": {"enum": sorted(c.name for c in spec.table.columns)},
            "additionalProperties": {"$ref": "#/$defs/Owners"},
        }
        for name, spec in sorted(ENTITIES.items())
    }
    schema: Schema = {
        "description": "field ownership: which systems own which fields of each entity; a"
        " system ranked lower than the one that last set a field fills it only while empty",
        "type": ["object", "null"],
        "properties": entities,
        "additionalProperties": False,
        "$defs": {"Owners": owners, "Owner": owner},
    }
    return _finish(schema, "omshub field ownership file")


def _finish(schema: Schema, title: str) -> Schema:
    schema["$schema"] = DRAFT
    schema["title"] = title
    return schema


SCHEMAS = {
    "mapping.schema.json": mapping_schema,
    "source.schema.json": source_schema,
    "partner.schema.json": partner_schema,
    "codelist.schema.json": codelist_schema,
    "ownership.schema.json": ownership_schema,
}

#: which files each schema is for (globs relative to the project), for tests and docs
TARGETS: dict[str, tuple[str, ...]] = {
    "mapping.schema.json": ("mappings/**/*.yaml", "bench/mappings/*.yaml"),
    "source.schema.json": ("config/sources/*.yaml",),
    "partner.schema.json": ("config/partners/*.yaml",),
    "codelist.schema.json": ("config/codes/*.yaml",),
    "ownership.schema.json": ("config/ownership.yaml",),
}


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale(folder: Path | None = None) -> list[str]:
    """The schema files that differ from what the code generates now."""
    folder = folder or schema_dir()
    out = []
    for name, make in SCHEMAS.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(make()):
            out.append(name)
    return out


def write_all(folder: Path | None = None) -> list[Path]:
    """Write every schema (stable text: sorted keys, so a diff shows what changed)."""
    folder = folder or schema_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in SCHEMAS.items():
        path = folder / name
        path.write_text(render(make()), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m omshub.schemas
    for p in write_all():
        sys.stdout.write(f"wrote {p}\n")
