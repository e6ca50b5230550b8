"""Mapping language v2: `when:`, `match:`, `coalesce:` and `field:`, on the per-record
path and, with the same tables and reasons, on the columnar path (children included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tests.transforms.test_mapping_values import UTC, _both, _mapping, _messages, _rows
from transforms.errors import MappingError

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
