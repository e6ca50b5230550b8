"""Compile-time type checks of a mapping: transform arguments and declared field types.

Both mistakes used to pass `mapping check` and surface per record at run time (`zfill:
abc` failed every value; `type: int` on an email column quarantined every row). They are
mapping errors: caught once, when the mapping compiles, at the YAML line that is wrong.
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any, Union, get_args, get_origin, get_type_hints

from transforms.functions import Fn

#: a declared `type:` that may feed a column of another canonical type (the value is
#: converted again to the column's type when it is stored)
FITS: dict[str, set[str]] = {
    "string": {"string"},
    "int": {"int", "decimal"},
    "decimal": {"decimal"},
    "bool": {"bool"},
    "datetime": {"datetime", "date"},
    "date": {"date"},
}

_SCALARS: dict[Any, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    Decimal: (int, float, Decimal),
    str: (str, int, float, Decimal),  # YAML reads `prefix: 0` as a number: it is text here
    bool: (bool,),
}


def type_misfit(declared: str, column_type: str) -> str | None:
    """Why a field's `type:` cannot fill a column of `column_type` (None when it can)."""
    if column_type in FITS.get(declared, {declared}):
        return None
    return f"`type: {declared}` does not fit this {column_type} column (leave `type` out: the column's type is used)"


def _fits(value: Any, hint: Any) -> bool:
    if hint is Any or hint is inspect.Parameter.empty:
        return True
    if get_origin(hint) is Union or type(hint).__name__ == "UnionType":
        return any(_fits(value, h) for h in get_args(hint))
    if hint is type(None):
        return value is None
    allowed = _SCALARS.get(hint)
    if allowed is None:
        return True  # a type this check does not know: the transform judges it
    if isinstance(value, bool) and hint is not bool:
        return False
    return isinstance(value, allowed)


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def transform_args_error(fn: Fn, args: list[Any]) -> str | None:
    """Why `args` do not fit `fn`'s annotated parameters after the value (None if they do)."""
    try:
        hints = get_type_hints(fn)
        bound = inspect.signature(fn).bind("value", *args)
    except (TypeError, NameError):
        return None  # unannotated (a plugin) or arity: the caller reports arity
    params = inspect.signature(fn).parameters
    for i, (name, value) in enumerate(bound.arguments.items()):
        if i == 0:
            continue
        hint = hints.get(name, Any)
        values = value if params[name].kind is inspect.Parameter.VAR_POSITIONAL else (value,)
        for v in values:
            if not _fits(v, hint):
                return f"argument {name!r} must be {_name(hint)}, got {v!r}"
    return None
