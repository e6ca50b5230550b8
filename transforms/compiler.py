"""Compile a mapping YAML once, then apply it to whole batches of raw records.

Compilation resolves everything that can fail on the mapping itself (unknown entity,
column, transform, code list, bad path or expression) into a `MappingError` naming the
file, line and field. Application works column by column over a batch; a value that
cannot be converted is recorded as a `Reason` against its source record (which will be
quarantined) and never stops the batch.

Two ways to apply, same tables and reasons (tests/transforms/test_columnar_equivalence.py):
`apply(records)` walks Python records (the reference, and the path for shapes no Arrow
table holds), `apply_table(table)` runs the same mapping as pyarrow.compute operations
(`transforms/columnar/`). Both return Arrow tables shaped by `oms.arrow.entity_schema`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from oms.entities import REGISTRY
from transforms.aggregate import collapse_all
from transforms.arrowshape import concat

# what a mapping produces (re-exported: callers import them from here)
from transforms.batch import EXTERNAL_ID, META, RECORD, UPDATED_AT, MappedBatch, Reason  # noqa: F401
from transforms.casts import caster
from transforms.codes import CodeList
from transforms.columns import default_type, entity_columns, implicit_key
from transforms.delivery import delivering
from transforms.errors import MappingError
from transforms.expr import ExprError, compile_expr
from transforms.fieldparts import (
    alternative_specs,
    own_field_problems,
    source_getter,
    with_format,
)
from transforms.functions import registry
from transforms.lookups import LookupStep
from transforms.paths import PathSyntaxError, compile_path
from transforms.runtime import Item, apply_entity, natural_key
from transforms.spec import EntityMapping, FieldSpec, MappingFile, Rule, as_field
from transforms.spec_values import NamedFormat
from transforms.typecheck import transform_args_error, type_misfit
from transforms.yamlsrc import Lines, col_of, line_of, load_yaml

Getter = Callable[[Any, Sequence[Any]], Any]
Step = tuple[str, Callable[[Any], Any], bool]  # (label, fn, applies to None too)


@dataclass
class CompiledField:
    name: str
    where: str  # "file:line" for reasons
    getter: Getter | None
    parent_field: str | None
    index_offset: int | None
    steps: list[Step]
    required: bool
    spec: FieldSpec | None = None  # the YAML the field came from (the columnar path reads it)
    when: Getter | None = None  # `when:` (the value is null where it is false)
    alternatives: list[CompiledField] = field(default_factory=list)  # `coalesce:`
    pick: str | None = None  # `pick:` max/min/first/last of a list value
    own_field: str | None = None  # `field:` a field mapped on this entity (updated_at)


@dataclass
class CompiledEntity:
    entity: str
    explode: Getter | None
    filter: Getter | None
    fields: list[CompiledField]
    external_id: CompiledField | None
    updated_at: CompiledField | None
    rules: list[Rule]
    children: list[CompiledEntity] = field(default_factory=list)
    path: str | None = None  # the YAML `path:` and `filter:` (the columnar path reads them)
    filter_text: str | None = None


class _Ctx:
    """Compile-time context: file, key lines, code lists."""

    def __init__(self, file: str, lines: Lines, codes: dict[str, CodeList]) -> None:
        self.file, self.lines, self.codes = file, lines, codes
        self.formats: dict[str, NamedFormat | str] = {}  # the file's `formats:`

    def line(self, loc: tuple[str | int, ...]) -> int | None:
        return line_of(self.lines, loc)

    def error(self, msg: str, loc: tuple[str | int, ...], fld: str | None = None) -> MappingError:
        return MappingError(
            msg, file=self.file, line=self.line(loc), field=fld, column=col_of(self.lines, loc)
        )


def _transform_step(call: Any, ctx: _Ctx, loc: tuple[str | int, ...], fname: str) -> Step:
    if isinstance(call, str):
        name, args = call, []
    elif isinstance(call, dict) and len(call) == 1:
        name, raw = next(iter(call.items()))
        args = raw if isinstance(raw, list) else [raw]
    else:
        raise ctx.error("a transform is a name or {name: argument(s)}", loc, fname)
    fn = registry().get(name)
    if fn is None:
        known = ", ".join(sorted(registry()))
        raise ctx.error(f"unknown transform {name!r} (known: {known})", loc, fname)
    f = fn.fn
    try:  # catch wrong arity now, not per record
        import inspect

        inspect.signature(f).bind("x", *args)
    except TypeError as e:
        raise ctx.error(f"transform {name!r}: {e}", loc, fname) from e
    wrong = transform_args_error(f, args)
    if wrong:
        raise ctx.error(f"transform {name!r}: {wrong}", loc, fname)
    return (f"transform {name}", lambda v, f=f, a=tuple(args): f(v, *a), not fn.null_passthrough)


def _compile_field(
    entity: str, name: str, raw: Any, ctx: _Ctx, loc: tuple[str | int, ...], typed: bool = True
) -> CompiledField:
    try:
        spec: FieldSpec = with_format(as_field(raw), ctx.formats)
    except ValueError as e:
        raise ctx.error(str(e), (*loc, "format"), name) from e
    where = f"{ctx.file}:{ctx.line(loc)}"
    try:
        getter = source_getter(spec)
    except (PathSyntaxError, ExprError) as e:
        raise ctx.error(str(e), loc, name) from e
    try:
        when = compile_expr(spec.when) if spec.when is not None else None
    except ExprError as e:
        raise ctx.error(f"when: {e}", (*loc, "when"), name) from e
    steps = [
        _transform_step(c, ctx, (*loc, "transforms", i), name)
        for i, c in enumerate(spec.transforms)
    ]
    if spec.lookup is not None:
        look = LookupStep(spec.lookup, spec.default is not None)
        steps.append((f"lookup {spec.lookup.label}", look, False))
    if spec.default is not None:
        fallback = spec.default

        def use_default(v: Any, d: Any = fallback) -> Any:
            return d if v is None or v == "" else v

        steps.append(("default", use_default, True))
    if spec.code is not None:
        cl = ctx.codes.get(spec.code)
        if cl is None:
            raise ctx.error(f"unknown code list {spec.code!r} (config/codes/*.yaml)", loc, name)
        steps.append((f"code {spec.code}", cl.lookup, False))
    if spec.type and typed and name in entity_columns(entity):
        misfit = type_misfit(spec.type, default_type(entity, name))
        if misfit:
            raise ctx.error(f"{entity}.{name}: {misfit}", (*loc, "type"), name)
    type_name = spec.type or (default_type(entity, name) if typed else None)
    if spec.format is not None and type_name not in ("datetime", "date"):
        msg = f"`format:` reads dates and times; this field is {type_name or 'untyped'}"
        raise ctx.error(msg, (*loc, "format"), name)
    if type_name:
        try:
            steps.append((f"type {type_name}", caster(type_name, spec.format, spec.tz), False))
        except ValueError as e:
            raise ctx.error(str(e), loc, name) from e
    alts = [
        _compile_field(entity, name, alt, ctx, (*loc, "coalesce", i), typed=False)
        for i, alt in enumerate(alternative_specs(spec, type_name))
    ]
    return CompiledField(
        name,
        where,
        getter,
        spec.parent,
        spec.index,
        steps,
        spec.required,
        spec,
        when,
        alts,
        spec.pick,
        spec.field,
    )


def _compile_entity(
    m: EntityMapping, ctx: _Ctx, loc: tuple[str | int, ...], parent: EntityMapping | None
) -> CompiledEntity:
    if m.entity not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise ctx.error(f"unknown canonical entity {m.entity!r} (known: {known})", (*loc, "entity"))
    allowed = set(entity_columns(m.entity))
    for name in m.fields:
        if name not in allowed:
            raise ctx.error(
                f"{m.entity} has no column {name!r} (columns: {', '.join(sorted(allowed))})",
                (*loc, "fields", name),
                name,
            )
    implicit = implicit_key(m.entity)
    missing = [k for k in natural_key(m.entity) if k not in m.fields and k not in implicit]
    if missing:
        raise ctx.error(
            f"natural key of {m.entity} not mapped: {', '.join(missing)}", (*loc, "fields")
        )
    if m.external_id is None and not any(k in m.fields for k in natural_key(m.entity)):
        raise ctx.error(f"{m.entity}: give `external_id` (the store derives its key from it)", loc)
    if parent is not None and m.path is None:
        raise ctx.error("a child needs `path`: the array of the parent record to explode", loc)
    fields = [_compile_field(m.entity, n, f, ctx, (*loc, "fields", n)) for n, f in m.fields.items()]
    for f in fields:
        if f.parent_field and (parent is None or f.parent_field not in parent.fields):
            raise ctx.error(
                f"parent field {f.parent_field!r} is not mapped on the parent",
                (*loc, "fields", f.name),
                f.name,
            )
        if f.index_offset is not None and m.path is None:
            raise ctx.error(
                "`index` needs `path` (an exploded array)", (*loc, "fields", f.name), f.name
            )
    ext = (
        _compile_field(m.entity, "external_id", m.external_id, ctx, (*loc, "external_id"), False)
        if m.external_id is not None
        else None
    )
    if ext is not None:
        ext.steps.append(("type string", caster("string"), False))
    upd = (
        _compile_field(
            m.entity,
            "updated_at",
            as_field(m.updated_at).model_copy(
                update={"type": as_field(m.updated_at).type or "datetime"}
            ),
            ctx,
            (*loc, "updated_at"),
        )
        if m.updated_at is not None
        else None
    )
    for key, problem in own_field_problems(fields, ext, upd, list(m.fields)):
        raise ctx.error(problem, (*loc, *key))
    try:
        explode = compile_path(m.path) if m.path else None
        flt = compile_expr(m.filter) if m.filter else None
    except (PathSyntaxError, ExprError) as e:
        raise ctx.error(str(e), (*loc, "filter" if m.filter else "path")) from e
    for i, rule in enumerate(m.rules):
        if rule.field not in allowed:
            raise ctx.error(
                f"rule on unknown column {rule.field!r}", (*loc, "rules", i), rule.field
            )
    children = [_compile_entity(c, ctx, (*loc, "children", i), m) for i, c in enumerate(m.children)]
    return CompiledEntity(
        m.entity, explode, flt, fields, ext, upd, list(m.rules), children, m.path, m.filter
    )


@dataclass
class CompiledMapping:
    name: str
    version: str
    file: str
    spec: MappingFile
    root: CompiledEntity

    @property
    def entities(self) -> list[str]:
        out: list[str] = []

        def walk(e: CompiledEntity) -> None:
            out.append(e.entity)
            for c in e.children:
                walk(c)

        walk(self.root)
        return out

    def rules(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = defaultdict(list)

        def walk(e: CompiledEntity) -> None:
            out[e.entity].extend(e.rules)
            for c in e.children:
                walk(c)

        walk(self.root)
        return dict(out)

    def apply(
        self, records: Sequence[Any], delivery: Mapping[str, Any] | None = None
    ) -> MappedBatch:
        """Map a batch; `records[i]` errors are reported under index `i`; `delivery`
        is what `$delivery.` paths read (`transforms/delivery.py`)."""
        with delivering(delivery):
            return self._apply(records)

    def _apply(self, records: Sequence[Any]) -> MappedBatch:
        errors: dict[int, list[Reason]] = defaultdict(list)
        tables: dict[str, list[pa.Table]] = {}
        unread: list[int] = []  # records the root path read no item from
        if self.root.explode is None:
            items: list[Item] = [(rec, (), i, i, -1) for i, rec in enumerate(records)]
        else:  # root `path`: each array item is a row; the record is its `^` parent
            items = []
            explode = self.root.explode
            for i, rec in enumerate(records):
                arr = explode(rec, ())
                arr = [] if arr is None else arr if isinstance(arr, list) else [arr]
                items.extend((x, (rec,), i, j, -1) for j, x in enumerate(arr))
                if not arr:
                    unread.append(i)
        filtered = apply_entity(self.root, items, None, tables, errors)
        out = collapse_all(self.root, {k: concat(v, k) for k, v in tables.items()}, errors)
        return MappedBatch(out, dict(errors), len(records), filtered, unread)

    def _columnar_plan(self) -> tuple[Any, list[str]]:
        """The mapping compiled for columns (once), with what runs per value in it."""
        plan = self.__dict__.get("_plan")
        if plan is None:
            from transforms.columnar.engine import compile_entity

            per_value: list[str] = []
            plan = (compile_entity(self.root, per_value), per_value)
            self.__dict__["_plan"] = plan
        return plan  # type: ignore[no-any-return]

    @property
    def columnar(self) -> bool:
        """True when every path, transform and expression of the mapping is vectorised."""
        return not self._columnar_plan()[1]

    @property
    def columnar_parts(self) -> list[str]:
        """Each part that runs per value on the columnar path, naming file, line, field."""
        return list(self._columnar_plan()[1])

    @property
    def columnar_reason(self) -> str:
        """Why the mapping is not fully columnar ("" when it is): the per-value parts."""
        return "; ".join(self._columnar_plan()[1])

    def apply_table(
        self, records: pa.Table, delivery: Mapping[str, Any] | None = None
    ) -> MappedBatch:
        """Map a batch given as a table of records: the same tables and reasons as
        `apply(records.to_pylist(), delivery)`, column-wise (parts listed by
        `columnar_reason` run per value inside it)."""
        from transforms.columnar.engine import apply_table

        with delivering(delivery):
            mapped = apply_table(self._columnar_plan()[0], records)
        collapse_all(self.root, mapped.tables, mapped.errors)
        return mapped


def compile_mapping(
    path: Path, codes: dict[str, CodeList], display: str | None = None
) -> CompiledMapping:
    """Read, validate and compile one mapping file (raises `MappingError`)."""
    file = display or str(path)
    data, lines = load_yaml(path)
    ctx = _Ctx(file, lines, codes)
    if not isinstance(data, dict):
        raise MappingError("a mapping file is a YAML mapping (key: value)", file=file, line=1)
    try:
        spec = MappingFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(
            x
            for x in err["loc"]
            if not (  # pydantic's names of union members are not keys of the file
                isinstance(x, str) and (x in {"FieldSpec", "str"} or x.startswith("function-"))
            )
        )
        raise MappingError(
            err["msg"].removeprefix("Value error, "),
            file=file,
            line=line_of(lines, loc),
            column=col_of(lines, loc),
            field=".".join(map(str, loc)) or None,
        ) from e
    ctx.formats = dict(spec.formats)
    root = _compile_entity(spec, ctx, (), None)
    return CompiledMapping(spec.mapping, spec.version, file, spec, root)
