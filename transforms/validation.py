"""Validation of canonical frames with great-expectations (DESIGN.md §1).

A suite per canonical entity is built from the model (natural key not null, vocabularies,
non-negative quantities and money, ISO currency codes), plus the optional `rules:` of the
mapping. Results come back per row (`unexpected_index_list`), so failing rows can be
quarantined with every rule they broke while the others load.

great-expectations is imported lazily: it costs seconds and must never run at DAG parse.
`omshub mapping test` judges the same checks without it (`checker="fast"`, see
`transforms.fastcheck`); the pipeline always asks GX.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from oms.entities import REGISTRY
from oms.enums import ENUM_COLUMNS
from oms.types import normalize_decimal
from transforms.compiler import META, RECORD, Reason, natural_key
from transforms.spec import Rule

if TYPE_CHECKING:
    import pandas as pd

#: from the entity registry (oms.entities): columns that must not be negative / missing
NON_NEGATIVE = {n: s.non_negative for n, s in REGISTRY.items() if s.non_negative}
REQUIRED = {n: s.required for n, s in REGISTRY.items() if s.required}
CURRENCY_COLUMNS = ("currency",)
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@dataclass(frozen=True)
class Check:
    """One expectation, in a form independent of the GX version."""

    column: str
    kind: str  # not_null | in_set | between | regex
    arg: Any = None
    label: str = ""


def model_checks(entity: str, columns: list[str]) -> list[Check]:
    """The entity's built-in suite, restricted to the columns a mapping fills."""
    cols = set(columns)
    checks = [Check(c, "not_null", None, "natural key") for c in natural_key(entity) if c in cols]
    checks += [
        Check(c, "not_null", None, "required") for c in REQUIRED.get(entity, ()) if c in cols
    ]
    for col, allowed in ENUM_COLUMNS.get(entity, {}).items():
        if col in cols:
            checks.append(Check(col, "in_set", list(allowed), "canonical vocabulary"))
    for col in NON_NEGATIVE.get(entity, ()):
        if col in cols:
            checks.append(Check(col, "between", (0, None), "not negative"))
    for col in CURRENCY_COLUMNS:
        if col in cols:
            checks.append(Check(col, "regex", r"^[A-Z]{3}$", "ISO 4217 currency"))
    if entity == "customer" and "email" in cols:
        checks.append(Check("email", "regex", EMAIL, "email address"))
    return checks


def rule_checks(rules: list[Rule]) -> list[Check]:
    out = []
    for r in rules:
        label = r.name or "mapping rule"
        if r.not_null:
            out.append(Check(r.field, "not_null", None, label))
        elif r.in_ is not None:
            out.append(Check(r.field, "in_set", r.in_, label))
        elif r.regex is not None:
            out.append(Check(r.field, "regex", r.regex, label))
        elif r.min is not None or r.max is not None:
            out.append(Check(r.field, "between", (r.min, r.max), label))
    return out


@cache
def _gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm on stderr
    source = context.data_sources.add_pandas("omshub")
    asset = source.add_dataframe_asset("canonical")
    batch_def = asset.add_batch_definition_whole_dataframe("whole")
    return gx, batch_def


def _expectation(gx: Any, check: Check) -> Any:
    e = gx.expectations
    if check.kind == "not_null":
        return e.ExpectColumnValuesToNotBeNull(column=check.column)
    if check.kind == "in_set":
        return e.ExpectColumnValuesToBeInSet(column=check.column, value_set=check.arg)
    if check.kind == "regex":
        return e.ExpectColumnValuesToMatchRegex(column=check.column, regex=check.arg)
    lo, hi = check.arg
    return e.ExpectColumnValuesToBeBetween(column=check.column, min_value=lo, max_value=hi)


