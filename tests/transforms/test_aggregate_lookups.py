"""Mapping language v2, the join half, on both engines: rows grouped into one parent
(`aggregate:`), list aggregates (`sum`, `min`, `max`), and look-ups (hit, miss, default)."""

from __future__ import annotations

import copy
import io
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connectors.base import iter_chunks, iter_records
from connectors.registry import get_format
from transforms.batch import MappedBatch
from transforms.codes import load_code_lists
from transforms.compiler import CompiledMapping, compile_mapping
from transforms.errors import MappingError
from transforms.lookups import Lookups, LookupSpec, LookupTable, table_from_records, use_lookups

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
CODES = load_code_lists(ROOT / "config/codes")


def both(m: CompiledMapping, records: list[dict[str, Any]], table: pa.Table) -> MappedBatch:
    """Apply on both paths, check they agree, return the per-record result."""
    ref, col = m.apply(copy.deepcopy(records)), m.apply_table(table)
    assert {e: t.to_pylist() for e, t in ref.tables.items()} == {
        e: t.to_pylist() for e, t in col.tables.items()
    }
    assert {e: t.schema for e, t in ref.tables.items()} == {
        e: t.schema for e, t in col.tables.items()
    }
    assert col.errors == {k: v for k, v in ref.errors.items() if v}
    return ref


def mapping(tmp_path: Path, text: str) -> CompiledMapping:
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text))
    return compile_mapping(path, CODES)


def test_a_3pl_file_with_per_line_freight_gives_one_shipment_with_the_summed_cost() -> None:
    m = compile_mapping(FIXTURES / "threepl/shipments.yaml", CODES)
    data = (FIXTURES / "threepl/shipments.csv").read_bytes()
    records = list(iter_records(get_format("csv"), io.BytesIO(data), {}, "shipments.csv"))
    with (FIXTURES / "threepl/shipments.csv").open("rb") as f:  # the columnar CSV reader
        (chunk,) = iter_chunks(get_format("csv"), f, {}, "shipments.csv", size=100)
    assert chunk.table is not None
    out = both(m, records, chunk.table)
    ships = {r["shipment_number"]: r for r in out.tables["shipment"].to_pylist()}
    assert sorted(ships) == ["S-1", "S-2", "S-3"]
    assert ships["S-1"]["cost"] == Decimal("6.45")  # 4.10 + 2.35 (+ an empty freight)
    assert ships["S-2"]["cost"] == Decimal("5.00")
    assert ships["S-3"]["cost"] == Decimal("2.75")
    assert str(ships["S-1"]["shipped_at"]) == "2026-11-21 10:00:00+00:00"  # min
    assert str(ships["S-1"]["_updated_at"]) == "2026-11-21 10:05:00+00:00"  # newest row
    assert len(out.tables["shipment_line"]) == 6
    # record 5's quantity is bad: the shipment it shares with record 4 is rejected whole
    assert out.errors[5][0].field == "qty"
    assert [r.rule for r in out.errors[4]] == ["aggregate"]
    assert "rejected record 5" in out.errors[4][0].message
    assert set(out.bad_records()) == {4, 5}


LIST_MAPPING = """\
mapping: t.lists
version: 1
entity: shipment
external_id: id
fields:
  tracking_number: {path: id, type: string}
  carrier: {const: ups}
  cost: {path: lines.freight, transforms: [sum]}
  shipment_number: {expr: "str(count(lines))"}
  shipped_at: {path: lines.at, transforms: [max]}
  service: {path: lines.code, transforms: [min]}
"""


