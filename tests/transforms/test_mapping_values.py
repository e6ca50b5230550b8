"""Mapping language v2, the value half: named date formats, `when:`, `match:`, `coalesce:`,
`$delivery.` values and `pick:`. Each feature is checked for its values and reasons on
the per-record path, and the columnar path must give the same tables and reasons
(conditionals and coalesce chains: test_mapping_conditionals.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from omshub.watermark import newest_mapped
from tests.transforms.test_columnar_equivalence import _all_strings, assert_same
from transforms.compiler import CompiledMapping, compile_mapping
from transforms.errors import MappingError

UTC = dt.UTC


def _mapping(tmp_path: Path, text: str) -> CompiledMapping:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return compile_mapping(path, {}, display="m.yaml")


def _rows(m: CompiledMapping, records: list[Any], **kw: Any) -> list[dict[str, Any]]:
    return m.apply(records, **kw).tables["sales_order"].to_pylist()


def _both(m: CompiledMapping, records: list[Any], strings: bool = True) -> None:
    """Both engines, from a table of Python values and (text only) of CSV-like strings."""
    assert_same(m, records, pa.Table.from_pylist(records))
    if strings:  # a CSV file has no nulls: empty text
        text = [{k: "" if v is None else v for k, v in r.items()} for r in records]
        assert_same(m, text, _all_strings(text))


def _messages(m: CompiledMapping, records: list[Any], **kw: Any) -> dict[int, list[str]]:
    return {k: [r.message for r in v] for k, v in m.apply(records, **kw).errors.items() if v}


FORMATS = """\
mapping: t.formats
version: 1
formats:
  shop_time: rfc2822
  erp_time: {format: sap_dats, tz: America/New_York}
  local: {format: "%d.%m.%Y %H:%M", tz: Europe/Berlin}
entity: shipment
external_id: no
updated_at: {path: ms, format: epoch_ms}
fields:
  carrier: {const: ups}
  tracking_number: no
  shipped_at: {path: placed, format: shop_time}
  delivered_at: {expr: "concat(datum, uzeit)", format: erp_time}
  estimated_delivery: {path: datum, format: sap_dats}
children:
  - entity: sales_order
    path: .
    external_id: no
    fields:
      order_number: no
      ordered_at: {path: epoch, format: epoch_s}
      promised_date: {path: local, format: local}
"""
FORMAT_RECORDS = [
    {
        "no": "1",
        "placed": "Tue, 03 Dec 2024 10:15:00 +0100",
        "datum": "20240131",
        "uzeit": "101500",
        "epoch": "1733220900",
        "ms": "1733220900123",
        "local": "03.12.2024 10:15",
    },
    {
        "no": "2",
        "placed": "3 Dec 2024 09:15 GMT",
        "datum": "00000000",
        "uzeit": "",
        "epoch": "-86400",
        "ms": "0",
        "local": "31.12.2024 23:59",
    },
    {
        "no": "3",
        "placed": "Tue, 3 Dec 2024 10:15:00 -0000",
        "datum": "20240310",
        "uzeit": "023000",  # New York's DST gap
        "epoch": "1.5",
        "ms": " 42 ",
        "local": "31.03.2024 02:30",  # Berlin's DST gap
    },
    {
        "no": "4",
        "placed": "yesterday",
        "datum": "2024013",
        "uzeit": "1x",
        "epoch": "soon",
        "ms": "99999999999999999",
        "local": "2024-03-31",
    },
    {
        "no": "5",
        "placed": "Fri, 31 Feb 2024 10:15:00 +0000",
        "datum": "",
        "uzeit": None,
        "epoch": None,
        "ms": None,
        "local": None,
    },
]


def test_named_formats_parse_the_shapes_real_payloads_send(tmp_path: Path) -> None:
    m = _mapping(tmp_path, FORMATS)
    mapped = m.apply(FORMAT_RECORDS)
    ships = {r["tracking_number"]: r for r in mapped.tables["shipment"].to_pylist()}
    orders = {r["order_number"]: r for r in mapped.tables["sales_order"].to_pylist()}
    first = ships["1"]
    assert first["shipped_at"] == dt.datetime(2024, 12, 3, 9, 15, tzinfo=UTC)
    assert first["delivered_at"] == dt.datetime(2024, 1, 31, 15, 15, tzinfo=UTC)  # New York
    assert first["estimated_delivery"] == dt.date(2024, 1, 31)
    assert first["_updated_at"] == dt.datetime(2024, 12, 3, 10, 15, 0, 123000, tzinfo=UTC)
    assert orders["1"]["ordered_at"] == dt.datetime(2024, 12, 3, 10, 15, tzinfo=UTC)
    assert orders["1"]["promised_date"] == dt.date(2024, 12, 3)  # Berlin, then its date
    second = ships["2"]
    assert second["shipped_at"] == dt.datetime(2024, 12, 3, 9, 15, tzinfo=UTC)
    assert second["delivered_at"] is None and second["estimated_delivery"] is None  # SAP
    assert orders["2"]["ordered_at"] == dt.datetime(1969, 12, 31, tzinfo=UTC)
    assert ships["3"]["shipped_at"] == dt.datetime(2024, 12, 3, 10, 15, tzinfo=UTC)  # -0000
    assert orders["3"]["ordered_at"] == dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)


def test_a_value_that_does_not_fit_its_format_is_a_reason_naming_field_and_format(
    tmp_path: Path,
) -> None:
    m = _mapping(tmp_path, FORMATS)
    errors = _messages(m, FORMAT_RECORDS)
    assert set(errors) == {3, 4}
    bad = "\n".join(errors[3])
    assert "m.yaml:13 field 'shipped_at': 'yesterday' is not an RFC 2822 date" in bad
    assert "field 'delivered_at': '20240131x' is not an SAP date (YYYYMMDD" in bad
    assert "field 'ordered_at': 'soon' is not a number" in bad
    assert "field 'estimated_delivery': '2024013' is not an SAP date (YYYYMMDD" in bad
    assert "'99999999999999999' is out of range" in bad
    assert "'2024-03-31' is not a date (%d.%m.%Y %H:%M)" in bad
    assert "field 'shipped_at': 'Fri, 31 Feb 2024 10:15:00 +0000' is not an RFC 2822" in (
        "\n".join(errors[4])
    )


def test_named_formats_agree_on_both_engines(tmp_path: Path) -> None:
    m = _mapping(tmp_path, FORMATS)
    assert m.columnar, m.columnar_reason
    _both(m, FORMAT_RECORDS)
    typed = [
        {"no": "1", "epoch": 1733220900, "ms": 1733220900123},
        {"no": "2", "epoch": -1, "ms": 10**17},
        {"no": "3", "epoch": None, "ms": 5},
    ]
    _both(m, typed, strings=False)
    orders = m.apply(typed).tables["sales_order"].to_pylist()
    assert orders[1]["ordered_at"] == dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)


EXCEL = """\
mapping: t.excel
version: 1
entity: sales_order
external_id: no
fields:
  order_number: no
  ordered_at: {path: serial, format: excel_serial, tz: UTC}
  promised_date: {path: serial, format: excel_serial}
