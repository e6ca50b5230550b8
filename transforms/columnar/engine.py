"""Apply a compiled mapping to a `pyarrow.Table` of records, level by level, column-wise.

Mirrors `transforms/runtime.py` step for step (filter, fields in order, each field's
source then steps then `required`, external id, update time, children), so the reasons
of a record come out in the same order with the same text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from oms.arrow import TIMESTAMP, column_type
from transforms.arrowshape import arrow_column, concat, entity_table, python_column
from transforms.batch import MappedBatch, Reason
from transforms.columnar.cexpr import Compiled, truthy
from transforms.columnar.conditionals import (
    condition,
    first_given_col,
    is_null_rows,
    match_source,
)
from transforms.columnar.level import Level, PathEval, explode, root_level, take
from transforms.columnar.values import (
    Col,
    Errs,
    Lit,
    broadcast,
    cached,
    caching,
    null_where,
    py,
    run_op,
)
from transforms.columnar.vcasts import cast_vector, code_vector, default_vector
from transforms.conditionals import pick_values
from transforms.functions import registry
from transforms.lookups import LookupStep, lookup_vector
from transforms.runtime import MISSING, missing_message, natural_key

if TYPE_CHECKING:
    from transforms.compiler import CompiledEntity, CompiledField

Source = Callable[[Level, dict[str, Col] | None], tuple[Col, Errs]]
Sink = list[tuple[int, Reason]]  # reasons held back (a coalesce alternative's), by row


@dataclass
class VStep:
    label: str
    vector: Callable[[pa.Array], Any] | None
    scalar: Callable[[Any], Any]
    on_null: bool


@dataclass
class CField:
    name: str
    where: str
    source: Source
    steps: list[VStep]
    required: bool
    when: Compiled | None = None
    alternatives: list[CField] = field(default_factory=list)
    pick: str | None = None
    own_field: str | None = None
    missing: str = MISSING  # the reason when `required` finds no value


@dataclass
class CEntity:
    entity: str
    explode: PathEval | None
    filter: Compiled | None
    fields: list[CField]
    external_id: CField | None
    updated_at: CField | None
    children: list[CEntity] = field(default_factory=list)


def _vstep(label: str, fn: Callable[[Any], Any], on_null: bool, f: CompiledField) -> VStep:
    spec = f.spec
    kind, _, arg = label.partition(" ")
    vector: Callable[[pa.Array], Any] | None = None
    if kind == "transform":
        _tf, args = fn.__defaults__ or (None, ())  # the step lambda binds (f, args)
        vec = registry()[arg].vector()
        if vec is not None:
            vector = lambda a, v=vec, xs=tuple(args): v(a, *xs)  # noqa: E731
    elif kind == "default" and spec is not None:
        vector = default_vector(spec.default)
    elif kind == "code":
        vector = code_vector(fn.__self__)  # type: ignore[attr-defined]  # CodeList.lookup
    elif kind == "lookup" and isinstance(fn, LookupStep):
        vector = lookup_vector(fn)
    elif kind == "type":
        fmt, tz = (spec.format, spec.tz) if spec is not None else (None, None)
        vector = cast_vector(arg, fmt if f.name != "external_id" else None, tz)
    if vector is not None:  # a step is a pure function of its column: once per column
        extra = (spec.format, spec.tz, repr(spec.default)) if spec is not None else ()
        defaults = repr(getattr(fn, "__defaults__", fn))  # a LookupStep: its spec
        inner, tag = vector, (label, defaults, f.name == "external_id", *extra)
        vector = lambda a: cached(a, tag, lambda: inner(a))  # noqa: E731
    return VStep(label, vector, fn, on_null)


def _source(f: CompiledField, per_value: list[str]) -> Source:
    spec = f.spec
    assert spec is not None
    if spec.path is not None:
        assert f.getter is not None
        p = PathEval(spec.path, f.getter)
        if not p.vectorised:
            per_value.append(f"{f.where} field {f.name!r}: path {spec.path!r}")
        return lambda lv, pc_: (p(lv), {})
    if spec.expr is not None:
        ex = Compiled(spec.expr)
        per_value.extend(f"{f.where} field {f.name!r}: {x}" for x in ex.per_value)

        def expr(lv: Level, pc_: dict[str, Col] | None) -> tuple[Col, Errs]:
            v, errs = ex(lv)
            return null_where(broadcast(v, lv.n), sorted(errs), lv.n), errs

        return expr
    if f.parent_field is not None:
        name = f.parent_field
        return lambda lv, pcols: (take(pcols[name], lv.prow), {})  # type: ignore[index]
    if f.index_offset is not None:
        off = f.index_offset
        return lambda lv, pc_: (pc.add(lv.position, off), {})
    if spec.match is not None:
        return match_source(spec.match, per_value)
    const = spec.const
    return lambda lv, pc_: (broadcast(Lit(const), lv.n), {})


def compile_field(f: CompiledField, per_value: list[str]) -> CField:
    steps = [_vstep(label, fn, on_null, f) for label, fn, on_null in f.steps]
    for s in steps:
        if s.vector is None:
            per_value.append(f"{f.where} field {f.name!r}: {s.label} has no vectorised form")
    when = None
    if f.spec is not None and f.spec.when is not None:
        when = Compiled(f.spec.when)
        per_value.extend(f"{f.where} field {f.name!r}: when: {x}" for x in when.per_value)
    if f.pick is not None:
        per_value.append(f"{f.where} field {f.name!r}: pick {f.pick} of list values")
    alts = [compile_field(a, per_value) for a in f.alternatives]
    source = _source(f, per_value) if not alts else _no_source
    return CField(
        f.name,
        f.where,
        source,
        steps,
        f.required,
        when,
        alts,
        f.pick,
        f.own_field,
        missing_message(f.spec),
    )


def _no_source(lv: Level, pcols: dict[str, Col] | None) -> tuple[Col, Errs]:
    """The source of a `coalesce:` field is its alternatives (`_Run.coalesce`)."""
    return pa.nulls(lv.n), {}


def compile_entity(ce: CompiledEntity, per_value: list[str]) -> CEntity:
    exp = PathEval(ce.path, ce.explode) if ce.path and ce.explode else None
    flt = Compiled(ce.filter_text) if ce.filter_text else None
    if flt is not None:
        per_value.extend(flt.per_value)
    return CEntity(
        ce.entity,
        exp,
        flt,
        [compile_field(f, per_value) for f in ce.fields],
        compile_field(ce.external_id, per_value) if ce.external_id else None,
        compile_field(ce.updated_at, per_value) if ce.updated_at else None,
        [compile_entity(c, per_value) for c in ce.children],
    )


class _Run:
    """State of one application: reasons by source record, tables by entity."""

    def __init__(self) -> None:
        self.errors: dict[int, list[Reason]] = {}
        self.tables: dict[str, list[pa.Table]] = {}
        self.filtered = 0

    def report(
        self, lv: Level, rows: Errs, entity: str, f: CField, rule: str, sink: Sink | None = None
    ) -> None:
        if not rows:
            return
        recs = lv.record.to_numpy()
        for r in sorted(rows):
            reason = Reason(entity, f.name, rule, f"{f.where} field {f.name!r}: {rows[r]}")
            if sink is not None:
                sink.append((r, reason))
            else:
                self.errors.setdefault(int(recs[r]), []).append(reason)

    def field(
        self,
        f: CField,
        entity: str,
        lv: Level,
        pcols: dict[str, Col] | None,
        sink: Sink | None = None,
        own: dict[str, Col] | None = None,
    ) -> Col:
        """`when`, source (or `coalesce`), steps (or `pick`), `required`: as `runtime`;
        `own` holds the entity's mapped fields (`field:` in external_id/updated_at)."""
        keep = None
        if f.when is not None:
            keep, failed = condition(f.when, lv)
            self.report(lv, failed, entity, f, "when", sink)
        errs: Errs = {}
        if f.own_field is not None:
            assert own is not None
            values = own[f.own_field]
        elif f.alternatives:
            values = self.coalesce(f, entity, lv, pcols, sink, keep, own)
        else:
            values, errs = f.source(lv, pcols)
        if keep is not None:
            errs = {r: m for r, m in errs.items() if keep[r]}
            values = null_where(values, np.flatnonzero(~keep).tolist(), lv.n)
        self.report(lv, errs, entity, f, "expr", sink)
        if f.pick is not None:
            steps = [(s.label, s.scalar, s.on_null) for s in f.steps]
            values, found = pick_values(py(values, lv.n), steps, f.pick)
            for r, label, msg in found:
                self.report(lv, {r: msg}, entity, f, label, sink)
        for s in f.steps if f.pick is None else []:
            values, errs = run_op(s.vector, s.scalar, [values], lv.n, not s.on_null)
            self.report(lv, errs, entity, f, s.label, sink)
        if f.required:
            self.report(lv, _missing(values, lv.n, f.missing), entity, f, "required", sink)
        return values

    def coalesce(
        self,
        f: CField,
        entity: str,
        lv: Level,
        pcols: dict[str, Col] | None,
        sink: Sink | None,
        keep: np.ndarray | None,
        own: dict[str, Col] | None = None,
    ) -> Col:
        """The first alternative with a value; their reasons where none has one."""
        found: Sink = []
        columns = [self.field(alt, entity, lv, pcols, found, own) for alt in f.alternatives]
        values = first_given_col(columns, lv.n)
        empty = is_null_rows(values, lv.n)
        recs = lv.record.to_numpy()
        for r, reason in found:
            if empty[r] and (keep is None or keep[r]):
                if sink is not None:
                    sink.append((r, reason))
                else:
                    self.errors.setdefault(int(recs[r]), []).append(reason)
        return values

    def typed(self, f: CField, entity: str, lv: Level, values: Col, t: pa.DataType) -> pa.Array:
        if isinstance(values, pa.Array):
            arr, misfits = arrow_column(values, t)
        else:
            arr, misfits = python_column(values, t)
        self.report(lv, dict(misfits), entity, f, "column type")
        return arr

    def entity(self, ce: CEntity, lv: Level, pcols: dict[str, Col] | None) -> None:
        if ce.filter is not None:
            v, errs = ce.filter(lv)
            if errs:
                raise ValueError(next(iter(errs.values())))  # as the per-record path does
            keep = truthy(v, lv.n)
            self.filtered += lv.n - pc.sum(keep).as_py() if lv.n else 0
            lv = lv.take(pc.indices_nonzero(keep))
        cols: dict[str, Col] = {}
        arrays: dict[str, pa.Array] = {}
        for f in ce.fields:
            cols[f.name] = self.field(f, ce.entity, lv, pcols)
            t = column_type(ce.entity, f.name)
            arrays[f.name] = self.typed(f, ce.entity, lv, cols[f.name], t)
        if ce.external_id is not None:
            ext = self.field(ce.external_id, ce.entity, lv, pcols, None, cols)
            ext_arr = pa.array(py(ext, lv.n), pa.string()) if isinstance(ext, list) else ext
        else:
            ext_arr = _key_text([cols[k] for k in natural_key(ce.entity) if k in cols], lv.n)
        if ce.updated_at is not None:
            upd = self.field(ce.updated_at, ce.entity, lv, pcols, None, cols)
            upd_arr = self.typed(ce.updated_at, ce.entity, lv, upd, TIMESTAMP)
        else:
            upd_arr = pa.nulls(lv.n, TIMESTAMP)
        tbl = entity_table(ce.entity, arrays, lv.record, ext_arr, upd_arr)
        self.tables.setdefault(ce.entity, []).append(tbl)
        for child in ce.children:
            assert child.explode is not None
            self.entity(child, explode(lv, child.explode(lv)), cols)


