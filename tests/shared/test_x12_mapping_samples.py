"""Conformance: every public X12 sample holding a set we map goes through the `x12` format and
its mapping (850 -> po_850, 856 -> asn_856, 945 -> whse_945) with the outcome in the table:
sets read, sets refused by the format (broken envelopes, other sets of a mailbag), canonical
rows, and records the mapping rejects (each with the reason it must give).

The grouping also has to keep every segment: for every set of every sample that has a
schema, the loop tree holds exactly its segments, whatever the schema thinks of them. These files are read where they are
(never copied). Where ../shared is absent this module is skipped as a whole.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from connectors.base import BadRecord, RecordChunk
from connectors.errors import FormatError
from connectors.registry import get_format
from connectors.x12.loops import group
from connectors.x12.reader import iter_transactions
from connectors.x12.schema import find_schema
from omshub import mappingtest
from omshub.mappings import get_mapping
from omshub.pipeline import map_records

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "x12"
pytestmark = pytest.mark.shared  # tests/shared/conftest.py: run only where the samples are
MAPPINGS = {
    "846": "edi/inventory_846.yaml",
    "850": "edi/po_850.yaml",
    "856": "edi/asn_856.yaml",
    "945": "edi/whse_945.yaml",
}
#: what the EDI inbox gives every set from its partner file: whose orders it quotes (the
#: shared mappings name none), and no default location unless a case says so
OPTIONS = {"order_origin": "some_retailer"}


class Outcome(NamedTuple):
    read: int  # sets of this kind the format turned into records
    refused: int  # sets of this kind the format refused (BadRecord), envelope problems
    rows: dict[str, int]  # canonical rows by entity (a rejected record's rows included)
    rejected: dict[int, str]  # record index -> a reason the mapping must give


CARRIER = "unknown code {!r} in code list 'carrier'"
NO_LOCATION = "'location_code': required value is missing (no warehouse (N1 WH) in the advice"
NO_ON_HAND = "field 'on_hand': required value is missing"
EXPECTED: dict[tuple[str, str], Outcome] = {
    ("bots__850-004010-01.x12", "850"): Outcome(1, 0, {"sales_order": 1, "order_line": 8}, {}),
    # a second group reuses GS06 and ST02s: refused by the envelope, the first one loads
    ("bots__850-004010-02.x12", "850"): Outcome(1, 3, {"sales_order": 1, "order_line": 1}, {}),
    ("bots__850-004010-07.x12", "850"): Outcome(2, 0, {"sales_order": 2, "order_line": 11}, {}),
    ("bots__850-004010-08.x12", "850"): Outcome(2, 0, {"sales_order": 2, "order_line": 11}, {}),
    ("bots__850-004010-12.x12", "850"): Outcome(3, 0, {"sales_order": 3, "order_line": 10}, {}),
    ("bots__850-004010.15.x12", "850"): Outcome(4, 0, {"sales_order": 4, "order_line": 19}, {}),
    ("bots__850-004010VICS-01.x12", "850"): Outcome(
        4, 0, {"sales_order": 4, "order_line": 169}, {}
    ),
    # 8 ISA in one file: three 850s reuse a GS06 or an ST02 and are refused
    ("bots__mailbag01.x12", "850"): Outcome(8, 3, {"sales_order": 8, "order_line": 28}, {}),
    ("ediengine__850.OK.edi", "850"): Outcome(1, 0, {"sales_order": 1, "order_line": 6}, {}),
    ("edinet__x12.850a.edi", "850"): Outcome(1, 0, {"sales_order": 1, "order_line": 3}, {}),
    ("inteligenz__ORD_850_Example1_PGWGlass.txt", "850"): Outcome(
        1, 0, {"sales_order": 1, "order_line": 4}, {}
    ),
    ("nodex12__850.edi", "850"): Outcome(1, 0, {"sales_order": 1, "order_line": 6}, {}),
    ("nodex12__850_2.edi", "850"): Outcome(1, 0, {"sales_order": 1, "order_line": 6}, {}),
    ("nodex12__850_3.edi", "850"): Outcome(1, 0, {"sales_order": 1, "order_line": 1}, {}),
    ("stupidedi__004010-PO850-pass-1.edi", "850"): Outcome(
        1, 0, {"sales_order": 1, "order_line": 1}, {}
    ),
    ("stupidedi__004010-X357-pass-basic-po.edi", "850"): Outcome(
        1, 0, {"sales_order": 1, "order_line": 1}, {}
    ),
    ("x12types__004010_850.edi", "850"): Outcome(1, 0, {"sales_order": 1, "order_line": 7}, {}),
    # the Bots demo ASNs carry a placeholder SCAC, or no TD5 and no REF at all
    ("bots__856_2.x12", "856"): Outcome(
        2, 0, {"shipment": 2, "shipment_line": 8},
        {0: CARRIER.format("SCAC"), 1: "field 'tracking_number': required value is missing"},
    ),
    ("bots__PARTNER2_20130123_1.x12", "856"): Outcome(
        2, 0, {"shipment": 2, "shipment_line": 8},
        {0: CARRIER.format("SCAC"), 1: "field 'tracking_number': required value is missing"},
    ),
    # SCACs the carrier list does not know: quarantined, never invented (the routing text,
    # OVERNITE or FEDX 2 DAY, is the service, not the carrier's identity)
    ("ediengine__856.Crossdock.OK.edi", "856"): Outcome(
        1, 0, {"shipment": 1, "shipment_line": 5}, {0: CARRIER.format("OVNT")}
    ),
    ("inteligenz__ORD_856_FromGregarican.txt", "856"): Outcome(
        1, 0, {"shipment": 1, "shipment_line": 1}, {0: CARRIER.format("FED2")}
    ),
    ("nodex12__856.edi", "856"): Outcome(
        1, 0, {"shipment": 1, "shipment_line": 2}, {0: CARRIER.format("XXXX")}
    ),
    # SE01 counts 25 segments, the set has 22: refused by the envelope
    ("stupidedi__004010-SH856-fail-2.edi", "856"): Outcome(
        0, 1, {"shipment": 0, "shipment_line": 0}, {}
    ),
    # a supplier's 846 to its customer's plant: no N1 WH (its partner would need a
    # default_location), and only QTY 34/QH/QB/87, none of the on-hand quantities (17, 33)
    ("inteligenz__ORD_846_Example1.txt", "846"): Outcome(
        1, 0, {"inventory_snapshot": 1}, {0: NO_LOCATION}
    ),
    ("inteligenz__WAR_945_inter-americanproducts.txt", "945"): Outcome(
        1, 0, {"shipment": 1, "shipment_line": 3}, {0: CARRIER.format("NA")}
    ),
}  # fmt: skip


def _sets(path: Path) -> set[str]:
    try:
        return {tx.set_id for tx in iter_transactions(path)}
    except FormatError:  # an unreadable file (X12Error) holds no set we map
        return set()


CASES = (
    sorted((p.name, s) for p in SAMPLES.iterdir() for s in _sets(p) if s in MAPPINGS)
    if SAMPLES.is_dir()
    else []
)


def test_the_table_covers_every_sample_we_map() -> None:
    assert sorted(EXPECTED) == CASES


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}:{c[1]}")
def test_sample_through_format_and_mapping(case: tuple[str, str]) -> None:
    name, set_id = case
    expected = EXPECTED[case]
    data = (SAMPLES / name).read_bytes()
    options = {**OPTIONS, "sets": [set_id]}
    items = list(get_format("x12").records(io.BytesIO(data), options, name))
    good = [r for r in items if isinstance(r, dict)]
    refused = [r for r in items if isinstance(r, BadRecord) and r.raw["set"] == set_id]
    assert (len(good), len(refused)) == (expected.read, expected.refused), [
        r.reason for r in refused
    ]
    mapping = get_mapping(MAPPINGS[set_id])
    chunk = RecordChunk(0, list(range(len(good))), None, good, [])
    output: dict[str, Any] = mappingtest.canonical_output(map_records(mapping, chunk))
    rows = {entity: len(found) for entity, found in output["entities"].items()}
    assert rows == expected.rows
    rejected = {
        r["record"]: " | ".join(x["message"] for x in r["reasons"]) for r in output["rejected"]
    }
    assert sorted(rejected) == sorted(expected.rejected), rejected
    for index, reason in expected.rejected.items():
        assert reason in rejected[index]


FILES = sorted(p for p in SAMPLES.iterdir() if _sets(p)) if SAMPLES.is_dir() else []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_grouping_keeps_every_segment(path: Path) -> None:
    """Every set of every sample with a schema: its loop tree holds all its segments."""
    for tx in iter_transactions(path):
        schema = find_schema(tx.set_id, tx.group.version)
        if schema is None:
            continue
        placed = [p.segment for p in group(tx.segments, schema).segments()]
        assert sorted(placed, key=lambda s: s.position) == tx.segments


def test_the_846_takes_its_partners_default_location() -> None:
    """The same 846 from a partner with `default_location`: the location is the partner's,
    and what still refuses it is the quantity it does not give (no QTY 17 or 33)."""
    data = (SAMPLES / "inteligenz__ORD_846_Example1.txt").read_bytes()
    options = {**OPTIONS, "sets": ["846"], "default_location": "san003"}
    good = [
        r
        for r in get_format("x12").records(io.BytesIO(data), options, "846")
        if isinstance(r, dict)
    ]
    chunk = RecordChunk(0, [0], None, good, [])
    output = mappingtest.canonical_output(map_records(get_mapping(MAPPINGS["846"]), chunk))
    [row] = output["entities"]["inventory_snapshot"]
    assert (row["sku"], row["location_code"]) == ("46L5055", "SAN003")
    [rejected] = output["rejected"]
    messages = " | ".join(r["message"] for r in rejected["reasons"])
    assert NO_ON_HAND in messages and "location_code" not in messages
