import datetime as dt
from decimal import Decimal

import pytest

from transforms.casts import caster, to_bool, to_decimal, to_int
from transforms.functions import registry

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "fmt", "tz", "expected"),
    [
        (
            "2026-11-19T09:14:22-05:00",
            None,
            None,
            dt.datetime(2026, 11, 19, 14, 14, 22, tzinfo=UTC),
        ),
        ("2026-11-21T09:15:00.000+0000", None, None, dt.datetime(2026, 11, 21, 9, 15, tzinfo=UTC)),
        ("2026-11-21T06:00:00Z", None, None, dt.datetime(2026, 11, 21, 6, tzinfo=UTC)),
        (
            "20261121 101500",
            "%Y%m%d %H%M%S",
            "Europe/Berlin",
            dt.datetime(2026, 11, 21, 9, 15, tzinfo=UTC),
        ),
        ("2026-07-01 12:00", None, "America/New_York", dt.datetime(2026, 7, 1, 16, tzinfo=UTC)),
    ],
)
def test_datetimes_become_utc(
    value: str, fmt: str | None, tz: str | None, expected: dt.datetime
) -> None:
    assert caster("datetime", fmt, tz)(value) == expected


def test_naive_datetime_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        caster("datetime")("2026-11-21 10:00:00")


def test_unknown_zone_is_a_mapping_problem() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        caster("datetime", None, "Mars/Olympus")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19.99", Decimal("19.99")),
        (" 1,299.50 ", Decimal("1299.50")),
        (3, Decimal(3)),
        (0.1, Decimal("0.1")),
    ],
)
def test_decimals_are_exact(value: object, expected: Decimal) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", True, ["1", "2"], {"a": 1}])
def test_bad_decimals(bad: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(bad)


def test_int_and_bool() -> None:
    assert to_int("000010") == 10
    assert to_int("3.0") == 3
    with pytest.raises(ValueError, match="whole number"):
        to_int("1.5")
    assert to_bool("Y") is True and to_bool("no") is False
    with pytest.raises(ValueError):
        to_bool("maybe")


def test_date_cast() -> None:
    assert caster("date")("2026-11-25") == dt.date(2026, 11, 25)
    assert caster("date", "%Y%m%d")("20261125") == dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("name", "args", "value", "expected"),
    [
        ("strip", [], "  a ", "a"),
        ("strip", [], "   ", None),
        ("lstrip", ["0"], "0000045001", "45001"),
        ("replace", ["#", ""], "#1001", "1001"),
        ("split", ["-", 1], "NW-TEE-BLK", "TEE"),
        ("split", ["-", 9], "NW-TEE", None),
        ("cents", [], 1999, Decimal("19.99")),
        ("divide", [10], "000020", Decimal(2)),
        ("negate", [], "-2", Decimal(2)),
        ("zfill", [13], "850041199993", "0850041199993"),
        ("null_if", ["N/A"], "N/A", None),
        ("regex", [r"(\d+)"], "order 42", "42"),
        ("first", [], ["a", "b"], "a"),
        ("count", [], ["a", "b"], 2),
    ],
)
def test_builtin_transforms(name: str, args: list[object], value: object, expected: object) -> None:
    assert registry()[name].fn(value, *args) == expected


def test_every_transform_is_documented() -> None:
    assert all(fn.doc for fn in registry().values())
