"""Every shipped mapping compiles, has a sample and a reviewed golden output, and matches it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from omshub import mappingtest
from omshub.config import sources
from omshub.mappings import all_mapping_files, get_mapping
from omshub.mappingtest.runner import run_mapping_test

MAPPINGS = all_mapping_files()


def test_there_are_mappings_for_every_demo_system() -> None:
    systems = {p.parent.name for p in MAPPINGS}
    assert {"shopify", "sap", "wms", "easypost", "square", "salesforce"} <= systems


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_mapping_matches_its_golden(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    assert spec.get("sample") and spec.get("golden"), f"{path} needs `sample:` and `golden:`"
    result = run_mapping_test(str(path))
    assert result.error is None and not result.missing_golden, result.error
    assert not result.differences, (
        f"{path} output differs from its golden file; if the change is intended, run\n"
        f"  omshub mapping test {path} --update\n"
        + "\n".join(
            f"  {d.entity} {d.key} {d.field}: {d.golden!r} -> {d.actual!r}"
            for d in result.differences
        )
    )


def test_goldens_name_no_line_of_a_mapping() -> None:
    """A comment above a field must not change a golden file."""
    for golden in sorted(MAPPINGS[0].parents[1].glob("*/golden/*.json")):
        assert not re.search(r"\.ya?ml:\d", golden.read_text()), golden


def test_great_expectations_agrees_with_the_fast_checker_on_every_sample() -> None:
    """`mapping test` judges without GX; the pipeline with it: same output on every sample."""
    for path in MAPPINGS:
        spec = yaml.safe_load(path.read_text())
        sample = path.parent / spec["sample"]
        assert (
            mappingtest.run(str(path), sample, "gx")[1]
            == mappingtest.run(str(path), sample, "fast")[1]
        ), path


def test_every_stream_uses_a_compiling_mapping() -> None:
    for source in sources().values():
        for stream in source.streams:
            for mapping_file in stream.mapping_files():  # an EDI inbox routes to several
                assert get_mapping(mapping_file).entities
