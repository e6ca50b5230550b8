"""Named transforms a mapping may call, by name, from `transforms:` lists and `expr:`.

Each is a small pure function: value in, value out, no I/O. `None` passes through the
single-value transforms untouched, so optional source fields need no special casing.
Third parties add functions through the `omshub.transforms` entry point group (a callable
registered under its entry point name).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

Fn = Callable[..., Any]


@dataclass(frozen=True)
class TransformFn:
    name: str
    fn: Fn
    #: False: called even when the value is None (default, coalesce, concat)
    null_passthrough: bool = True
    doc: str = ""
    #: the Arrow form: a callable, or "module:attr" (resolved on first columnar use, so
    #: compiling a mapping never imports pyarrow.compute); None: runs per value only
    vectorised: Fn | str | None = None

    def vector(self) -> Fn | None:
        """The vectorised companion (`transforms.columnar.funcs` for built-ins), if any."""
        v = self.vectorised
        if v is None or callable(v):
            return v
        module, _, attr = v.partition(":")
        return getattr(import_module(module), attr)  # type: ignore[no-any-return]


_REGISTRY: dict[str, TransformFn] = {}
V = "transforms.columnar.funcs:"  # where the built-ins' Arrow forms live


def transform(
    name: str, *, null_passthrough: bool = True, vectorised: Fn | str | None = None
) -> Callable[[Fn], Fn]:
    """Register `fn` under `name`; `vectorised` is its Arrow form (see `TransformFn`)."""

    def register(fn: Fn) -> Fn:
        doc = (fn.__doc__ or "").strip()
        _REGISTRY[name] = TransformFn(name, fn, null_passthrough, doc, vectorised)
        return fn

    return register


@cache
def registry() -> dict[str, TransformFn]:
    """Built-ins plus entry-point plugins (loaded once per process)."""
    table = dict(_REGISTRY)
    for ep in entry_points(group="omshub.transforms"):
        fn = ep.load()
        vec = getattr(fn, "vectorised", None)  # a plugin may attach its Arrow form
        table[ep.name] = TransformFn(ep.name, fn, True, (fn.__doc__ or "").strip(), vec)
    return table


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as e:
        raise ValueError(f"{value!r} is not a number") from e


@transform("strip", vectorised=V + "strip")
def strip(value: Any, chars: str | None = None) -> Any:
    """Remove surrounding whitespace (or the given characters); empty becomes null."""
    out = str(value).strip(chars)
    return out or None


@transform("lstrip", vectorised=V + "lstrip")
def lstrip(value: Any, chars: str | None = None) -> Any:
    """Remove leading characters, e.g. `lstrip: "0"` turns SAP's 0000045001 into 45001."""
    out = str(value).lstrip(chars)
    return out or None


@transform("upper", vectorised=V + "upper")
def upper(value: Any) -> str:
    """Upper-case text."""
    return str(value).upper()


@transform("lower", vectorised=V + "lower")
def lower(value: Any) -> str:
    """Lower-case text (emails, codes)."""
    return str(value).lower()


@transform("title", vectorised=V + "title")
def title(value: Any) -> str:
    """Title Case text."""
    return str(value).title()


@transform("replace", vectorised=V + "replace")
def replace(value: Any, old: str, new: str = "") -> str:
    """Replace every `old` with `new`."""
    return str(value).replace(old, new)


@transform("split", vectorised=V + "split")
def split(value: Any, sep: str, index: int = 0) -> Any:
    """Part `index` of the text split on `sep` (null when there is no such part)."""
    parts = str(value).split(sep)
    return parts[index] if -len(parts) <= index < len(parts) else None


@transform("substring", vectorised=V + "substring")
def substring(value: Any, start: int, end: int | None = None) -> str:
    """Characters `start` to `end` (Python slice semantics)."""
    return str(value)[start:end]


@transform("regex", vectorised=V + "regex")
def regex(value: Any, pattern: str, group: int = 1) -> Any:
    """The `group` of the first match of `pattern`, or null."""
    m = re.search(pattern, str(value))
    return m.group(group) if m else None


@transform("prefix", vectorised=V + "prefix")
def prefix(value: Any, text: str) -> str:
    """Prepend `text`."""
    return f"{text}{value}"


@transform("suffix", vectorised=V + "suffix")
def suffix(value: Any, text: str) -> str:
    """Append `text`."""
    return f"{value}{text}"


@transform("zfill", vectorised=V + "zfill")
def zfill(value: Any, width: int) -> str:
    """Left-pad with zeros to `width`."""
    return str(value).zfill(width)


