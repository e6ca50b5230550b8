"""The mapping compiler: precise errors at compile time, per-record reasons at run time."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from transforms.codes import CodeList
from transforms.compiler import compile_mapping
from transforms.errors import MappingError

CODES = {
    "status": CodeList("status", {"a": "open", "c": "completed"}, True, "config/codes/status.yaml")
}

BASE = """\
mapping: t.orders
version: 3
entity: sales_order
external_id: id
updated_at: updated
fields:
  order_number: {path: no, required: true}
  status: {path: st, code: status}
  grand_total: total
  ordered_at: {path: at, tz: UTC}
children:
  - entity: order_line
    path: lines
    fields:
      order_number: {parent: order_number}
      line_no: {index: 1}
      sku: {path: sku, transforms: [strip, upper], required: true}
      qty_ordered: qty
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_compiles_and_maps_a_batch(tmp_path: Path) -> None:
    m = compile_mapping(write(tmp_path, BASE), CODES)
    assert (m.name, m.version, m.entities) == ("t.orders", "3", ["sales_order", "order_line"])
    batch = m.apply(
        [
            {
                "id": 7,
                "no": "1001",
                "st": "A",
                "total": "10.50",
                "at": "2026-11-20 10:00",
                "updated": "2026-11-20T10:05:00Z",
                "lines": [{"sku": " ab ", "qty": "2"}, {"sku": "c", "qty": 1}],
            },
        ]
    )
    assert not batch.errors
    order = batch.frames["sales_order"].iloc[0]
    assert order["status"] == "open" and order["grand_total"] == Decimal("10.50")
    assert order["ordered_at"] == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    assert order["_external_id"] == "7"
    lines = batch.frames["order_line"]
    assert lines["sku"].tolist() == ["AB", "C"]
    assert lines["line_no"].tolist() == [1, 2]
    assert lines["order_number"].tolist() == ["1001", "1001"]
    assert lines["_external_id"].tolist() == ["1001|1", "1001|2"]  # default: the natural key


def test_bad_values_reject_their_record_only(tmp_path: Path) -> None:
    m = compile_mapping(write(tmp_path, BASE), CODES)
    batch = m.apply(
        [
            {"no": "1", "st": "zz", "total": "x", "lines": [{"sku": None, "qty": 1}]},
            {"no": "2", "st": "c", "total": "1", "lines": []},
        ]
    )
    reasons = batch.errors[0]
    assert batch.bad_records() == {0}
    rules = sorted((r.field, r.rule) for r in reasons)
    assert rules == [
        ("grand_total", "type decimal"),
        ("sku", "required"),
        ("status", "code status"),
    ]
    msg = next(r.message for r in reasons if r.field == "status")
    assert "m.yaml:8 field 'status'" in msg and "unknown code 'zz'" in msg


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("entity: sales_order", "entity: salesorder", ":3: unknown canonical entity 'salesorder'"),
        (
            "  grand_total: total",
            "  grand_totl: total",
            ":9 field 'grand_totl': sales_order has no column",
        ),
        (
            "  order_number: {path: no, required: true}\n",
            "",
            "natural key of sales_order not mapped: order_number",
        ),
        ("code: status", "code: nope", ":8 field 'status': unknown code list 'nope'"),
        ("[strip, upper]", "[strip, shout]", ":17 field 'sku': unknown transform 'shout'"),
        ("[strip, upper]", "[strip, {split: [1, 2, 3, 4]}]", "transform 'split': too many"),
        ("{parent: order_number}", "{parent: nope}", "parent field 'nope' is not mapped"),
        ("path: lines", "path: lines[", "bad path"),
        ("grand_total: total", "grand_total: {expr: 'eval(1)'}", "unknown function 'eval'"),
        ("grand_total: total", "grand_total: {path: a, const: 1}", "exactly one of"),
        ("version: 3", "version: 3\nbogus: 1", "bogus"),
        ("tz: UTC", "tz: Nowhere/City", "unknown time zone"),
        (
            "line_no: {index: 1}",
            "line_no: {index: 1}\n      status: open",
            "order_line has no column 'status'",
        ),
    ],
)
def test_compile_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in BASE
    with pytest.raises(MappingError) as e:
        compile_mapping(write(tmp_path, BASE.replace(old, new, 1)), CODES)
    assert message in str(e.value)
    assert "m.yaml" in str(e.value)


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"m.yaml:\d+: invalid YAML"):
        compile_mapping(write(tmp_path, "mapping: x\nversion: 1\nfields: [a\n"), CODES)