def as_written(value: Any) -> str:
    """A value in a message as a user wrote it in the payload: `-5`, `"abc"`, never a Python
    repr such as `Decimal('-5')` (a user reads JSON and YAML, not Python)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _describe(check: Check) -> str:
    if check.kind == "not_null":
        return f"{check.column} must not be empty ({check.label})"
    if check.kind == "in_set":
        return f"{check.column} must be one of {', '.join(map(str, check.arg))} ({check.label})"
    if check.kind == "regex":
        return f"{check.column} must match {check.arg} ({check.label})"
    lo, hi = check.arg
    rng = f">= {lo}" if hi is None else f"<= {hi}" if lo is None else f"between {lo} and {hi}"
    return f"{check.column} must be {rng} ({check.label})"


def _for_gx(frame: pd.DataFrame, checks: list[Check]) -> pd.DataFrame:
    """GX compares numbers as floats: hand it float copies of decimal columns."""
    import pandas as pd

    cols = sorted({c.column for c in checks})
    out = frame[cols].copy()
    for c in cols:
        if any(isinstance(v, Decimal) for v in out[c].head(50)):
            out[c] = pd.to_numeric(out[c].map(lambda v: None if v is None else float(v)))
    return out.reset_index(drop=True)


def _index(i: Any) -> int:
    if isinstance(i, int):
        return i
    if isinstance(i, dict):
        return int(next(iter(i.values())))
    return int(i)


def _key(config: Any) -> tuple[Any, ...]:
    """What tells one expectation of a suite from another (its type and arguments)."""
    kw = config.kwargs
    args = ("column", "value_set", "regex", "min_value", "max_value")
    return (config.type, *(repr(kw.get(a)) for a in args))


def _run_suite(
    entity: str, checks: list[Check], data: pd.DataFrame
) -> list[tuple[Check, list[int]]]:
    """Run the GX suite once; the failing positions of `data` per failed check.

    GX does not return results in the order the expectations were added (they come
    grouped by column), so each result finds its check by type and arguments."""
    gx, batch_def = _gx()
    suite = gx.ExpectationSuite(name=f"omshub.{entity}")
    by_key: dict[tuple[Any, ...], list[Check]] = defaultdict(list)
    for check in checks:
        expectation = _expectation(gx, check)
        suite.add_expectation(expectation)
        by_key[_key(expectation.configuration)].append(check)
    batch = batch_def.get_batch(batch_parameters={"dataframe": data})
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    out = []
    for res in result.results:
        check = by_key[_key(res.expectation_config)].pop(0)
        if res.exception_info and res.exception_info.get("raised_exception"):
            msg = res.exception_info.get("exception_message")
            raise RuntimeError(f"validation of {entity}.{check.column} failed to run: {msg}")
        if not res.success:
            rows = res.result.get("unexpected_index_list") or []
            out.append((check, [_index(i) for i in rows]))
    order = {id(c): i for i, c in enumerate(checks)}
    return sorted(out, key=lambda pair: order[id(pair[0])])


def validate(
    entity: str,
    data: pa.Table | pd.DataFrame,
    rules: list[Rule] | None = None,
    where: str = "",
    checker: Literal["gx", "fast"] = "gx",
) -> dict[int, list[Reason]]:
    """Run the suite on a mapped table (or, while callers move, an object frame).

    Returns reasons keyed by source record (`_record`). `checker="fast"` gives a table
    GX's verdicts without importing GX (`transforms.fastcheck`): for `mapping test`.
    """
    table = isinstance(data, pa.Table)
    columns = [c for c in (data.column_names if table else data.columns) if c not in META]
    checks = model_checks(entity, columns) + rule_checks(rules or [])
    checks = [c for c in checks if c.column in columns]
    if not len(data) or not checks:
        return {}
    out: dict[int, list[Reason]] = defaultdict(list)

    def add(check: Check, row: int, value: Any, record: int) -> None:
        value = normalize_decimal(value) if isinstance(value, Decimal) else value
        text = f"{where}{entity}.{_describe(check)}; got {as_written(value)}"
        out[record].append(Reason(entity, check.column, f"expect {check.kind}", text))

    if not isinstance(data, pa.Table):
        records = data[RECORD].tolist()
        for check, rows in _run_suite(entity, checks, _for_gx(data, checks)):
            for i in rows:
                add(check, i, data.iloc[i][check.column], int(records[i]))
        return dict(out)
    from transforms.fastcheck import judge_fast
    from transforms.judged import judge

    recs = data.column(RECORD).to_numpy()
    verdicts = (
        judge_fast(entity, checks, data)
        if checker == "fast"
        else judge(entity, checks, data, _run_suite)
    )
    for check, rows, value in verdicts:
        for i in rows:
            add(check, i, value(i), int(recs[i]))
    return dict(out)
