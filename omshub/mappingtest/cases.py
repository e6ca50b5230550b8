"""Run the `tests:` cases of a mapping file (dbt-style unit tests of a mapping).

A case's expected rows are partial: only the fields it names are compared, with the
value as written in YAML (`129.50` equals the decimal `129.5`, a date or time equals the
same instant written differently). Rejections are strict both ways: every expected one
must happen, and a record rejected for a reason the case does not list fails the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from omshub.mappingtest.output import Checker, canonical_output, map_sample, read_bytes
from transforms.compiler import CompiledMapping
from transforms.spec_cases import ExpectedReason, MappingCase


@dataclass
class CaseResult:
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "problems": self.problems}


def _instant(v: Any) -> dt.datetime | dt.date | None:
    if isinstance(v, dt.datetime | dt.date):
        return v
    try:
        return dt.datetime.fromisoformat(str(v))
    except ValueError:
        return None


def same(expected: Any, actual: Any) -> bool:
    """Whether a value written in a case means the actual (text) value."""
    if expected is None or actual is None or isinstance(expected, bool):
        return expected == actual
    if str(expected) == str(actual):
        return True
    try:
        return Decimal(str(expected)) == Decimal(str(actual))
    except InvalidOperation:
        pass
    a, b = _instant(expected), _instant(actual)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return (a.tzinfo is None) == (b.tzinfo is None) and a == b
    return a is not None and a == b


def _rows(entity: str, want: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    if len(want) != len(got):
        return [f"{entity}: expected {len(want)} row(s), got {len(got)}"]
    out = []
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        for name, value in w.items():
            if name not in g:
                out.append(f"{entity} row {i}: no field {name!r}")
            elif not same(value, g[name]):
                out.append(f"{entity} row {i}: {name} expected {value!r}, got {g[name]!r}")
    return out


def _matches(want: ExpectedReason, record: int, reason: dict[str, str]) -> bool:
    return (
        (want.record is None or want.record == record)
        and (want.entity is None or want.entity == reason["entity"])
        and (want.field is None or want.field == reason["field"])
        and (want.message is None or want.message in reason["message"])
    )


def _rejections(want: list[ExpectedReason], got: list[dict[str, Any]]) -> list[str]:
    actual = [(r["record"], reason) for r in got for reason in r["reasons"]]
    out = []
    for w in want:
        if not any(_matches(w, rec, reason) for rec, reason in actual):
            shown = w.model_dump(exclude_none=True)
            out.append(f"expected a rejection {shown}, none happened")
    for rec, reason in actual:
        if not any(_matches(w, rec, reason) for w in want):
            out.append(f"record {rec} rejected: {reason['message']}")
    return out


def _records(mapping: CompiledMapping, case: MappingCase) -> list[Any]:
    if case.given is not None:
        return list(case.given)
    name = Path(mapping.spec.sample or "case.json")
    return read_bytes(mapping, (case.input or "").encode(), name)


def run_case(mapping: CompiledMapping, case: MappingCase, checker: Checker) -> CaseResult:
    """One case's verdict: its problems, each a line a reader understands."""
    result = CaseResult(case.name)
    try:
        output = canonical_output(map_sample(mapping, _records(mapping, case), checker))
    except (ValueError, OSError) as e:
        result.problems.append(f"could not run: {e}")
        return result
    for entity, rows in case.expect.items():
        result.problems += _rows(entity, rows, output["entities"].get(entity, []))
    result.problems += _rejections(case.rejected, output["rejected"])
    return result


def run_cases(mapping: CompiledMapping, checker: Checker = "fast") -> list[CaseResult]:
    return [run_case(mapping, case, checker) for case in mapping.spec.tests]
