"""Test one mapping: its sample against its golden file, and its `tests:` cases.

A result never raises for a wrong mapping: a mapping that does not compile, a missing
sample or golden, a sample that does not parse become `error` (exit code 2 for a
configuration problem), so `--all` and `--watch` report one bad file and go on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oms.errors import OmshubError
from omshub.config import mappings_dir
from omshub.mappings import get_mapping
from omshub.mappingtest.cases import CaseResult, run_cases
from omshub.mappingtest.compare import Difference, differences
from omshub.mappingtest.locate import Target, locate, mapping_path
from omshub.mappingtest.output import Checker, canonical_output, dumps, map_sample, read_sample


@dataclass
class Result:
    """What `omshub mapping test` found for one mapping file."""

    file: str
    name: str = ""
    target: Target | None = None
    output: dict[str, Any] | None = None
    differences: list[Difference] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    error: str | None = None  # a configuration problem: the test could not run
    missing_golden: bool = False
    updated: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Passed: no error, its golden matches (or `--update` just rewrote it), its
        cases pass."""
        golden_ok = not self.missing_golden and (self.updated or not self.differences)
        return self.error is None and golden_ok and all(c.ok for c in self.cases)

    def as_dict(self) -> dict[str, Any]:
        """The `--json` form: one object per mapping, paths relative to the project."""
        t = self.target
        return {
            "mapping": self.file,
            "name": self.name,
            "ok": self.ok,
            "error": self.error,
            "sample": shown(t.sample) if t else None,
            "golden": shown(t.golden) if t else None,
            "golden_missing": self.missing_golden,
            "golden_updated": self.updated,
            "differences": [d.as_dict() for d in self.differences],
            "cases": [c.as_dict() for c in self.cases],
            "seconds": round(self.seconds, 3),
        }


def shown(p: Path | None) -> str | None:
    if p is None:
        return None
    try:
        return str(p.resolve().relative_to(mappings_dir().parent.resolve()))
    except ValueError:
        return str(p)


def _compare(result: Result, target: Target, update: bool) -> None:
    assert result.output is not None and target.golden is not None
    golden = target.golden
    if golden.exists():
        result.differences = differences(json.loads(golden.read_text("utf-8")), result.output)
    else:
        result.missing_golden = True
    if update and (result.differences or result.missing_golden):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(dumps(result.output), encoding="utf-8")
        result.updated, result.missing_golden = True, False


def run_mapping_test(
    arg: str,
    sample: Path | None = None,
    golden: Path | None = None,
    *,
    update: bool = False,
    checker: Checker = "fast",
) -> Result:
    """Run a mapping's sample and cases; with `update`, rewrite a golden that differs
    (its differences stay in the result: they are what changed)."""
    start = time.perf_counter()
    result = Result(arg)
    try:
        path = mapping_path(arg)
        result.file = shown(path) or arg
        mapping = get_mapping(str(path))
        result.name = f"{mapping.name} v{mapping.version}"
        target = result.target = locate(mapping, path, sample, golden)
        if target.sample is None and not mapping.spec.tests:
            raise OmshubError(
                f"{result.file}: nothing to test: no `sample:` (nor samples/{path.stem}.*) "
                "and no `tests:`"
            )
        if target.sample is not None:
            records = read_sample(mapping, target.sample)
            result.output = canonical_output(map_sample(mapping, records, checker))
            _compare(result, target, update)
        result.cases = run_cases(mapping, checker)
    except (OmshubError, ValueError, OSError) as e:
        result.error = str(e)
    result.seconds = time.perf_counter() - start
    return result
