"""Every shipped mapping compiles, has a sample and a reviewed golden output, and matches it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from omshub import mappingtest
from omshub.config import sources
from omshub.mappings import all_mapping_files, get_mapping

MAPPINGS = all_mapping_files()


def test_there_are_mappings_for_every_demo_system() -> None:
    systems = {p.parent.name for p in MAPPINGS}
    assert {"shopify", "sap", "wms", "easypost", "square", "salesforce"} <= systems


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_mapping_matches_its_golden(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    assert spec.get("sample") and spec.get("golden"), f"{path} needs `sample:` and `golden:`"
    sample, golden = path.parent / spec["sample"], path.parent / spec["golden"]
    assert sample.exists() and golden.exists()
    _, output = mappingtest.run(str(path), sample)
    diff = mappingtest.diff(golden, output)
    assert json.loads(golden.read_text()) == json.loads(mappingtest.dumps(output)), (
        f"{path} output differs from its golden file; if the change is intended, run\n"
        f"  omshub mapping test {path} --input {sample} --golden {golden} --update-golden\n"
        f"and review the diff:\n{diff}"
    )


def test_every_stream_uses_a_compiling_mapping() -> None:
    for source in sources().values():
        for stream in source.streams:
            for mapping_file in stream.mapping_files():  # an EDI inbox routes to several
                assert get_mapping(mapping_file).entities