def test_list_aggregates_of_child_values_into_the_parent(tmp_path: Path) -> None:
    m = mapping(tmp_path, LIST_MAPPING)
    records = [
        {
            "id": 1,
            "lines": [
                {"freight": "4.10", "at": "2026-11-21T10:00:00Z", "code": "B"},
                {"freight": "12.5", "at": "2026-11-22T09:00:00Z", "code": "A"},
            ],
        },
        {"id": 2, "lines": []},
        {"id": 3, "lines": [{"freight": "9", "at": None, "code": None}]},
    ]
    out = both(m, records, pa.Table.from_pylist(records))
    rows = out.tables["shipment"].to_pylist()
    assert [r["cost"] for r in rows] == [Decimal("16.60"), Decimal("0"), Decimal("9")]
    assert [r["shipment_number"] for r in rows] == ["2", "0", "1"]
    assert str(rows[0]["shipped_at"]) == "2026-11-22 09:00:00+00:00"
    assert [r["service"] for r in rows] == ["A", None, None]
    ints = [{"id": 1, "lines": [{"freight": 3}, {"freight": 4}]}, {"id": 2, "lines": None}]
    out = both(m, ints, pa.Table.from_pylist(ints))
    assert [r["cost"] for r in out.tables["shipment"].to_pylist()] == [Decimal(7), None]


LOOKUP_MAPPING = """\
mapping: t.counts
version: 1
entity: inventory_snapshot
external_id: id
fields:
  sku:
    path: variation
    lookup: {stream: catalog, path: variations, key: id, value: sku}
    required: true
  location_code: {path: where, lookup: {binding: location, value: code}, default: MAIN}
  on_hand: qty
  as_of: {const: "2026-11-21T00:00:00Z"}
"""
CATALOG = [
    {"type": "ITEM", "variations": [{"id": "V1", "sku": "SKU-1"}, {"id": "V2", "sku": "SKU-2"}]},
    {"type": "TAX"},
    {"type": "ITEM", "variations": [{"id": "V3", "sku": "SKU-3"}, {"id": "V1", "sku": "LATER"}]},
]


def _tables(spec: LookupSpec) -> LookupTable:
    if spec.stream:
        return table_from_records(spec, CATALOG, "catalog sample")
    return LookupTable(spec.label, {"L1": "STORE-NYC"}, False, "bindings of square location")


def test_lookups_hit_miss_and_default_on_both_engines(tmp_path: Path) -> None:
    m = mapping(tmp_path, LOOKUP_MAPPING)
    records = [
        {"id": "a", "variation": "V2", "where": "L1", "qty": 3},
        {"id": "b", "variation": "V1", "where": "L9", "qty": 1},
        {"id": "c", "variation": "NOPE", "where": "L1", "qty": 2},
        {"id": "d", "variation": None, "where": None, "qty": 2},
    ]
    with use_lookups(Lookups(_tables)):
        out = both(m, records, pa.Table.from_pylist(records))
    rows = out.tables["inventory_snapshot"].to_pylist()
    assert [r["sku"] for r in rows] == ["SKU-2", "SKU-1", None, None]  # first V1 wins
    assert [r["location_code"] for r in rows] == ["STORE-NYC", "MAIN", "STORE-NYC", "MAIN"]
    assert sorted(out.bad_records()) == [2, 3]
    miss = out.errors[2][0]
    assert (miss.field, miss.rule) == ("sku", "lookup stream catalog")
    assert "no entry for 'NOPE' (catalog sample)" in miss.message
    assert out.errors[3][0].rule == "required"


def test_a_lookup_without_tables_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    m = mapping(tmp_path, LOOKUP_MAPPING)
    records = [{"id": "a", "variation": "V2", "where": "L1", "qty": 3}]
    out = both(m, records, pa.Table.from_pylist(records))
    assert "no look-up tables here" in out.errors[0][0].message


@pytest.mark.parametrize(
    "lookup, message",
    [
        ("{stream: catalog, key: id}", "needs `key` and `value`"),
        ("{stream: catalog, binding: product, key: id, value: sku}", "exactly one of"),
        ("{binding: product, key: id}", "belong to a stream lookup"),
        ("{stream: catalog, key: id, value: sku, bogus: 1}", "Extra inputs"),
    ],
)
def test_a_bad_lookup_is_a_mapping_error_with_its_line(
    tmp_path: Path, lookup: str, message: str
) -> None:
    text = LOOKUP_MAPPING.replace(
        "{stream: catalog, path: variations, key: id, value: sku}", lookup
    )
    with pytest.raises(MappingError) as e:
        mapping(tmp_path, text)
    assert message in str(e.value) and ":8" in str(e.value)