def test_filter_skips_and_counts(tmp_path: Path) -> None:
    text = BASE.replace("external_id: id", "external_id: id\nfilter: \"st != 'c'\"")
    m = compile_mapping(write(tmp_path, text), CODES)
    batch = m.apply([{"no": "1", "st": "a", "lines": []}, {"no": "2", "st": "c", "lines": []}])
    assert batch.frames["sales_order"]["order_number"].tolist() == ["1"]
    assert batch.filtered == 1


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    text = BASE + "description: !!python/object/apply:os.system ['true']\n"
    with pytest.raises(MappingError, match="invalid YAML"):
        compile_mapping(write(tmp_path, text), CODES)


def test_root_path_makes_each_array_item_a_row(tmp_path: Path) -> None:
    text = """\
mapping: t.products
version: 1
entity: product
path: variants
external_id: id
fields:
  sku: {path: sku, required: true}
  name: {expr: "join(' - ', _parent.title, title)"}
"""
    m = compile_mapping(write(tmp_path, text), CODES)
    batch = m.apply(
        [
            {
                "title": "Tee",
                "variants": [
                    {"id": 1, "sku": "T-S", "title": "S"},
                    {"id": 2, "sku": "T-M", "title": "M"},
                ],
            },
            {"title": "Cap", "variants": [{"id": 3, "sku": None, "title": "OS"}]},
        ]
    )
    rows = batch.frames["product"]
    assert rows["name"].tolist() == ["Tee - S", "Tee - M", "Cap - OS"]
    assert rows["_record"].tolist() == [0, 0, 1]
    assert batch.bad_records() == {1}  # a bad variant rejects its whole source record


def test_scope_is_left_to_the_store_or_said_explicitly(tmp_path: Path) -> None:
    """An unmapped `order_origin` is not in the frame (the loader makes it the loading
    system); a mapping quoting another system's order writes it, and it reaches the lines."""
    record = {"id": 7, "no": "1001", "total": "1", "lines": [{"sku": "a", "qty": 1}]}
    own = compile_mapping(write(tmp_path, BASE), CODES).apply([record])
    assert "order_origin" not in own.frames["sales_order"]
    assert own.frames["sales_order"]["_external_id"].tolist() == ["7"]
    quoting = BASE.replace(
        "  status: {path: st, code: status}\n", "  order_origin: {const: shopify}\n"
    ).replace(
        "      line_no: {index: 1}\n",
        "      order_origin: {parent: order_origin}\n      line_no: {index: 1}\n",
    )
    frames = compile_mapping(write(tmp_path, quoting), CODES).apply([record]).frames
    assert frames["sales_order"]["order_origin"].tolist() == ["shopify"]
    assert frames["order_line"]["order_origin"].tolist() == ["shopify"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (  # the customer key is the store's: email, else <system>:<external id>
            "mapping: c\nversion: 1\nentity: customer\nexternal_id: id\n"
            "fields:\n  customer_key: id\n",
            "customer has no column 'customer_key'",
        ),
        (
            "mapping: c\nversion: 1\nentity: customer\nfields:\n  first_name: n\n",
            "customer: give `external_id`",
        ),
        (  # a tracking number means nothing without its carrier
            "mapping: s\nversion: 1\nentity: shipment\nexternal_id: id\n"
            "fields:\n  tracking_number: t\n",
            "natural key of shipment not mapped: carrier",
        ),
    ],
)
def test_identity_columns_the_mapping_must_or_must_not_write(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(MappingError, match=message):
        compile_mapping(write(tmp_path, text), CODES)
