"""Mapping language v2, the value half: named date formats, `when:`, `match:`, `coalesce:`,
`$delivery.` values and `pick:`. Each feature is checked for its values and reasons on
the per-record path, and the columnar path must give the same tables and reasons."""

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


CONDITIONALS = """\
mapping: t.cond
version: 1
entity: sales_order
external_id: no
fields:
  order_number: no
  status:
    match:
      value: state
      cases:
        - {when: "cancelled_at", then: cancelled}
        - {is: [paid, authorized], then: open}
        - {when: "total / qty > 10", then: on_hold}
        - {is: shipped, then: shipped}
      default: pending
  channel: {const: web, when: "source != 'pos'", default: pos}
  grand_total: {expr: "total / qty", when: "qty != 0"}
  currency: {path: cur, when: "cur_ok == 'y'", transforms: [upper]}
"""
_COND = ("no", "state", "cancelled_at", "source", "total", "qty", "cur", "cur_ok")
COND_RECORDS = [
    dict(zip(_COND, values, strict=True))
    for values in [
        ("1", "paid", "2024-01-01", None, "5", "1", None, None),
        ("2", "authorized", None, "pos", "5", "0", None, None),
        ("3", "shipped", None, None, "50", "2", "usd", "y"),
        ("4", "shipped", None, None, "5", "1", "eur", "n"),
        ("5", "other", None, None, "abc", "1", None, None),
        ("6", "paid", "", None, "abc", "x", None, None),
    ]
]


def test_match_takes_the_first_case_that_holds_and_when_guards_a_value(tmp_path: Path) -> None:
    m = _mapping(tmp_path, CONDITIONALS)
    rows = {r["order_number"]: r for r in _rows(m, COND_RECORDS)}
    assert {k: r["status"] for k, r in rows.items()} == {
        "1": "cancelled",
        "2": "open",
        "3": "on_hold",
        "4": "shipped",
        "5": None,  # 'abc' / 1 fails: the record is rejected with the reason
        "6": "open",  # decided before the failing case: Python never evaluates it
    }
    assert rows["2"]["channel"] == "pos" and rows["1"]["channel"] == "web"
    assert rows["2"]["grand_total"] is None  # qty 0: not divided, no reason
    assert rows["3"]["currency"] == "USD" and rows["4"]["currency"] is None
    errors = _messages(m, COND_RECORDS)
    assert set(errors) == {4}  # record 6: decided before the failing case, qty x is not 0
    assert errors[4][0] == "m.yaml:7 field 'status': 'abc' is not a number"
    assert errors[4][1] == "m.yaml:17 field 'grand_total': 'abc' is not a number"


def test_conditionals_agree_on_both_engines(tmp_path: Path) -> None:
    m = _mapping(tmp_path, CONDITIONALS)
    assert m.columnar, m.columnar_reason
    _both(m, COND_RECORDS)


def test_a_failing_when_is_a_reason_and_is_without_on_is_refused(tmp_path: Path) -> None:
    m = _mapping(tmp_path, CONDITIONALS.replace("qty != 0", "total > qty * 'x'"))
    records = [{"no": "1", "state": "paid", "total": "5", "qty": "1"}]
    reasons = m.apply(records).errors[0]
    assert [(r.field, r.rule) for r in reasons] == [("grand_total", "when")]
    _both(m, records)
    bad = CONDITIONALS.replace("      value: state\n", "")
    with pytest.raises(MappingError, match="`is:` cases compare the result of `value:`"):
        _mapping(tmp_path, bad)


COALESCE = """\
mapping: t.coalesce
version: 1
formats: {shop_time: rfc2822}
entity: sales_order
external_id: no
fields:
  order_number: no
  ordered_at:
    coalesce:
      - {path: placed, format: shop_time}
      - {path: created, transforms: [strip], format: "%Y%m%d", tz: UTC}
      - {path: fallback}
    required: true
  customer_email:
    coalesce: [billing.email, {path: contact, transforms: [lower]}, {const: unknown@example.com}]
"""
_CO = ("no", "placed", "created", "fallback", "contact", "billing")
COALESCE_RECORDS = [
    dict(zip(_CO, values, strict=True))
    for values in [
        ("1", "Tue, 03 Dec 2024 10:15:00 +0100", None, None, None, {"email": "a@x"}),
        ("2", "not a date", " 20240105 ", None, "B@X", None),
        ("3", "", None, "2024-02-01T00:00:00Z", None, None),
        ("4", "never", "nope", None, None, None),
    ]
]


