"""Every shipped mapping gives the same tables and reasons on both paths.

Records come from the samples through today's readers; the columnar path gets them as
`pa.Table.from_pylist(records)` and, for CSV, also as a table of all-string columns
(what the columnar CSV reader gives). Bad values (dates, numbers, codes) cover the error
paths: the same rule label and message text on both sides.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import yaml

from connectors.base import iter_chunks, iter_records
from connectors.registry import get_format
from omshub import mappingtest
from omshub.lookups import for_samples
from omshub.mappings import all_mapping_files, get_mapping
from transforms.batch import RECORD, MappedBatch
from transforms.compiler import CompiledMapping
from transforms.lookups import use_lookups
from transforms.validation import validate

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = [*all_mapping_files(), *sorted((ROOT / "bench" / "mappings").glob("*.yaml"))]
BENCH_CSV = (
    "order_number,line_no,sku,qty,unit_price,currency,status,customer_email,ordered_at,updated_at\n"
)


def _records(m: CompiledMapping, path: Path) -> tuple[list[Any], str]:
    spec = yaml.safe_load(path.read_text())
    if spec.get("sample"):
        sample = path.parent / spec["sample"]
        fmt = mappingtest.format_for(m, sample)
        kind = fmt.pop("type")
        with sample.open("rb") as f:
            return list(iter_records(get_format(kind), f, fmt, sample.name)), kind
    text = (
        BENCH_CSV
        + "\n".join(
            f"B-{i // 3},{i % 3 + 1},SKU-{i % 7},{i % 5 + 1},{i}.5{i % 10},usd,"
            f"{['open', 'paid', 'shipped', 'cancelled'][i % 4]},C{i}@Example.com,"
            f"2024-03-0{i % 9 + 1}T10:00:00+02:00,2024-03-0{i % 9 + 1}T11:00:00Z"
            for i in range(60)
        )
        + "\n"
    )
    return list(iter_records(get_format("csv"), io.BytesIO(text.encode()), {}, "b.csv")), "csv"


def _rows(batch: MappedBatch) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for entity, tbl in batch.tables.items():
        rows = tbl.to_pylist()
        out[entity] = sorted(rows, key=lambda r: (r[RECORD], str(r["_external_id"])))
    return out


def _schemas(batch: MappedBatch) -> dict[str, pa.Schema]:
    return {e: t.schema for e, t in batch.tables.items()}


def assert_same(m: CompiledMapping, records: list[Any], table: pa.Table) -> None:
    file = Path(m.file) if Path(m.file).is_absolute() else ROOT / m.file
    with use_lookups(for_samples(m, file)):  # a lookup reads the other stream's sample
        ref = m.apply(copy.deepcopy(records))
        col = m.apply_table(table)
    assert _schemas(col) == _schemas(ref)
    assert _rows(col) == _rows(ref)
    assert col.errors == {k: v for k, v in ref.errors.items() if v}
    assert (col.record_count, col.filtered) == (ref.record_count, ref.filtered)


def _all_strings(records: list[dict[str, Any]]) -> pa.Table:
    names = list(dict.fromkeys(k for r in records for k in r))
    buf = io.StringIO()
    import csv

    w = csv.DictWriter(buf, fieldnames=names)
    w.writeheader()
    w.writerows(records)
    opts = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in names}, strings_can_be_null=False
    )
    return pacsv.read_csv(io.BytesIO(buf.getvalue().encode()), convert_options=opts)


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_columnar_readers_tables_map_as_their_records(path: Path) -> None:
    """Tables from the readers' columnar form (`iter_chunks`) against `iter_records`."""
    m = get_mapping(str(path.resolve()))
    spec = yaml.safe_load(path.read_text())
    if not spec.get("sample"):
        return  # the bench mapping has no sample file: covered by the CSV tests below
    sample = path.parent / spec["sample"]
    fmt = mappingtest.format_for(m, sample)
    reader = get_format(fmt.pop("type"))
    with sample.open("rb") as f:
        records = list(iter_records(reader, f, dict(fmt), sample.name))
    with sample.open("rb") as f:
        chunks = list(iter_chunks(reader, f, dict(fmt), sample.name, size=7))
    for chunk in chunks:
        want = [records[i] for i in chunk.positions]
        if chunk.table is None:
            assert chunk.python_records() == want
            continue
        assert_same(m, want, chunk.table)


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_both_paths_agree_on_the_sample(path: Path) -> None:
    m = get_mapping(str(path.resolve()))
    records, kind = _records(m, path)
    assert records
    try:  # every record's keys (as omshub.process does), not only the first one's
        table = pa.Table.from_struct_array(pa.array(records))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # XML read as dicts: an element is a dict in one record and a list in another;
        # no Arrow type holds both, so such a batch stays on `apply` (the caller's fallback)
        assert kind == "xml"
        return
    assert_same(m, records, table)
    if kind == "csv":
        assert_same(m, records, _all_strings(records))