"""


def test_excel_serial_days_and_their_fraction(tmp_path: Path) -> None:
    m = _mapping(tmp_path, EXCEL)
    records = [{"no": "1", "serial": "45292.75"}, {"no": "2", "serial": "0"}]
    rows = _rows(m, records)
    assert rows[0]["ordered_at"] == dt.datetime(2024, 1, 1, 18, tzinfo=UTC)
    assert rows[0]["promised_date"] == dt.date(2024, 1, 1)
    assert "'0' is not an Excel serial date (1 to 2958465)" in _messages(m, records)[1][0]
    _both(m, records)


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("shop_tme", "m.yaml:9 field 'ordered_at': unknown date format 'shop_tme' (declared"),
        ("rfc822", "unknown date format 'rfc822' (declared and built-in: shop_time, rfc2822"),
    ],
)
def test_an_unknown_format_name_fails_the_mapping_with_its_line(
    tmp_path: Path, fmt: str, message: str
) -> None:
    text = (
        "mapping: t.f\nversion: 1\nformats: {shop_time: rfc2822}\nentity: sales_order\n"
        "external_id: no\nfields:\n  order_number: no\n  ordered_at:\n"
        f"    format: {fmt}\n    path: at\n"
    )
    with pytest.raises(MappingError) as e:
        _mapping(tmp_path, text)
    assert message in str(e.value)


DELIVERY = """\
mapping: t.delivery
version: 1
entity: inventory_snapshot
updated_at: $delivery.landed_at
fields:
  sku: sku
  location_code: {const: MAIN}
  on_hand: qty
  as_of:
    coalesce:
      - {path: at}
      - {path: $delivery.file_name, transforms: [{regex: ['_(\\d{8})\\.', 1]}], format: "%Y%m%d", tz: UTC}
      - $delivery.landed_at
    required: true
