"""The mapping file format v1, as pydantic models (`omshub.schemas` generates the JSON
Schema editors use from them: `schemas/mapping.schema.json`).

One YAML file maps one source stream of one system to one canonical entity and, through
`children`, to the entities nested in it (order -> lines). See docs/mapping-language.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from transforms.lookups import LookupSpec
from transforms.spec_cases import MappingCase
from transforms.spec_values import MatchSpec, NamedFormat, Pick

TransformCall = str | dict[str, Any]
TypeName = Literal["string", "int", "decimal", "bool", "datetime", "date"]
Aggregate = Literal["sum", "count", "min", "max", "first", "last"]
SOURCES = ("path", "const", "expr", "parent", "index", "match", "coalesce", "field")


class FieldSpec(BaseModel):
    """Where one canonical value comes from, and how it is cleaned and typed."""

    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(
        None, description="path into the record: a.b[0].c, SEG[QUALF=001].X, ^.parent_key"
    )
    const: Any = Field(None, description="a constant value")
    expr: str | None = Field(None, description="safe expression: concat(a, ' ', b), qty * price")
    parent: str | None = Field(None, description="a field already mapped on the parent entity")
    field: str | None = Field(
        None,
        description="in external_id / updated_at: a field already mapped on this entity, "
        "e.g. updated_at: {field: ordered_at}",
    )
    index: int | None = Field(
        None, description="position in the exploded array plus this offset (1 = 1-based)"
    )
    match: MatchSpec | None = Field(
        None, description="cases tried in order: {cases: [{when: expr, then: value}], default}"
    )
    coalesce: list[FieldSpec | str] | None = Field(
        None,
        min_length=1,
        description="alternatives tried in order, each with its own transforms/format: "
        "the first that gives a value (not null, not empty) wins",
    )
    when: str | None = Field(
        None, description="expression; where it is false the value is null (then `default`)"
    )
    pick: Pick | None = Field(
        None,
        description="when the source gives a list (a path through an array), convert each "
        "item and keep the max, min, first or last (e.g. the newest line update)",
    )
    transforms: list[TransformCall] = Field(
        default_factory=list, description="named transforms, in order"
    )
    lookup: LookupSpec | None = Field(
        None, description="translate the value through another stream or the store's bindings"
    )
    code: str | None = Field(None, description="code list (config/codes) translating source codes")
    type: TypeName | None = Field(None, description="canonical type; default: the column's type")
    format: str | None = Field(
        None,
        description="date format: a name from `formats:`, a built-in (rfc2822, iso8601, "
        "epoch_s, epoch_ms, sap_dats, excel_serial) or a strptime pattern, e.g. %Y%m%d",
    )
    tz: str | None = Field(
        None, description="IANA zone of naive source times, e.g. America/New_York"
    )
    default: Any = Field(None, description="value when the source gives null or empty text")
    required: bool = Field(False, description="a null value rejects the record")
    aggregate: Aggregate | None = Field(
        None,
        description="rows of this entity with the same natural key become one row; this"
        " field is the sum/count/min/max/first/last of theirs (3PL lines -> one shipment)",
    )
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
    tests: list[MappingCase] = Field(
        default_factory=list, description="cases: given records and the rows they must give"
    )
    formats: dict[str, NamedFormat | str] = Field(
        default_factory=dict,
        description="date formats declared once, used as `format: <name>`: "
        "{shop_time: rfc2822, erp_time: {format: sap_dats, tz: Europe/Berlin}}",
    )
    on_empty: Literal["quarantine", "skip"] = Field(
        "quarantine",
        description="with a root `path`: a record where it reads nothing (absent, null, []) "
        "is quarantined with why (`quarantine`), or gives no row, no error (`skip`: an empty "
        "record is fine); a root `filter` skips records on purpose, so it flags none",
    )

    @field_validator("on_empty")
    @classmethod
    def _on_empty_needs_path(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("path") is None:
            raise ValueError("`on_empty` needs a root `path` (the array that may be empty)")
        return v

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> str:
        return str(v)
