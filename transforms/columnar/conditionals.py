"""Column forms of `match:`, `when:` and `coalesce:` (`transforms/conditionals.py`).

Each gives, for a whole level, what the per-record form gives row by row: the same values
and the same reasons (a row's first failing condition, only where Python evaluates it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.columnar.cexpr import Compiled, truthy
from transforms.columnar.level import Level
from transforms.columnar.values import Col, Errs, arrow, is_text, py
from transforms.conditionals import first_given
from transforms.spec_values import MatchSpec

MatchSource = Callable[[Level, Any], tuple[Col, Errs]]


def condition(test: Compiled, lv: Level) -> tuple[np.ndarray, Errs]:
    """Where `test` holds (False where it failed) and the failures by row."""
    v, errs = test(lv)
    hold = truthy(v, lv.n).to_numpy(zero_copy_only=False).copy()
    if errs:
        hold[list(errs)] = False
    return hold, errs


def match_source(spec: MatchSpec, per_value: list[str]) -> MatchSource:
    """The first case that holds per row (cases after it are not evaluated for it)."""
    cases = [(Compiled(text), then) for text, then in spec.conditions()]
    for test, _ in cases:
        per_value.extend(test.per_value)
    options = [then for _, then in cases] + [spec.default]
    try:
        table: pa.Array | None = pa.array(options)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        table = None

    def run(lv: Level, pcols: Any) -> tuple[Col, Errs]:
        n = lv.n
        choice = np.full(n, len(cases), dtype=np.int64)  # the default unless a case holds
        decided = np.zeros(n, dtype=bool)
        errs: Errs = {}
        for k, (test, _) in enumerate(cases):
            hold, failed = condition(test, lv)
            for r, msg in failed.items():
                if not decided[r]:
                    errs[r] = msg
                    decided[r] = True
            hit = hold & ~decided
            choice[hit] = k
            decided |= hit
        failed_rows = np.zeros(n, dtype=bool)
        failed_rows[list(errs)] = True
        if table is not None:
            return pc.take(table, pa.array(choice, mask=failed_rows)), errs
        return [None if failed_rows[i] else options[c] for i, c in enumerate(choice)], errs

    return run


def first_given_col(columns: Sequence[Col], n: int) -> Col:
    """Per row the first value that is not null or empty text (`conditionals.first_given`)."""
    arrays = [arrow(c, n) if isinstance(c, pa.Array) else None for c in columns]
    if all(a is not None for a in arrays):
        kept = [_blank_to_null(a) for a in arrays if a is not None and not pa.types.is_null(a.type)]
        if not kept:
            return pa.nulls(n)
        if all(a.type == kept[0].type for a in kept):
            return pc.coalesce(*kept)
    return first_given([py(c, n) for c in columns], n)


def _blank_to_null(a: pa.Array) -> pa.Array:
    if not is_text(a.type):
        return a
    blank = pc.fill_null(pc.equal(a, ""), False)
    return pc.if_else(blank, pa.nulls(len(a), a.type), a)


def is_null_rows(values: Col, n: int) -> np.ndarray:
    if isinstance(values, pa.Array):
        return pc.is_null(values).to_numpy(zero_copy_only=False)
    return np.array([v is None for v in py(values, n)], dtype=bool)
