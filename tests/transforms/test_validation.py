"""great-expectations suites: built from the model, plus per-mapping rules; results per record."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from transforms.spec import Rule
from transforms.validation import validate


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{**r, "_record": 10 + i} for i, r in enumerate(rows)], dtype=object)


def test_model_suite_flags_exactly_the_bad_rows() -> None:
    lines = frame(
        [
            {
                "order_number": "1",
                "line_no": 1,
                "sku": "A",
                "qty_ordered": Decimal(2),
                "unit_price": Decimal("9.5"),
            },
            {
                "order_number": "1",
                "line_no": 2,
                "sku": None,
                "qty_ordered": Decimal(1),
                "unit_price": Decimal(1),
            },
            {
                "order_number": "1",
                "line_no": 3,
                "sku": "B",
                "qty_ordered": Decimal(-1),
                "unit_price": Decimal(1),
            },
        ]
    )
    out = validate("order_line", lines)
    assert set(out) == {11, 12}
    assert [r.field for r in out[11]] == ["sku"]
    assert [(r.field, r.rule) for r in out[12]] == [("qty_ordered", "expect between")]
    assert out[12][0].message.endswith("; got -1")


def test_vocabularies_and_currency() -> None:
    orders = frame(
        [
            {"order_number": "1", "status": "open", "currency": "USD"},
            {"order_number": "2", "status": "teleported", "currency": "usd"},
        ]
    )
    out = validate("sales_order", orders)
    assert list(out) == [11]
    assert sorted(r.field for r in out[11]) == ["currency", "status"]


def test_mapping_rules() -> None:
    orders = frame(
        [
            {
                "order_number": "1",
                "grand_total": Decimal(50),
                "channel": "web",
                "ship_method": "UPS Ground",
            },
            {
                "order_number": "2",
                "grand_total": Decimal(500000),
                "channel": "web",
                "ship_method": "UPS Ground",
            },
            {"order_number": "3", "grand_total": Decimal(5), "channel": "fax", "ship_method": None},
            {
                "order_number": "4",
                "grand_total": Decimal(5),
                "channel": "web",
                "ship_method": "by mule",
            },
        ]
    )
    rules = [
        Rule(field="grand_total", max=100000, name="implausible total"),
        Rule.model_validate({"field": "channel", "in": ["web", "pos"]}),
        Rule(field="ship_method", not_null=True),
        Rule(field="ship_method", regex=r"^(?:UPS|USPS|FedEx)\b"),
    ]
    out = validate("sales_order", orders, rules)
    assert {k: sorted(r.field for r in v) for k, v in out.items()} == {
        11: ["grand_total"],
        12: ["channel", "ship_method"],
        13: ["ship_method"],
    }
    assert "implausible total" in out[11][0].message


def test_nothing_to_check_is_fine() -> None:
    assert validate("location", frame([])) == {}