def test_coalesce_takes_the_first_alternative_that_gives_a_value(tmp_path: Path) -> None:
    m = _mapping(tmp_path, COALESCE)
    rows = {r["order_number"]: r for r in _rows(m, COALESCE_RECORDS)}
    assert rows["1"]["ordered_at"] == dt.datetime(2024, 12, 3, 9, 15, tzinfo=UTC)
    assert rows["2"]["ordered_at"] == dt.datetime(2024, 1, 5, tzinfo=UTC)  # falls through
    assert rows["3"]["ordered_at"] == dt.datetime(2024, 2, 1, tzinfo=UTC)
    assert [rows[k]["customer_email"] for k in "123"] == ["a@x", "b@x", "unknown@example.com"]
    # no alternative gave a value: every alternative's reason, then `required`
    reasons = m.apply(COALESCE_RECORDS).errors
    assert set(reasons) == {3}
    assert [r.rule for r in reasons[3]] == ["type datetime", "type datetime", "required"]
    assert "m.yaml:10 field 'ordered_at': 'never' is not an RFC 2822 date" in reasons[3][0].message
    assert (
        "m.yaml:11 field 'ordered_at': 'nope' is not a datetime (%Y%m%d)" in reasons[3][1].message
    )


def test_coalesce_agrees_on_both_engines(tmp_path: Path) -> None:
    m = _mapping(tmp_path, COALESCE)
    _both(m, COALESCE_RECORDS, strings=False)
    flat = [{k: v for k, v in r.items() if k != "billing"} for r in COALESCE_RECORDS]
    _both(m, flat)


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


CHILDREN = """\
mapping: t.children
version: 1
entity: sales_order
external_id: id
fields:
  order_number: id
  channel: {expr: "at('$delivery.source')", when: "at('$delivery.stream') == 'orders'"}
children:
  - entity: order_line
    path: lines
    external_id: {expr: "concat(_parent.id, '-', n)"}
    updated_at: {coalesce: [{path: upd, format: epoch_s}, {path: ^.upd, format: rfc2822}]}
    fields:
      order_number: {parent: order_number, when: "qty > 0"}
      line_no: {index: 1}
      sku: {coalesce: [sku, {path: ^.default_sku, transforms: [upper]}], required: true}
      qty_ordered: qty
      description:
        match:
          value: _parent.state
          cases:
            - {when: "qty == 0", then: cancelled}
            - {is: done, then: shipped}
          default: open
"""
CHILD_RECORDS = [
    {
        "id": "1",
        "upd": "Tue, 03 Dec 2024 10:15:00 +0100",
        "state": "done",
        "default_sku": "dflt",
        "lines": [
            {"n": 1, "sku": "A", "qty": 1, "upd": 1733220900},
            {"n": 2, "sku": None, "qty": 0, "upd": None},
        ],
    },
    {
        "id": "2",
        "upd": "bad",
        "state": "open",
        "default_sku": None,
        "lines": [{"n": 1, "sku": None, "qty": 2, "upd": None}],
    },
]


def test_children_read_parents_and_the_delivery_the_same_on_both_engines(tmp_path: Path) -> None:
    m = _mapping(tmp_path, CHILDREN)
    d = {"source": "shop_eu", "stream": "orders"}
    mapped = m.apply(CHILD_RECORDS, d)
    lines = mapped.tables["order_line"].to_pylist()
    assert [(r["order_number"], r["sku"], r["description"]) for r in lines] == [
        ("1", "A", "shipped"),
        (None, "DFLT", "cancelled"),
        ("2", None, "open"),
    ]
    assert mapped.tables["sales_order"].to_pylist()[0]["channel"] == "shop_eu"
    assert [r.rule for r in mapped.errors[1]] == ["required", "type datetime"]
    col = m.apply_table(pa.Table.from_pylist(CHILD_RECORDS), d)
    for entity, tbl in mapped.tables.items():
        assert col.tables[entity].to_pylist() == tbl.to_pylist()
    assert col.errors == {k: v for k, v in mapped.errors.items() if v}
    assert m.apply(CHILD_RECORDS, {"stream": "other"}).tables["sales_order"]["channel"].null_count


OWN = """\
mapping: t.own
version: 1
entity: sales_order
external_id: {field: order_number}
updated_at: {coalesce: [{field: ordered_at}, {path: changed, format: epoch_s}]}
fields:
  order_number: {path: no, transforms: [strip]}
  ordered_at: {path: placed, format: rfc2822}
"""


def test_update_time_and_external_id_from_a_mapped_field(tmp_path: Path) -> None:
    m = _mapping(tmp_path, OWN)
    records = [
        {"no": " 7 ", "placed": "Tue, 03 Dec 2024 10:15:00 +0100", "changed": None},
        {"no": "8", "placed": None, "changed": "1733220900"},
    ]
    rows = m.apply(records).tables["sales_order"].to_pylist()
    assert [(r["_external_id"], r["_updated_at"]) for r in rows] == [
        ("7", dt.datetime(2024, 12, 3, 9, 15, tzinfo=UTC)),
        ("8", dt.datetime(2024, 12, 3, 10, 15, tzinfo=UTC)),
    ]
    _both(m, records)
    with pytest.raises(MappingError, match=r"m\.yaml:5: field 'shipped' is not mapped here"):
        _mapping(tmp_path, OWN.replace("{field: ordered_at}", "{field: shipped}"))
    with pytest.raises(MappingError, match="`field:` is for external_id and updated_at"):
        _mapping(tmp_path, OWN + "  channel: {field: order_number}\n")
