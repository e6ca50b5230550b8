"""The declarative base every store table shares, and `table()` to work on its Core table.

One `MetaData` with a naming convention, so constraint names are the same on SQLite and
PostgreSQL and Alembic migrations can name what they drop.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


Id = String(36)


def table(model: type[Base]) -> Table:
    """The Core table of a model, typed as `Table` (the loader works set-based on Core)."""
    return cast(Table, model.__table__)
