"""The mapping file format v1, as pydantic models (the JSON Schema is generated from them).

One YAML file maps one source stream of one system to one canonical entity and, through
`children`, to the entities nested in it (order -> lines). See docs/mapping-language.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TransformCall = str | dict[str, Any]
TypeName = Literal["string", "int", "decimal", "bool", "datetime", "date"]
SOURCES = ("path", "const", "expr", "parent", "index")


class FieldSpec(BaseModel):
    """Where one canonical value comes from, and how it is cleaned and typed."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(
        None, description="path into the record: a.b[0].c, SEG[QUALF=001].X, ^.parent_key"
    )
    const: Any = Field(None, description="a constant value")
    expr: str | None = Field(None, description="safe expression: concat(a, ' ', b), qty * price")
    parent: str | None = Field(None, description="a field already mapped on the parent entity")
    index: int | None = Field(
        None, description="position in the exploded array plus this offset (1 = 1-based)"
    )
    transforms: list[TransformCall] = Field(
        default_factory=list, description="named transforms, in order"
    )
    code: str | None = Field(None, description="code list (config/codes) translating source codes")
    type: TypeName | None = Field(None, description="canonical type; default: the column's type")
    format: str | None = Field(None, description="strptime format for datetime/date, e.g. %Y%m%d")
    tz: str | None = Field(
        None, description="IANA zone of naive source times, e.g. America/New_York"
    )
    default: Any = Field(None, description="value when the source gives null or empty text")
    required: bool = Field(False, description="a null value rejects the record")
    description: str | None = Field(None, description="free text for readers of the mapping")

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [s for s in SOURCES if s in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of {', '.join(SOURCES)} (got {', '.join(given) or 'none'})"
            )
        return self


FieldOrPath = FieldSpec | str


def as_field(value: FieldOrPath) -> FieldSpec:
    """A bare string is shorthand for `{path: ...}`."""
    return FieldSpec(path=value) if isinstance(value, str) else value


class Rule(BaseModel):
    """An extra per-mapping validation (run with the entity's great-expectations suite)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    field: str = Field(description="the canonical column checked")
    name: str | None = Field(None, description="label shown in quarantine reasons")
    not_null: bool | None = Field(None, description="true: a null value rejects the record")
    min: float | None = Field(None, description="smallest allowed value (with or without max)")
    max: float | None = Field(None, description="largest allowed value (with or without min)")
    in_: list[Any] | None = Field(None, alias="in", description="the allowed values")
    regex: str | None = Field(None, description="a pattern the whole text must match")

    @model_validator(mode="after")
    def _one_check(self) -> Rule:
        checks = [c for c in ("not_null", "in_", "regex") if getattr(self, c) is not None]
        if self.min is not None or self.max is not None:
            checks.append("min/max")
        if len(checks) != 1:
            raise ValueError("give exactly one check: not_null, min/max, in, regex")
        return self


class EntityMapping(BaseModel):
    """One canonical entity a record (or each item of one of its arrays) maps to."""

    model_config = ConfigDict(extra="forbid")
    entity: str = Field(
        description="canonical entity, e.g. sales_order, order_line, inventory_snapshot"
    )
    path: str | None = Field(
        None,
        description="the array to explode into rows (children: relative to the parent record; root: each array item of a record becomes a row, the record is its ^ parent)",
    )
    external_id: FieldOrPath | None = Field(
        None, description="the system's id of this record (binding key); default: the natural key"
    )
    updated_at: FieldOrPath | None = Field(
        None, description="the system's last-change time of this record (recency guard)"
    )
    filter: str | None = Field(
        None, description="expression; records where it is false are skipped (counted)"
    )
    fields: dict[str, FieldOrPath] = Field(
        description="canonical column -> where its value comes from (a bare string is a path)"
    )
    children: list[EntityMapping] = Field(
        default_factory=list,
        description="entities nested in the record (order -> lines), each exploding a `path`",
    )
    rules: list[Rule] = Field(
        default_factory=list, description="extra validations of this entity's rows"
    )


class MappingFile(EntityMapping):
    """Top level of a mapping YAML file."""

    mapping: str = Field(description="unique mapping name, e.g. shopify.orders")
    version: str = Field(description="bumped on every change; stored on every row it writes")
    description: str | None = Field(None, description="free text: what the mapping reads")
    system: str | None = Field(
        None, description="the source system this mapping reads (informative)"
    )
    sample: str | None = Field(None, description="sample input, relative to this file")
    golden: str | None = Field(None, description="reviewed canonical output of the sample")
    format: dict[str, Any] | None = Field(
        None, description="how to read the sample: {type: json, records_path: orders}"
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> str:
        return str(v)


def json_schema() -> dict[str, Any]:
    schema = MappingFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "omshub mapping file v1"
    return schema


SCHEMA_PATH = Path(__file__).parent / "mapping.schema.json"


def write_json_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
