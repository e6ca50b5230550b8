"""The fast checker of `mapping test` gives great-expectations' verdicts, value by value.

Both run on the same Arrow tables through `validate` (GX with `checker="gx"`, the
pipeline's default): every column type a mapping produces, nulls, NaN, decimals, integers
with and without nulls, and every check kind of the model suites and of `rules:`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from transforms.fastcheck import judge_fast, passes
from transforms.spec import Rule
from transforms.validation import Check, validate

UTC = dt.UTC


def _table(columns: dict[str, pa.Array]) -> pa.Table:
    n = len(next(iter(columns.values())))
    return pa.table({**columns, "_record": pa.array(range(n), pa.int64())})


def _reasons(entity: str, tbl: pa.Table, rules: list[Rule], checker: Any) -> list[Any]:
    found = validate(entity, tbl, rules, "w: ", checker)
    return sorted((rec, r.as_dict()["message"]) for rec, rs in found.items() for r in rs)


CASES: list[tuple[str, dict[str, pa.Array], list[Rule]]] = [
    (
        "inventory_snapshot",
        {
            "sku": pa.array(["A", None, "", "B", "A"]),
            "location_code": pa.array(["W1", "W1", None, "W2", "W1"]),
            "on_hand": pa.array(
                [Decimal("5"), Decimal("-5"), None, Decimal("0"), Decimal("-0.01")],
                pa.decimal128(18, 4),
            ),
            "allocated": pa.array([1, None, -2, 0, 3], pa.int64()),
        },
        [Rule(field="sku", regex=r"^[A-Z]$", name="one letter")],
    ),
    (
        "sales_order",
        {
            "order_number": pa.array(["1", "2", None, "4"]),
            "currency": pa.array(["USD", "usd", None, "EURO"]),
            "status": pa.array(["open", "bogus", None, "shipped"]),
            "grand_total": pa.array([1.5, float("nan"), -1.0, None], pa.float64()),
            "ordered_at": pa.array(
                [dt.datetime(2026, 1, 1, tzinfo=UTC), None, None, dt.datetime(2026, 1, 2)],
                pa.timestamp("us", "UTC"),
            ),
        },
        [
            Rule(field="grand_total", min=0, max=1.5),
            Rule(field="order_number", **{"in": ["1", "4"]}),
            Rule(field="ordered_at", not_null=True),
            Rule(field="grand_total", regex=r"\.5$", name="halves"),
        ],
    ),
    (
        "customer",
        {
            "email": pa.array(["a@b.co", "not an email", None, "x@y", "A@B.CO"]),
            "phone": pa.array([None, None, None, None, None], pa.string()),
        },
        [Rule(field="phone", not_null=True), Rule(field="email", **{"in": ["a@b.co"]})],
    ),
    (
        "order_line",
        {
            "order_number": pa.array(["1", "1", "2"]),
            "line_no": pa.array([1, 2, 3], pa.int64()),
            "qty_ordered": pa.array([Decimal(1), Decimal(0), Decimal(-3)], pa.decimal128(18, 4)),
        },
        [
            Rule(field="line_no", regex=r"^[12]$"),
            Rule(field="line_no", **{"in": [1, 3.0]}),
            Rule(field="qty_ordered", max=0.5),
        ],
    ),
]


@pytest.mark.parametrize("entity,columns,rules", CASES, ids=[c[0] for c in CASES])
def test_fast_checker_agrees_with_great_expectations(
    entity: str, columns: dict[str, pa.Array], rules: list[Rule]
) -> None:
    tbl = _table(columns)
    gx = _reasons(entity, tbl, rules, "gx")
    assert gx, "a case where nothing fails proves nothing"
    assert _reasons(entity, tbl, rules, "fast") == gx


def test_a_range_check_on_text_fails_to_run_as_with_gx() -> None:
    tbl = _table({"sku": pa.array(["A", "B"])})
    check = Check("sku", "between", (0, None), "r")
    with pytest.raises(RuntimeError, match=r"validation of x\.sku failed to run"):
        judge_fast("x", [check], tbl)


def test_nulls_pass_every_check_but_not_null() -> None:
    for kind, arg in (("in_set", ["a"]), ("regex", "^a$"), ("between", (0, 1))):
        assert passes(Check("c", kind, arg), None)
        assert passes(Check("c", kind, arg), float("nan"))
    assert not passes(Check("c", "not_null"), None)
    assert not passes(Check("c", "not_null"), float("nan"))
    assert passes(Check("c", "regex", r"^1\.0$"), 1.0)  # str(value) is searched, as GX does


def test_great_expectations_results_are_paired_with_their_own_checks() -> None:
    """GX returns results grouped by column, not in the suite's order: each reason must
    still name the check that failed (a -5 on hand is negative stock, not a null)."""
    entity, columns, rules = CASES[0]
    gx = _reasons(entity, _table(columns), rules, "gx")
    assert (1, "w: inventory_snapshot.on_hand must be >= 0 (not negative); got -5") in gx
    assert not [m for _, m in gx if "allocated must be >= 0" in m and m.endswith("got None")]
