"""The examples of the transforms reference: a mapping field as written and one record.

The generator runs each through the real compiler, on both engines (per record and
columnar), and prints what comes out, so an example that is wrong, or that the two
engines disagree on, cannot be published. A named transform without an example here is
listed by `missing_examples()` (and fails tests/omshub/test_refdocs.py): add one below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Example:
    """`field` is YAML under a mapping's `fields:`; `record` one source record."""

    topic: str
    field: str
    record: dict[str, Any]
    entity: str = "sales_order"


def _ex(topic: str, field: str, **record: Any) -> Example:
    return Example(topic, field, record)


TRANSFORM_EXAMPLES: tuple[Example, ...] = (
    _ex("strip", "channel: {path: src, transforms: [strip]}", src="  web  "),
    _ex("strip", 'channel: {path: src, transforms: [{strip: "*"}]}', src="**web**"),
    _ex("lstrip", 'order_number: {path: VBELN, transforms: [{lstrip: "0"}]}', VBELN="0000045001"),
    _ex("upper", "currency: {path: cur, transforms: [upper]}", cur="usd"),
    _ex("lower", "customer_email: {path: email, transforms: [strip, lower]}", email=" Ann@X.COM "),
    _ex("title", "ship_to_city: {path: city, transforms: [title]}", city="NEW YORK"),
    _ex(
        "replace",
        'order_number: {path: num, transforms: [{replace: ["#", ""]}]}',
        num="#1001",
    ),
    _ex(
        "split",
        'ship_to_name: {path: name, transforms: [{split: [",", 1]}, strip]}',
        name="Doe, Ann",
    ),
    _ex(
        "substring",
        "ship_to_postal_code: {path: zip, transforms: [{substring: [0, 5]}]}",
        zip="10001-4356",
    ),
    _ex(
        "regex",
        'order_number: {path: ref, transforms: [{regex: ["PO-(\\\\d+)"]}]}',
        ref="see PO-4711 / rev 2",
    ),
    _ex("prefix", 'order_number: {path: id, transforms: [str, {prefix: "WEB-"}]}', id=1001),
    _ex("suffix", 'order_number: {path: id, transforms: [{suffix: "-R"}]}', id="1001"),
    _ex(
        "sum",
        "subtotal: {path: lines.price, transforms: [sum]}",
        lines=[{"price": "19.99"}, {"price": "5.01"}],
    ),
    _ex("min", "subtotal: {path: prices, transforms: [min]}", prices=["19.99", "5.01"]),
    _ex("max", "grand_total: {path: prices, transforms: [max]}", prices=["19.99", "5.01"]),
    _ex(
        "x12_date",
        'ordered_at: {path: BEG05, transforms: [x12_date], format: "%Y%m%d", tz: UTC}',
        BEG05="070629",
    ),
    _ex("zfill", "order_number: {path: id, transforms: [str, {zfill: 8}]}", id=4711),
    _ex("str", "order_number: {path: id, transforms: [str]}", id=1001),
    _ex("default", "channel: {path: channel, transforms: [{default: web}]}", channel=""),
    _ex(
        "null_if",
        'ship_to_region: {path: region, transforms: [{null_if: ["N/A", "-"]}]}',
        region="N/A",
    ),
    _ex(
        "coalesce",
        "customer_email: {expr: 'coalesce(email, billing.email)'}",
        email=None,
        billing={"email": "ann@x.com"},
    ),
    _ex("concat", "ship_to_name: {expr: \"concat(first, ' ', last)\"}", first="Ann", last="Doe"),
    _ex(
        "join",
        "ship_to_name: {expr: \"join(' ', title, first, last)\"}",
        title="",
        first="Ann",
        last="Doe",
    ),
    _ex("multiply", 'grand_total: {path: net, transforms: [{multiply: "1.2"}]}', net="10.50"),
    _ex(
        "divide", "grand_total: {path: total_cents, transforms: [{divide: 100}]}", total_cents=1999
    ),
    _ex(
        "divide", "grand_total: {path: total_cents, transforms: [{divide: 100}]}", total_cents="n/a"
    ),
    _ex("cents", "grand_total: {path: amount, transforms: [cents]}", amount=1999),
    _ex("negate", "discount_total: {path: discount, transforms: [negate]}", discount="-5"),
    _ex("abs", "discount_total: {path: discount, transforms: [abs]}", discount="-5.00"),
    _ex(
        "first",
        "customer_email: {path: emails, transforms: [first]}",
        emails=["ann@x.com", "a@y.org"],
    ),
    _ex("count", "ship_method: {path: parcels, transforms: [count, str]}", parcels=[{}, {}, {}]),
    _ex(
        "equals",
        "channel: {expr: \"'pos' if equals(source, 'square') else 'web'\"}",
        source="square",
    ),
    _ex("if_else", "channel: {expr: \"if_else(is_pos, 'pos', 'web')\"}", is_pos=True),
)

#: the expression language itself (operators, paths, `at()`), beyond the named functions
EXPR_EXAMPLES: tuple[Example, ...] = (
    _ex(
        "arithmetic",
        "grand_total: {expr: 'subtotal + tax - discount'}",
        subtotal="90.00",
        tax="7.20",
        discount="5",
    ),
    _ex("arithmetic", "grand_total: {expr: 'qty * price'}", qty=3, price="19.99"),
    _ex(
        "paths", "customer_email: {expr: 'lower(customer.email)'}", customer={"email": "Ann@X.com"}
    ),
    _ex(
        "paths",
        "ship_method: {expr: 'shipping_lines[0].title'}",
        shipping_lines=[{"title": "Express"}],
    ),
    _ex(
        "at",
        "order_number: {expr: \"at('REF[QUAL=PO].ID')\"}",
        REF=[{"QUAL": "IA", "ID": "77"}, {"QUAL": "PO", "ID": "4711"}],
    ),
    _ex("comparisons", "channel: {expr: \"'bulk' if qty >= 100 else 'retail'\"}", qty="250"),
    _ex(
        "boolean logic",
        "channel: {expr: \"'b2b' if company and not test else 'b2c'\"}",
        company="Acme",
        test=False,
    ),
    _ex("null", "grand_total: {expr: 'subtotal + shipping'}", subtotal="10", shipping=None),
)


def missing_examples(names: list[str]) -> list[str]:
    """Named transforms among `names` that have no example."""
    have = {e.topic for e in TRANSFORM_EXAMPLES}
    return [n for n in names if n not in have]
