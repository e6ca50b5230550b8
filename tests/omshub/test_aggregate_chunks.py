"""`aggregate:` through a source run: groups collapse per mapped chunk, so a file whose
rows of one key fall into two chunks must fail its batch (nothing loads) rather than
load a sum of the last chunk's rows only; within one chunk the sum loads."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from oms.models import LandedBatch, Shipment
from omshub import pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "transforms/fixtures/threepl"
SOURCE = """\
name: threepl
system: wms
kind: wms
connector: {type: local_folder, path: threepl_drop}
reject_threshold: 1.0
retries: 0
streams:
  - name: shipments
    pattern: "*.csv"
    format: {type: csv}
    mapping: threepl/shipments.yaml
"""


@pytest.fixture
def threepl(shipped_project: Path) -> Path:
    (shipped_project / "mappings/threepl").mkdir()
    shutil.copy(FIXTURES / "shipments.yaml", shipped_project / "mappings/threepl")
    (shipped_project / "threepl_drop").mkdir()
    shutil.copy(FIXTURES / "shipments.csv", shipped_project / "threepl_drop")
    (shipped_project / "config/sources/threepl.yaml").write_text(SOURCE, encoding="utf-8")
    return shipped_project


def _costs(engine: Engine) -> dict[str, Decimal]:
    t = Shipment.__table__
    with engine.connect() as conn:
        return {r.shipment_number: r.cost for r in conn.execute(select(t))}


def test_a_group_within_one_chunk_loads_its_sum(engine: Engine, threepl: Path) -> None:
    report = pipeline.run_source("threepl", engine=engine)
    assert report.ok, report.errors
    assert _costs(engine)["S-1"] == Decimal("6.45")


def test_a_group_split_across_chunks_fails_the_batch(
    engine: Engine, threepl: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMSHUB_CHUNK_RECORDS", "2")  # S-1's third line is in chunk 2
    report = pipeline.run_source("threepl", engine=engine)
    assert not report.ok
    assert "in two chunks" in " ".join(map(str, report.errors))
    assert _costs(engine) == {}  # nothing of the batch loaded, no partial sum
    with engine.connect() as conn:
        states = [r.status for r in conn.execute(select(LandedBatch.__table__))]
    assert states and "loaded" not in states
