"""Conformance: every real public payload in ../shared/samples parses with omshub's readers.

These files are read where they are (never copied: several are GPL or unlicensed). The
core suite does not need them; where ../shared is absent this module is skipped as a whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.registry import get_format

PAYLOADS = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "payloads"
pytestmark = pytest.mark.shared  # tests/shared/conftest.py: run only where the samples are
FILES = (
    sorted(p for p in PAYLOADS.glob("*/*") if p.suffix in {".json", ".xml", ".csv"})
    if PAYLOADS.is_dir()
    else []
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_parses_into_records(path: Path) -> None:
    records = get_format(path.suffix[1:]).read(path.read_bytes(), {}, path.name)
    assert records, f"{path} gave no records"
    assert all(isinstance(r, dict) for r in records)


def test_samples_are_there() -> None:
    assert len(FILES) >= 30
