"""The safe expression form of mappings: `expr: "concat(first_name, ' ', last_name)"`.

Text is parsed with `ast.parse(mode="eval")` and only a whitelisted set of node kinds is
turned into closures: calls of registered transforms, paths (`customer.email`,
`lines[0].sku`, `_parent.name` for the raw parent record, `at('SEG[QUALF=001].X')` for any path), literals, `+ - * /` on decimals,
comparisons, `and`/`or`/`not` and `a if cond else b`. Nothing is ever handed to `eval`;
anything else is a `MappingError` naming the construct.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from transforms.functions import registry
from transforms.paths import compile_path

Evaluator = Callable[[Any, Sequence[Any]], Any]
MAX_LENGTH = 1000
MAX_NODES = 200

_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_CMP: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class ExprError(ValueError):
    """Raised at compile time with a message meant for the mapping author."""


def _num(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        return v
    try:
        return Decimal(str(v).strip())
    except InvalidOperation as e:
        raise ValueError(f"{v!r} is not a number") from e


def _compare(cmp: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    """Text from a payload compared with a number compares as a number ("2" > 1)."""
    numeric = (int, Decimal)
    if isinstance(a, numeric) != isinstance(b, numeric) and None not in (a, b):
        try:
            a, b = _num(a), _num(b)
        except ValueError:
            return False
    try:
        return cmp(a, b)
    except TypeError:
        return False


def _path_text(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return "^" if node.id == "_parent" else node.id
    if isinstance(node, ast.Attribute):
        base = _path_text(node.value)
        return f"{base}.{node.attr}"
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        idx = node.slice.value
        if isinstance(idx, int) and not isinstance(idx, bool):
            return f"{_path_text(node.value)}[{idx}]"
    raise ExprError(f"unsupported construct {ast.dump(node)[:60]}")


def _compile(node: ast.expr) -> Evaluator:
    if isinstance(node, ast.Constant):
        value: Any = Decimal(str(node.value)) if isinstance(node.value, float) else node.value
        if not isinstance(value, str | int | bool | Decimal | type(None)):
            raise ExprError(f"unsupported literal {value!r}")

        def literal(r: Any, p: Sequence[Any], v: Any = value) -> Any:
            return v

        return literal
    if isinstance(node, ast.Name | ast.Attribute | ast.Subscript):
        return compile_path(_path_text(node))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExprError("only calls of named transforms with positional arguments")
        if node.func.id == "at":  # at('SEG[QUALF=001].X'): any path, selectors included
            arg = node.args[0] if len(node.args) == 1 else None
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise ExprError(
                    "at() takes one path in quotes, e.g. at('E1EDK03[IDDAT=012].DATUM')"
                )
            return compile_path(arg.value)
        fn = registry().get(node.func.id)
        if fn is None:
            raise ExprError(f"unknown function {node.func.id!r}")
        args = [_compile(a) for a in node.args]
        f, passthrough = fn.fn, fn.null_passthrough

        def call(r: Any, p: Sequence[Any]) -> Any:
            vals = [a(r, p) for a in args]
            if passthrough and vals and vals[0] is None:
                return None
            return f(*vals)

        return call
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        op, left, right = _ARITH[type(node.op)], _compile(node.left), _compile(node.right)

        def arith(r: Any, p: Sequence[Any]) -> Any:
            a, b = left(r, p), right(r, p)
            return None if a is None or b is None else op(_num(a), _num(b))

        return arith
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
        inner = _compile(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda r, p: not inner(r, p)
        return lambda r, p: None if (v := inner(r, p)) is None else -_num(v)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
        cmp = _CMP[type(node.ops[0])]
        left, right = _compile(node.left), _compile(node.comparators[0])
        return lambda r, p: _compare(cmp, left(r, p), right(r, p))
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda r, p: all(x(r, p) for x in parts)
        return lambda r, p: any(x(r, p) for x in parts)
    if isinstance(node, ast.IfExp):
        test, body, orelse = _compile(node.test), _compile(node.body), _compile(node.orelse)
        return lambda r, p: body(r, p) if test(r, p) else orelse(r, p)
    raise ExprError(f"unsupported construct {type(node).__name__}")


def compile_expr(text: str) -> Evaluator:
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"syntax error at column {e.offset}: {e.msg}") from e
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExprError(f"expression has more than {MAX_NODES} parts")
    return _compile(tree.body)