"""
DELIVERY_RECORDS = [
    {"sku": "A", "qty": "1", "at": None},
    {"sku": "B", "qty": "2", "at": "2024-01-01T00:00:00Z"},
]


def test_delivery_values_give_a_file_without_timestamps_its_time(tmp_path: Path) -> None:
    m = _mapping(tmp_path, DELIVERY)
    named = {"file_name": "stock_20241130.csv", "landed_at": "2024-12-03T10:00:00+00:00"}
    out = m.apply(DELIVERY_RECORDS, named).tables["inventory_snapshot"].to_pylist()
    assert [r["as_of"] for r in out] == [
        dt.datetime(2024, 11, 30, tzinfo=UTC),
        dt.datetime(2024, 1, 1, tzinfo=UTC),
    ]
    assert out[0]["_updated_at"] == dt.datetime(2024, 12, 3, 10, tzinfo=UTC)
    unnamed = {"file_name": "stock.csv", "landed_at": "2024-12-03T10:00:00+00:00"}
    out = m.apply(DELIVERY_RECORDS, unnamed).tables["inventory_snapshot"].to_pylist()
    assert out[0]["as_of"] == dt.datetime(2024, 12, 3, 10, tzinfo=UTC)
    for d in (named, unnamed):
        assert_same_delivery(m, DELIVERY_RECORDS, d)
    missing = m.apply(DELIVERY_RECORDS)  # no delivery (a bare test): the values are null
    assert [r.rule for r in missing.errors[0]] == ["required"]


def assert_same_delivery(m: CompiledMapping, records: list[Any], d: dict[str, Any]) -> None:
    ref, col = m.apply(records, d), m.apply_table(pa.Table.from_pylist(records), d)
    assert col.tables["inventory_snapshot"].to_pylist() == (
        ref.tables["inventory_snapshot"].to_pylist()
    )
    assert col.errors == {k: v for k, v in ref.errors.items() if v}


def test_an_unknown_delivery_value_fails_the_mapping(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as e:
        _mapping(
            tmp_path, DELIVERY.replace("$delivery.landed_at\nfields", "$delivery.landed\nfields")
        )
    assert "m.yaml:4" in str(e.value)
    assert "unknown delivery value '$delivery.landed' (known: $delivery.file_name" in str(e.value)


PICK = """\
mapping: t.pick
version: 1
entity: sales_order
external_id: id
updated_at: {path: lines.updated_at, pick: max}
fields:
  order_number: id
  ordered_at: {path: lines.created, format: epoch_s, pick: min}
  status: {path: lines.state, pick: last, transforms: [lower]}
"""
PICK_RECORDS = [
    {
        "id": "1",
        "lines": [
            {"updated_at": "2024-01-02T00:00:00+05:00", "created": 20, "state": "OPEN"},
            {"updated_at": "2024-01-01T22:00:00Z", "created": 10, "state": "SHIPPED"},
            {"updated_at": None, "created": None, "state": None},
        ],
    },
    {"id": "2", "lines": [{"updated_at": "2024-03-01T00:00:00Z", "created": 5, "state": "x"}]},
    {"id": "3", "lines": []},
    {"id": "4", "lines": [{"updated_at": "bad", "created": 1, "state": "a"}]},
]


def test_pick_keeps_the_newest_of_a_nested_field_and_the_watermark_follows(
    tmp_path: Path,
) -> None:
    m = _mapping(tmp_path, PICK)
    mapped = m.apply(PICK_RECORDS)
    rows = mapped.tables["sales_order"].to_pylist()
    # max after conversion: 22:00 UTC is later than 00:00+05:00 (text order says otherwise)
    assert rows[0]["_updated_at"] == dt.datetime(2024, 1, 1, 22, tzinfo=UTC)
    assert rows[0]["ordered_at"] == dt.datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert rows[0]["status"] == "shipped"
    assert rows[2]["_updated_at"] is None
    assert [r.rule for r in mapped.errors[3]] == ["type datetime"]
    good = {k: v for k, v in mapped.tables.items()}
    assert newest_mapped(good) == dt.datetime(2024, 3, 1, tzinfo=UTC)
    _both(m, PICK_RECORDS, strings=False)


@pytest.mark.parametrize(
    ("fmt", "values"),
    [
        ("rfc2822", ["Tue, 03 Dec 2024 10:15:00 +0100", "3 Dec 2024 09:15 GMT", None]),
        ("sap_dats", ["20240131101500", "20240131", "00000000", "", None]),
        ("epoch_ms", ["1733220900123", " 42 ", None]),
        ("epoch_s", [1733220900, -1, None]),
    ],
)
def test_built_in_formats_are_parsed_column_wise(fmt: str, values: list[Any]) -> None:
    """The common shapes need no per-value fallback (no suspects): the speed of Arrow."""
    from transforms.columnar.vcasts import datetime_vector

    out, suspects = datetime_vector(fmt, "UTC")(pa.array(values))
    assert suspects is None
    assert out.null_count == sum(1 for v in values if v in (None, "", "00000000"))


def test_a_format_on_a_field_that_is_not_a_time_is_refused(tmp_path: Path) -> None:
    text = FORMATS.replace("tracking_number: no", "tracking_number: {path: no, format: rfc2822}")
    with pytest.raises(MappingError) as e:
        _mapping(tmp_path, text)
    assert "m.yaml:12 field 'tracking_number': `format:` reads dates and times; this field is" in (
        str(e.value)
    )