def _spoil(records: list[dict[str, Any]], field: str, values: list[Any]) -> list[dict[str, Any]]:
    out = copy.deepcopy(records)
    for i, v in enumerate(values):
        out[i % len(out)][field] = v
    return out


BAD = {
    "ordered_at": [
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-03-05 10:00",
        "",
        "2024-02-30T00:00:00Z",
    ],
    "updated_at": ["2024-03-05T10:00:00", "20240305", " 2024-03-05T10:00:00+0100 "],
    "qty": ["abc", "1,000", "1e3", "NaN", "", " 7 ", "-2", "+3"],
    "unit_price": ["12,50", "x", "1.23456789", "99999999999999999.5", "-0.00005"],
    "status": ["teleported", " PAID ", "Ünknown", ""],
    "line_no": ["1.0", "two", "99999999999999999999"],
    "sku": ["", "  ", "ß-sku"],
    "currency": ["eur", "", "€"],
}


@pytest.mark.parametrize("field", sorted(BAD))
def test_bad_values_fail_the_same_way(field: str) -> None:
    path = ROOT / "bench" / "mappings" / "order_lines.yaml"
    m = get_mapping(str(path))
    records, _ = _records(m, path)
    bad = _spoil(records, field, BAD[field])
    assert_same(m, bad, _all_strings(bad))
    ref, col = m.apply(copy.deepcopy(bad)), m.apply_table(_all_strings(bad))
    rules = m.rules()
    rejected = set(ref.bad_records())
    for entity, frame in ref.frames.items():
        want = validate(entity, frame, rules.get(entity), "v: ")
        assert validate(entity, col.tables[entity], rules.get(entity), "v: ") == want
        rejected |= {r for r, reasons in want.items() if reasons}
    assert rejected, "the spoiled values must reject records"


def test_bad_json_values_fail_the_same_way() -> None:
    path = ROOT / "mappings" / "shopify" / "orders.yaml"
    m = get_mapping(str(path.resolve()))
    records, _ = _records(m, path)
    bad = copy.deepcopy(records)
    bad[0]["created_at"] = "not a time"
    bad[0]["line_items"][0]["quantity"] = -1
    bad[0]["line_items"][0]["price"] = "1.2.3"
    bad[-1]["fulfillment_status"] = "lost"
    bad[-1]["total_price"] = None
    assert_same(m, bad, pa.Table.from_pylist(bad))
    assert m.apply(copy.deepcopy(bad)).bad_records()


KITCHEN_SINK = """\
mapping: t.sink
version: 1
entity: customer
external_id: {expr: "concat('c-', id)"}
updated_at: {path: at, tz: UTC}
filter: "kind != 'skip' and not hidden"
fields:
  email: {path: email, transforms: [strip, lower], required: true}
  first_name: {path: name, transforms: [{split: [" ", 0]}, title]}
  last_name: {path: name, transforms: [{split: [" ", -1]}, {substring: [0, 5]}, upper]}
  company: {path: co, transforms: [{null_if: ["", "N/A"]}, {default: "none"}, {lstrip: "0"}]}
  phone:
    path: phone
    transforms: [{replace: ["-", ""]}, {regex: ['^\\+?1?(\\d{10})$', 1]}, {prefix: "+1"}]
  address1: {expr: "join(', ', street, nr)"}
  address2: {expr: "coalesce(alt, street)"}
  city: {expr: "upper(city) if city else 'NOWHERE'"}
  region: {path: region, transforms: [{zfill: 3}, {suffix: "-R"}]}
  postal_code: {expr: "if_else(equals(zip, '00000'), 'none', zip)"}
  country_code: {expr: "concat(str(count(tags)), '/', first(tags))"}
"""
SINK_RECORDS: list[dict[str, Any]] = [
    {
        "id": "1",
        "at": "2026-01-02T03:04:05",
        "kind": "a",
        "hidden": False,
        "email": " A@B.CO ",
        "name": "ada lovelace-byron",
        "co": "007",
        "phone": "1-555-123-4567",
        "street": "Main",
        "nr": "5",
        "alt": "",
        "city": "x",
        "region": "-5",
        "zip": "00000",
        "tags": ["t1", "t2"],
    },
    {
        "id": "2",
        "at": "2026-01-02 03:04",
        "kind": "b",
        "hidden": False,
        "email": None,
        "name": "ÉMILE zola",
        "co": "N/A",
        "phone": "12",
        "street": None,
        "nr": "",
        "alt": None,
        "city": "",
        "region": "7",
        "zip": "10115",
        "tags": [],
    },
    {"id": "3", "at": "nope", "kind": "skip", "hidden": False, "email": "s@k.ip", "tags": None},
    {"id": "4", "at": None, "kind": "c", "hidden": True, "email": "h@i.de", "tags": None},
    {
        "id": "5",
        "at": "2026-03-29T02:30:00Z",
        "kind": None,
        "hidden": None,
        "email": "x@y.z",
        "name": "o'neil mc-donald 3rd",
        "co": "",
        "phone": "+1 (555) 000 1111",
        "street": "",
        "nr": None,
        "alt": "Alt",
        "city": "ß",
        "region": None,
        "zip": None,
        "tags": ["only"],
    },
]


