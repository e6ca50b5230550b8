"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no exact decimal and no time zone: money is stored there as canonical decimal
text and times as UTC ISO text, so values read back compare equal to what was written
(the loader's idempotence depends on that).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


def normalize_decimal(value: Decimal) -> Decimal:
    """One representation per number: `1.50`, `1.5` and `1.500` compare and hash alike."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


class Money(TypeDecorator[Decimal]):
    """Exact decimal: NUMERIC(precision, scale) on PostgreSQL, decimal text on SQLite.

    Money and quantities use the default NUMERIC(18,4); coordinates use NUMERIC(10,7).
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 4) -> None:
        super().__init__(precision, scale, asdecimal=True)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(self.impl_instance)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
        return format(dec, "f") if dialect.name == "sqlite" else dec

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return normalize_decimal(Decimal(str(value)))


@lru_cache(maxsize=4096)
def _sqlite_text(value: dt.datetime) -> str:
    """Fixed-width UTC text, so SQLite orders and compares times correctly as strings.

    Cached: a batch repeats the same few times (run time, snapshot time) on every row.
    """
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetime; naive input is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: omshub stores timezone-aware UTC only")
        if dialect.name == "sqlite":
            return _sqlite_text(value)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