@transform("str", vectorised=V + "to_str")
def to_str(value: Any) -> str:
    """The value as text (numbers without exponent)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


@transform("default", null_passthrough=False, vectorised=V + "default")
def default(value: Any, fallback: Any) -> Any:
    """`fallback` when the value is null or empty text."""
    return fallback if value is None or value == "" else value


@transform("null_if", null_passthrough=False, vectorised=V + "null_if")
def null_if(value: Any, *sentinels: Any) -> Any:
    """Null when the value equals one of `sentinels` (e.g. "", "N/A", "0000-00-00")."""
    return None if value in sentinels else value


@transform("coalesce", null_passthrough=False, vectorised=V + "coalesce")
def coalesce(*values: Any) -> Any:
    """The first value that is not null or empty."""
    for v in values:
        if v is not None and v != "":
            return v
    return None


@transform("concat", null_passthrough=False, vectorised=V + "concat")
def concat(*values: Any) -> Any:
    """Join the non-null values as text; null when all are null."""
    parts = [str(v) for v in values if v is not None]
    return "".join(parts) if parts else None


@transform("join", null_passthrough=False, vectorised=V + "join")
def join(sep: str, *values: Any) -> Any:
    """Join the non-empty values with `sep`; null when none."""
    parts = [str(v) for v in values if v not in (None, "")]
    return sep.join(parts) if parts else None


@transform("multiply", vectorised=V + "multiply")
def multiply(value: Any, factor: Any) -> Decimal:
    """Exact decimal product."""
    return _dec(value) * _dec(factor)


@transform("divide", vectorised=V + "divide")
def divide(value: Any, divisor: Any) -> Decimal:
    """Exact decimal quotient, e.g. `divide: 100` for amounts in minor units (cents)."""
    return _dec(value) / _dec(divisor)


@transform("cents", vectorised=V + "cents")
def cents(value: Any) -> Decimal:
    """Minor units (Square/Stripe `amount`) to a decimal amount: 1999 -> 19.99."""
    return _dec(value).scaleb(-2)


@transform("negate", vectorised=V + "negate")
def negate(value: Any) -> Decimal:
    """Flip the sign (refund lines sent as negative quantities)."""
    return -_dec(value)


@transform("abs", vectorised=V + "absolute")
def absolute(value: Any) -> Decimal:
    """Absolute value."""
    return abs(_dec(value))


@transform("first", null_passthrough=True, vectorised=V + "first")
def first(value: Any) -> Any:
    """The first item of a list (XML elements that may repeat), else the value itself."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


@transform("count", null_passthrough=False, vectorised=V + "count")
def count(value: Any) -> int:
    """Number of items of a list (0 for null)."""
    if value is None:
        return 0
    return len(value) if isinstance(value, list) else 1


@transform("equals", null_passthrough=False, vectorised=V + "equals")
def equals(value: Any, other: Any) -> bool:
    """True when the value equals `other`."""
    return bool(value == other)


@transform("if_else", null_passthrough=False, vectorised=V + "if_else")
def if_else(condition: Any, then: Any, otherwise: Any = None) -> Any:
    """`then` when the condition is truthy, else `otherwise` (expression form only)."""
    return then if condition else otherwise


# --- X12 dates (EDI mappings) ---------------------------------------------------------------

#: a 2-digit X12 year lands within this many years before (or less after) today's year
X12_WINDOW_PAST = 50


def x12_year(yy: int, today: int | None = None) -> int:
    """The 4-digit year of a 2-digit one by a sliding window: the year of the century
    that puts it in [today - 50, today + 49]. X12 before 004010 (and ISA09 always) sends
    YYMMDD; a fixed pivot would drift wrong as the years pass, the window does not."""
    import datetime as dt

    now = today if today is not None else dt.date.today().year
    low = now - X12_WINDOW_PAST
    year = low - low % 100 + yy
    return year if year >= low else year + 100


@transform("x12_date", vectorised=V + "x12_date")
def x12_date(value: Any) -> Any:
    """An X12 date (DT element) as CCYYMMDD: 8 digits pass as they are, 6 digits (YYMMDD,
    pre-004010 files) get their century by a sliding window (`x12_year`). Anything else
    passes unchanged, so the date format that follows reports it with its value."""
    text = str(value).strip()
    if len(text) == 6 and text.isdigit():
        return f"{x12_year(int(text[:2]))}{text[2:]}"
    return text


# the list aggregates (sum, min, max) live with the row aggregation; importing the module
# registers them
from transforms import aggregate as _aggregate  # noqa: E402, F401