def test_every_transform_and_expression_form_agrees(tmp_path: Path) -> None:
    from transforms.compiler import compile_mapping

    path = tmp_path / "sink.yaml"
    path.write_text(KITCHEN_SINK)
    m = compile_mapping(path, {})
    assert m.columnar, m.columnar_reason
    assert_same(m, SINK_RECORDS, pa.Table.from_pylist(SINK_RECORDS))


LOCAL_TIMES = """\
mapping: t.local
version: 1
entity: sales_order
external_id: no
updated_at: {path: upd, format: "%Y%m%d%H%M%S", tz: America/New_York}
fields:
  order_number: no
  ordered_at: {path: at, tz: Europe/Berlin}
  promised_date: {path: day, format: "%d.%m.%Y"}
"""
LOCAL_RECORDS = [
    # DST gap (NY 2024-03-10 02:30) and fold (NY 2024-11-03 01:30), Berlin gap and fold
    {"no": "1", "upd": "20240310023000", "at": "2024-03-31T02:30:00", "day": "05.03.2024"},
    {"no": "2", "upd": "20241103013000", "at": "2024-10-27T02:30:00", "day": "31.02.2024"},
    {"no": "3", "upd": "20240615120000", "at": "2024-06-15T12:00:00+02:00", "day": " 1.1.2024"},
    {"no": "4", "upd": "2024061512", "at": "2024-06-15 12:00", "day": ""},
    {"no": "5", "upd": " 20240615120000 ", "at": "2024-06-15", "day": "2024-06-15"},
]


def test_local_times_and_formats_agree(tmp_path: Path) -> None:
    from transforms.compiler import compile_mapping

    path = tmp_path / "local.yaml"
    path.write_text(LOCAL_TIMES)
    m = compile_mapping(path, {})
    assert_same(m, LOCAL_RECORDS, _all_strings(LOCAL_RECORDS))
    assert_same(m, LOCAL_RECORDS, pa.Table.from_pylist(LOCAL_RECORDS))
    text = LOCAL_TIMES.replace("America/New_York", "UTC").replace("Europe/Berlin", "UTC")
    path.write_text(text)
    utc = compile_mapping(path, {})
    assert_same(utc, LOCAL_RECORDS, _all_strings(LOCAL_RECORDS))


SELECTORS = """\
mapping: t.sel
version: 1
entity: shipment
external_id: id
fields:
  carrier: {path: "events[kind=carrier].name"}
  tracking_number: {path: "events[seq=2].name", required: true}
  service: {path: "box[kind=svc].name"}
  status: {path: "events[kind=missing].name"}
  origin_location: {expr: "at('events[seq=1].name')"}
"""
SELECTOR_RECORDS: list[dict[str, Any]] = [
    {
        "id": "1",
        "events": [
            {"kind": "x", "seq": 1, "name": "first"},
            None,
            {"kind": "carrier", "seq": 2, "name": "ups"},
            {"kind": "carrier", "seq": 3, "name": "later"},
        ],
        "box": {"kind": "svc", "name": "ground"},
    },
    {"id": "2", "events": [], "box": {"kind": "other", "name": "air"}},
    {"id": "3", "events": None, "box": None},
    {"id": "4", "events": [{"kind": None, "seq": None, "name": None}], "box": None},
]


def test_selectors_agree(tmp_path: Path) -> None:
    from transforms.compiler import compile_mapping

    path = tmp_path / "sel.yaml"
    path.write_text(SELECTORS)
    m = compile_mapping(path, {})
    assert m.columnar, m.columnar_reason
    assert_same(m, SELECTOR_RECORDS, pa.Table.from_pylist(SELECTOR_RECORDS))


def test_keys_over_lists_of_one_agree(tmp_path: Path) -> None:
    """XML elements that may repeat: a list of one steps into its item, others map."""
    from transforms.compiler import compile_mapping

    path = tmp_path / "one.yaml"
    path.write_text(
        "mapping: t.one\nversion: 1\nentity: location\nexternal_id: id\n"
        "fields:\n  code: {path: head.code, required: true}\n  name: head.name\n"
    )
    m = compile_mapping(path, {})
    ones = [
        {"id": "1", "head": [{"code": "A", "name": "n"}]},
        {"id": "2", "head": None},
        {"id": "3", "head": [{"code": "C", "name": None}]},
    ]
    assert_same(m, ones, pa.Table.from_pylist(ones))
    many = [*ones, {"id": "4", "head": [{"code": "D"}, {"code": "E"}]}, {"id": "5", "head": []}]
    assert_same(m, many, pa.Table.from_pylist(many))
