"""Every `tests:` case of every shipped mapping, one pytest test each (`make test` runs
them; `omshub mapping test` runs the same cases)."""

from __future__ import annotations

from typing import Any

import pytest

from omshub.mappings import all_mapping_files, get_mapping
from omshub.mappingtest.cases import run_case, same
from transforms.spec_cases import MappingCase


def _cases() -> list[Any]:
    out = []
    for path in all_mapping_files():
        mapping = get_mapping(str(path))
        for case in mapping.spec.tests:
            out.append(pytest.param(str(path), case, id=f"{mapping.name}: {case.name}"))
    return out


CASES = _cases()


def test_shipped_mappings_have_cases() -> None:
    assert len({p.values[0] for p in CASES}) >= 3


@pytest.mark.parametrize("path,case", CASES)
def test_case(path: str, case: MappingCase) -> None:
    result = run_case(get_mapping(path), case, "fast")
    assert result.ok, "\n".join(result.problems)


def test_values_compare_as_written_in_yaml() -> None:
    assert same(129.5, "129.50") and same(50, "50") and same("1001", "1001")
    assert same("2026-11-21T10:00:00-05:00", "2026-11-21T15:00:00+00:00")
    assert not same("2026-11-21T10:00:00", "2026-11-21T10:00:00+00:00")  # naive != aware
    assert not same(None, "") and same(None, None) and not same(True, "True")
    assert not same(40, "41") and not same("abc", "abd")
