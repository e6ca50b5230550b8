"""The canonical model page: every entity a mapping may name, from `oms.entities`,
`oms.models`, `oms.enums` and the project's field ownership rules.

Everything here is read from the code the loader runs (natural keys, scopes, references,
derived and validated columns, vocabularies), so the page cannot tell another story.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from sqlalchemy import Column, String, Text

from oms.entities import PROVENANCE_COLUMNS, REGISTRY, EntitySpec
from oms.enums import ENUM_COLUMNS
from oms.models import BUSINESS_TABLES, Provenance
from oms.ownership import Ownership
from oms.types import Money
from omshub.refdocs.comments import attribute_comments
from omshub.refdocs.md import GENERATED, anchor, code, table
from transforms.columns import type_of

INTRO = """\
# Canonical model reference

Every entity a mapping may write (`entity:` in a mapping file), with its columns, natural
key, references to other entities, field ownership and status vocabularies. Types are the
mapping types a value is converted to (`type:` in a mapping overrides them); `decimal`
values are exact (NUMERIC(18,4) on PostgreSQL unless stated), `datetime` values are stored
in UTC. Columns marked *store* are filled by the store, never by a mapping.
"""


def column_type(col: Column[object]) -> str:
    """The column's mapping type (`transforms.columns.type_of`), with its storage limit."""
    t, kind = col.type, type_of(col)
    if isinstance(t, Money):
        p, s = getattr(t.impl_instance, "precision", 18), getattr(t.impl_instance, "scale", 4)
        return kind if (p, s) == (18, 4) else f"{kind}({p},{s})"
    if kind == "datetime":
        return "datetime (UTC)"
    if kind != "string":
        return kind
    if isinstance(t, Text):
        return "text"
    if isinstance(t, String):
        return f"string({t.length})" if t.length else "string"
    return str(t).lower()


def _notes(spec: EntitySpec, name: str, ownership: Ownership) -> list[str]:
    notes: list[str] = []
    if name in spec.natural_key:
        notes.append("natural key")
    for s in spec.scopes:
        if s.column == name:
            notes.append(f"scope of `{s.of}`; unmapped: the loading system")
    ck = spec.customer_key
    if ck is not None and ck.column == name:
        ext = f", else `<system>:<{ck.external_id}>`" if ck.external_id else ""
        notes.append(f"*store*: normalised `{ck.email}`{ext}")
    for r in spec.refs:
        if r.id_column == name:
            notes.append(f"*store*: id of the [{r.entity}](#{anchor(r.entity)}) it names")
    if name in spec.derived:
        notes.append("*store*: derived by the loader")
    if name in spec.required:
        notes.append("required")
    if name in spec.non_negative:
        notes.append("not negative")
    vocab = ENUM_COLUMNS.get(spec.target or spec.name, {}).get(name)
    if vocab:
        notes.append("one of " + ", ".join(code(v) for v in vocab))
    owners = ownership.owned_fields(spec.target or spec.name).get(name)
    if owners:
        notes.append("owned by " + " > ".join(code(o) for o in owners))
    return notes


def _entity(spec: EntitySpec, ownership: Ownership, referenced_by: list[str]) -> str:
    model = BUSINESS_TABLES[spec.target or spec.name]
    doc = inspect.getdoc(model) or ""
    comments = attribute_comments(model)
    parts = [f"## {spec.name}"]
    if doc and doc != inspect.getdoc(Provenance):
        parts.append(doc)
    facts = [f"- natural key: {', '.join(code(k) for k in spec.natural_key)}"]
    if spec.kind != "row":
        facts.append(
            f'- kind: `{spec.kind}`: rows are read as "the quantity is N as of T" and '
            f"written as the movements that explain the difference and the "
            f"[{spec.target}](#{anchor(spec.target or '')}) rows they move"
        )
    for r in spec.refs:
        keys = ", ".join(code(k) for k in r.key_columns)
        facts.append(f"- references [{r.entity}](#{anchor(r.entity)}) by {keys} (`{r.id_column}`)")
    if referenced_by:
        facts.append("- referenced by " + ", ".join(f"[{e}](#{anchor(e)})" for e in referenced_by))
    parts.append("\n".join(facts))
    columns = spec.data_columns
    extra = [c.name for c in spec.table.columns if c.name not in PROVENANCE_COLUMNS]
    names = columns if spec.columns is not None else extra
    rows = []
    for name in names:
        col = spec.table.columns[name]
        rows.append(
            (
                code(name),
                column_type(col),
                "yes" if col.nullable else "no",
                "; ".join([comments[name]] if name in comments else [])
                + ("; " if name in comments and _notes(spec, name, ownership) else "")
                + "; ".join(_notes(spec, name, ownership)),
            )
        )
    parts.append(table(("column", "type", "null", "notes"), rows))
    return "\n\n".join(parts)


def _provenance() -> str:
    comments = attribute_comments(Provenance)
    some = REGISTRY["sales_order"].table
    rows = [
        (code(n), column_type(some.columns[n]), comments.get(n, "")) for n in PROVENANCE_COLUMNS
    ]
    return "\n\n".join(
        [
            "## Provenance columns",
            "Every table above also has these columns, written by the store (a mapping "
            "never writes them): who wrote the row last, from which run and batch, with "
            "which mapping version.",
            table(("column", "type", "meaning"), rows),
        ]
    )


def _vocabularies() -> str:
    rows = [
        (f"[{entity}](#{anchor(entity)})", code(col), ", ".join(code(v) for v in values))
        for entity, cols in sorted(ENUM_COLUMNS.items())
        for col, values in cols.items()
    ]
    return "\n\n".join(
        [
            "## Status vocabularies",
            "A mapping reaches these values through a code list (`code:`), translating the "
            "source's own codes; any other value rejects the record.",
            table(("entity", "column", "values"), rows),
        ]
    )


def render(ownership_file: Path) -> str:
    """The whole page; ownership notes come from `ownership_file` (config/ownership.yaml)."""
    ownership = Ownership.load(ownership_file)
    referrers: dict[str, list[str]] = {}
    for spec in REGISTRY.values():
        for r in spec.refs:
            referrers.setdefault(r.entity, []).append(spec.name)
    toc = "\n".join(f"- [{name}](#{anchor(name)})" for name in REGISTRY)
    own = (
        "Field ownership (*owned by*) is the shipped `config/ownership.yaml`: the first owner "
        "listed wins; a system ranked lower (or not listed) fills the field only while it is "
        "empty; fields without owners take the newest update from any system."
    )
    body = [_entity(s, ownership, referrers.get(s.name, [])) for s in REGISTRY.values()]
    return "\n\n".join([GENERATED, INTRO, own, toc, *body, _provenance(), _vocabularies()]) + "\n"
