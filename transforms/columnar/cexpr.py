"""Expressions (`transforms/expr.py`) compiled to column expressions.

Same grammar, same values: each node evaluates over a whole level and returns its column
plus the rows where it raised (first error of a row wins, and a branch that Python would
not evaluate for a row never reports an error for it: `a if c else b`, `and`, `or`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.columnar.funcs import decimal_divide
from transforms.columnar.level import Level, PathEval
from transforms.columnar.values import (
    CAUGHT,
    Col,
    Errs,
    Lit,
    NotVectorised,
    VResult,
    arrow,
    is_text,
    py,
    run_op,
)
from transforms.columnar.vcasts import as_decimal
from transforms.expr import _ARITH, _CMP, ExprError, _compare, _num, _path_text
from transforms.functions import registry
from transforms.paths import compile_path

Out = tuple[Col | Lit, Errs]
Node = Callable[[Level], Out]


class Compiled:
    """A compiled expression and the parts of it that run per value (for `columnar`)."""

    def __init__(self, text: str) -> None:
        self.per_value: list[str] = []
        tree = ast.parse(text.strip(), mode="eval")
        self.node = self._compile(tree.body)

    def __call__(self, level: Level) -> Out:
        return self.node(level)

    def _compile(self, node: ast.expr) -> Node:
        if isinstance(node, ast.Constant):
            v: Any = Decimal(str(node.value)) if isinstance(node.value, float) else node.value
            return lambda lv: (Lit(v), {})
        if isinstance(node, ast.Name | ast.Attribute | ast.Subscript):
            return self._path(_path_text(node))
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            if node.func.id == "at":
                arg = node.args[0]
                assert isinstance(arg, ast.Constant)
                return self._path(str(arg.value))
            return self._call(node.func.id, [self._compile(a) for a in node.args])
        if isinstance(node, ast.BinOp):
            return self._arith(type(node.op), self._compile(node.left), self._compile(node.right))
        if isinstance(node, ast.UnaryOp):
            return self._unary(node.op, self._compile(node.operand))
        if isinstance(node, ast.Compare):
            cmp = type(node.ops[0])
            return self._cmp(cmp, self._compile(node.left), self._compile(node.comparators[0]))
        if isinstance(node, ast.BoolOp):
            return self._boolop(
                isinstance(node.op, ast.And), [self._compile(v) for v in node.values]
            )
        if isinstance(node, ast.IfExp):
            parts = (self._compile(node.test), self._compile(node.body), self._compile(node.orelse))
            return self._ifexp(*parts)
        raise ExprError(f"unsupported construct {type(node).__name__}")

    def _path(self, text: str) -> Node:
        p = PathEval(text, compile_path(text))
        if not p.vectorised:
            self.per_value.append(f"path {text!r}")
        return lambda lv: (p(lv), {})

    def _call(self, name: str, args: list[Node]) -> Node:
        fn = registry()[name]
        vector = fn.vector()
        if vector is None:
            self.per_value.append(f"transform {name!r} has no vectorised form")

        def call(lv: Level) -> Out:
            vals, errs = _eval_all(args, lv)
            out, own = run_op(vector, fn.fn, vals, lv.n, fn.null_passthrough)
            return out, _merge(errs, own)

        return call

    def _arith(self, op: type[ast.operator], left: Node, right: Node) -> Node:
        f = _ARITH[op]

        def scalar(a: Any, b: Any) -> Any:
            return None if a is None or b is None else f(_num(a), _num(b))

        def vector(a: pa.Array, b: Any) -> VResult:
            da, sa = as_decimal(a, commas=False)
            if isinstance(b, pa.Array):
                db, sb = as_decimal(b, commas=False)
            else:
                if isinstance(b, bool) or not isinstance(b, int | Decimal) or b is None:
                    raise NotVectorised
                db, sb = pa.scalar(Decimal(b)), None
            if op is ast.Div:
                zero = pc.fill_null(pc.equal(db, pa.scalar(Decimal(0))), False)
                if pc.any(zero).as_py() if isinstance(zero, pa.Array) else zero.as_py():
                    raise NotVectorised  # Python names the error per value
                out = decimal_divide(da, db)
            else:
                kernel = {ast.Add: pc.add_checked, ast.Sub: pc.subtract_checked}
                try:
                    out = kernel.get(op, pc.multiply_checked)(da, db)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                    raise NotVectorised from e
            sus = sa if sb is None else sb if sa is None else pc.or_(sa, sb)
            return out, sus

        def arith(lv: Level) -> Out:
            (a, b), errs = _eval_all([left, right], lv)
            if isinstance(a, Lit) and isinstance(b, pa.Array | list):
                out, own = run_op(None, scalar, [a, b], lv.n, False)
            else:
                out, own = run_op(vector, scalar, [a, b], lv.n, False)
            return out, _merge(errs, own)

        return arith

    def _unary(self, op: ast.unaryop, inner: Node) -> Node:
        if isinstance(op, ast.Not):

            def not_(lv: Level) -> Out:
                v, errs = inner(lv)
                return pc.invert(truthy(v, lv.n)), errs

            return not_

        def neg(lv: Level) -> Out:
            v, errs = inner(lv)

            def vector(a: pa.Array) -> VResult:
                d, sus = as_decimal(a, commas=False)
                return pc.negate_checked(d), sus

            out, own = run_op(vector, lambda x: -_num(x), [v], lv.n, True)
            return out, _merge(errs, own)

        return neg

    def _cmp(self, op: type[ast.cmpop], left: Node, right: Node) -> Node:
        f = _CMP[op]
        kernel = {
            ast.Eq: pc.equal,
            ast.NotEq: pc.not_equal,
            ast.Lt: pc.less,
            ast.LtE: pc.less_equal,
            ast.Gt: pc.greater,
            ast.GtE: pc.greater_equal,
        }[op]

        def vector(a: pa.Array, b: Any) -> VResult:
            if not is_text(a.type):
                raise NotVectorised
            if isinstance(b, pa.Array):
                if not (is_text(b.type) or pa.types.is_null(b.type)):
                    raise NotVectorised
                bnull = pc.is_null(b)
            elif isinstance(b, str):
                bnull = pa.scalar(False)
            elif b is None:
                b, bnull = pa.nulls(len(a), pa.string()), pa.scalar(True)
            else:
                raise NotVectorised
            res = pc.fill_null(kernel(a, b), op is ast.NotEq)  # None != 'x' is True
            if op in (ast.Eq, ast.NotEq):  # None == None is True in Python
                both = pc.and_(pc.is_null(a), bnull)
                res = pc.or_(res, both) if op is ast.Eq else pc.and_(res, pc.invert(both))
            return res, None

        def compare(lv: Level) -> Out:
            (a, b), errs = _eval_all([left, right], lv)
            if isinstance(a, Lit):
                a = _broadcast(a, lv.n)
            out, own = run_op(vector, lambda x, y: _compare(f, x, y), [a, b], lv.n, False)
            return out, _merge(errs, own)

        return compare

    def _boolop(self, is_and: bool, parts: list[Node]) -> Node:
        def boolop(lv: Level) -> Out:
            n = lv.n
            result = np.full(n, is_and)
            decided = np.zeros(n, dtype=bool)
            errs: Errs = {}
            for part in parts:
                v, e = part(lv)
                for r, m in e.items():
                    if not decided[r] and r not in errs:
                        errs[r] = m
                t = truthy(v, n).to_numpy(zero_copy_only=False)
                live = ~decided & ~_rows(errs, n)
                hit = live & (t if not is_and else ~t)
                result[hit] = not is_and
                decided |= hit
            return pa.array(result), errs

        return boolop

    def _ifexp(self, test: Node, body: Node, orelse: Node) -> Node:
        def ifexp(lv: Level) -> Out:
            n = lv.n
            c, errs = test(lv)
            cond = truthy(c, n).to_numpy(zero_copy_only=False)
            failed = _rows(errs, n)
            b, eb = body(lv)
            o, eo = orelse(lv)
            errs = dict(errs)
            for r, m in eb.items():
                if cond[r] and not failed[r]:
                    errs.setdefault(r, m)
            for r, m in eo.items():
                if not cond[r] and not failed[r]:
                    errs.setdefault(r, m)
            return _choose(cond, b, o, n), errs

        return ifexp


def _eval_all(nodes: list[Node], lv: Level) -> tuple[list[Col | Lit], Errs]:
    vals: list[Col | Lit] = []
    errs: Errs = {}
    for node in nodes:
        v, e = node(lv)
        vals.append(v)
        errs = _merge(errs, e)
    return vals, errs


def _merge(a: Errs, b: Errs) -> Errs:
    if not b:
        return a
    out = dict(a)
    for r, m in b.items():
        out.setdefault(r, m)
    return out


def _rows(errs: Errs, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    if errs:
        mask[list(errs)] = True
    return mask


def _broadcast(v: Lit, n: int) -> Col:
    if v.value is None:
        return pa.nulls(n)
    a = arrow(v, n)
    return a if a is not None else [v.value] * n


def _choose(cond: np.ndarray, b: Col | Lit, o: Col | Lit, n: int) -> Col:
    """`b` where cond else `o`: Arrow when both sides share a type (or one is None)."""
    ab = None if isinstance(b, Lit) and b.value is None else _as_array(b, n)
    ao = None if isinstance(o, Lit) and o.value is None else _as_array(o, n)
    mask = pa.array(cond)
    if ab is not None and ao is not None and ab.type == ao.type:
        return pc.if_else(mask, ab, ao)
    if ab is not None and ao is None and not isinstance(o, list):
        return pc.if_else(mask, ab, pa.nulls(n, ab.type))
    if ao is not None and ab is None and not isinstance(b, list):
        return pc.if_else(mask, pa.nulls(n, ao.type), ao)
    pb, po = py(b, n), py(o, n)
    return [pb[i] if cond[i] else po[i] for i in range(n)]


def _as_array(v: Col | Lit, n: int) -> pa.Array | None:
    if isinstance(v, list):
        return None
    return arrow(v, n)


def truthy(v: Col | Lit, n: int) -> pa.Array:
    """Python truthiness of every value, as a boolean array without nulls."""
    if isinstance(v, Lit):
        return pa.array(np.full(n, bool(v.value)))
    if isinstance(v, pa.Array):
        t = v.type
        if pa.types.is_boolean(t):
            return pc.fill_null(v, False)
        if is_text(t):
            return pc.fill_null(pc.greater(pc.utf8_length(v), 0), False)
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            zero = pc.cast(pa.scalar(0), t)
            return pc.fill_null(pc.not_equal(v, zero), False)
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return pc.fill_null(pc.greater(pc.list_value_length(v), 0), False)
        if pa.types.is_null(t):
            return pa.array(np.zeros(n, dtype=bool))
    out = []
    for x in py(v, n):
        try:
            out.append(bool(x))
        except CAUGHT:
            out.append(False)
    return pa.array(out, pa.bool_())
