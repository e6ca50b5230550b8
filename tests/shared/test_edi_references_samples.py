"""Conformance: the business reference (PO number) of real public X12 sets, as the inbox
stores it for `omshub edi chain`. The files are read where they are; where ../shared is
absent this module is skipped as a whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.x12 import read_document
from omshub.edi.references import reference

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "x12"
pytestmark = pytest.mark.shared  # tests/shared/conftest.py: run only where the samples are

EXPECTED = {
    "stupidedi__004010-PO850-pass-1.edi": [("850", "PO12345")],
    "stupidedi__004010-PR855-pass-1.edi": [("855", "1D711419")],
    "stupidedi__004010-SH856-fail-2.edi": [("856", "3D812906")],
    "stupidedi__004010-IN810-pass-1.edi": [("810", "0691-0014403")],
    "stupidedi__004010-AR943-pass-1.edi": [("943", "DO12345")],
    "stupidedi__004010-RE944-pass-1.edi": [("944", "DO12345")],
    "stupidedi__003010-PC860-fail-1.edi": [("860", "SP7301")],
    "ediengine__856.Crossdock.OK.edi": [("856", "POREF00")],
    "ediengine__940.OK.edi": [("940", "538686")],
    "inteligenz__ORD_855_Example1_Adobe.txt": [("855", "0132710645")],
    "inteligenz__ORD_846_Example1.txt": [("846", None)],
    "bots__997_6.x12": [("997", None)] * 4,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_of_each_set(name: str) -> None:
    doc = read_document(SAMPLES / name)
    sets = [t for ix in doc.interchanges for g in ix.groups for t in g.transactions]
    assert [(t.set_id, reference(t.set_id, t)) for t in sets] == EXPECTED[name]