def _missing(values: Col, n: int, msg: str = MISSING) -> Errs:
    if isinstance(values, pa.Array):
        miss = pc.is_null(values)
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            miss = pc.or_(miss, pc.fill_null(pc.equal(values, ""), False))
        return {int(i): msg for i in np.flatnonzero(miss.to_numpy(zero_copy_only=False))}
    return {i: msg for i, v in enumerate(values) if v is None or v == ""}


def _key_text(cols: list[Col], n: int) -> pa.Array:
    """The default external id: the natural key's values joined with `|` (None as "")."""
    parts = []
    for c in cols:
        if isinstance(c, pa.Array) and (
            pa.types.is_string(c.type) or pa.types.is_integer(c.type) or pa.types.is_null(c.type)
        ):
            parts.append(pc.fill_null(pc.cast(c, pa.string()), ""))
        else:
            parts.append(pa.array(["" if v is None else str(v) for v in py(c, n)], pa.string()))
    if not parts:
        return pa.array([""] * n, pa.string())
    return pc.binary_join_element_wise(*parts, "|")


def apply_table(root: CEntity, table: pa.Table) -> MappedBatch:
    """Map a batch given as a table of records (row `i` reports under index `i`)."""
    run = _Run()
    unread: list[int] = []
    with caching():
        lv = root_level(table)
        if root.explode is not None:
            lv = explode(lv, root.explode(lv))
            lv.prow = pa.array(np.full(lv.n, -1, dtype=np.int64))
            unread = _unread(lv.record, table.num_rows)
        run.entity(root, lv, None)
    tables = {k: concat(v, k) for k, v in run.tables.items()}
    return MappedBatch(tables, run.errors, table.num_rows, run.filtered, unread)


def _unread(record: pa.Array, n: int) -> list[int]:
    """The records of `n` that no exploded row came from: one mask over the row index
    column, no loop over rows (a chunk can hold a million)."""
    read = np.zeros(n, dtype=bool)
    read[record.to_numpy(zero_copy_only=False)] = True
    return np.flatnonzero(~read).tolist()  # type: ignore[no-any-return]
