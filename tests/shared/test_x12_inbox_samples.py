"""Every public X12 sample through the real EDI inbox (tests/shared/x12_inbox_outcomes.py):
each file is archived or moved to error/ with a reason naming where, nothing fails without
a typed reason, malformed envelopes are answered by a rejecting 997 or TA1, and the sets
that a shipped mapping reads load. Skipped where ../shared is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from x12_inbox_outcomes import SAMPLES, Outcome, run_one

pytestmark = pytest.mark.shared  # tests/shared/conftest.py: run only where the samples are


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    import os

    saved = {
        k: os.environ.get(k) for k in ("OMSHUB_HOME", "OMSHUB_DATABASE_URL", "OMSHUB_LANDING_DIR")
    }
    tmp = tmp_path_factory.mktemp("x12-inbox")
    try:
        files = [p for p in sorted(SAMPLES.iterdir()) if p.name != "SOURCES.md"]
        return {p.name: run_one(p, tmp) for p in files}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_every_file_ends_archived_or_in_error_with_a_typed_reason(
    outcomes: dict[str, Outcome],
) -> None:
    assert len(outcomes) == 52
    for name, o in outcomes.items():
        assert o.error_kind != "internal", (name, o.message)  # never an unexplained crash
        assert (o.status, o.ended_in) in (("loaded", "archive"), ("failed", "error")), o
        if o.status == "failed":
            assert "segment" in o.message or "byte" in o.message, o
    # the only file that cannot be read for its partner: its receiver id is not ASCII
    assert [n for n, o in outcomes.items() if o.status == "failed"] == [
        "inteligenz__ORD_180_FromLowes.txt"
    ]


def test_bad_envelopes_are_rejected_and_answered(outcomes: dict[str, Outcome]) -> None:
    ix_mismatch = outcomes["edinet__x12.850a.edi"]  # IEA02 != ISA13: the whole interchange
    assert ix_mismatch.acks == ["TA1 R 001"] and not ix_mismatch.loaded
    assert "interchange rejected: IEA02" in ix_mismatch.refused[0]
    assert outcomes["gtlogistics__no-iea-trailer.edi"].acks == ["TA1 R 023"]  # no IEA
    se01 = outcomes["ediengine__940_Failed_SE01.edi"]
    assert se01.acks == ["997 R 0/1"] and "SE01 says '12' segments" in se01.refused[0]
    dup = outcomes["bots__850-004010-02.x12"]  # duplicate ST02 and GS06 in one file
    assert any("used twice" in r for r in dup.refused)
    assert outcomes["staedi__invalid997.edi"].acks == []  # a 997 is never acknowledged


def test_sets_with_a_shipped_mapping_load(outcomes: dict[str, Outcome]) -> None:
    assert outcomes["bots__850-004010VICS-01.x12"].loaded == {"order_line": 169, "sales_order": 4}
    assert outcomes["x12types__004010_850.edi"].loaded == {"order_line": 7, "sales_order": 1}
    clean_850s = [n for n, o in outcomes.items() if "850" in n and o.acks == ["997 A 1/1"]]
    assert clean_850s and all(outcomes[n].loaded.get("sales_order") for n in clean_850s)


def test_a_set_its_mapping_reads_nothing_from_is_refused_not_dropped(
    outcomes: dict[str, Outcome],
) -> None:
    """The 944's W07 sits in the top-level W07 loop (no LX) and its SKU is qualified UK:
    the mapping reads LX loops only, so the set is quarantined and rejected, not lost."""
    receipt = outcomes["stupidedi__004010-RE944-pass-1.edi"]
    assert (receipt.status, receipt.ended_in) == ("loaded", "archive")
    assert not receipt.loaded and receipt.acks == ["997 R 0/1"]
    assert receipt.refused == [
        "stupidedi__004010-RE944-pass-1.edi: segment 3: 944 0001: the mapping "
        "edi/receipt_944.yaml read no record (path LX): nothing loaded"
    ]
