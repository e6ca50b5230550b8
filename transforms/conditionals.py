"""Per-record semantics of `match:`, `when:`, `coalesce:` and `pick:` (mapping language v2).

Shared by both engines where they must agree value for value: the columnar engine
(`transforms/columnar/conditionals.py`) vectorises `match`, `when` and `coalesce` and
calls `pick_values` here for lists. The rules, as documented in docs/mapping-language.md:

- `when:` is evaluated first; where it is false the source is not read (its errors are
  not reported) and the value is null, so `default:` applies;
- `match:` cases are tried in order, the first whose condition holds gives the value;
- `coalesce:` takes the first alternative that gives a value (not null, not empty text);
  an alternative that fails (a bad date) falls through to the next, and only when none
  gives a value are the alternatives' reasons reported;
- `pick:` converts each item of a list value and keeps the max, min, first or last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from transforms.expr import compile_expr
from transforms.spec_values import MatchSpec

Getter = Callable[[Any, Sequence[Any]], Any]
Step = tuple[str, Callable[[Any], Any], bool]
StepErrs = list[tuple[int, str, str]]  # (item, rule label, message)
CAUGHT = (ValueError, TypeError, ArithmeticError)


def match_getter(spec: MatchSpec) -> Getter:
    """The per-record form of a `match:` (raises `ExprError` for a bad condition)."""
    cases = [(compile_expr(text), then) for text, then in spec.conditions()]
    default = spec.default

    def get(record: Any, parents: Sequence[Any]) -> Any:
        for test, then in cases:
            if test(record, parents):
                return then
        return default

    return get


def empty(value: Any) -> bool:
    """What a coalesce chain skips (as `default:` does): null and empty text."""
    return value is None or (isinstance(value, str) and value == "")


def first_given(columns: Sequence[Sequence[Any]], n: int) -> list[Any]:
    """Per row, the first value of `columns` that is not empty (else None)."""
    out: list[Any] = [None] * n
    for i in range(n):
        for col in columns:
            if not empty(col[i]):
                out[i] = col[i]
                break
    return out


def run_steps(values: list[Any], steps: Sequence[Step], errs: StepErrs) -> list[Any]:
    """Each step over every value (in place), failures recorded by position."""
    for label, fn, on_null in steps:
        for i, v in enumerate(values):
            if v is None and not on_null:
                continue
            try:
                values[i] = fn(v)
            except CAUGHT as e:
                values[i] = None
                errs.append((i, label, str(e)))
    return values


def pick_values(
    values: Sequence[Any], steps: Sequence[Step], pick: str
) -> tuple[list[Any], StepErrs]:
    """`pick:`: every item of a list value through the steps, then one kept per value.

    A value that is not a list is one item. Failures are reported per item (position of
    the value); null items are ignored; items that cannot be compared are a reason."""
    flat: list[Any] = []
    owner: list[int] = []
    for i, v in enumerate(values):
        items = v if isinstance(v, list) else [v]
        flat.extend(items)
        owner.extend([i] * len(items))
    item_errs: StepErrs = []
    run_steps(flat, steps, item_errs)
    errs: StepErrs = [(owner[j], label, msg) for j, label, msg in item_errs]
    groups: list[list[Any]] = [[] for _ in values]
    for j, v in enumerate(flat):
        if v is not None:
            groups[owner[j]].append(v)
    out: list[Any] = []
    for i, g in enumerate(groups):
        try:
            out.append(_reduce(g, pick))
        except TypeError as e:
            out.append(None)
            errs.append((i, f"pick {pick}", f"cannot compare the items: {e}"))
    return out, errs


def _reduce(items: list[Any], pick: str) -> Any:
    if not items:
        return None
    if pick == "first":
        return items[0]
    if pick == "last":
        return items[-1]
    return max(items) if pick == "max" else min(items)
