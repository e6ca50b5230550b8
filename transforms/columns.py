"""The canonical columns a mapping may fill, and the type each one converts to by default.

Read from the store's models (`oms.entities`), so a mapping is checked against the
columns the store really has.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Date, Integer

from oms.entities import entity_spec
from oms.types import Money, UTCDateTime


def default_type(entity: str, column: str) -> str:
    """The mapping type a column converts to when the field names no `type:`."""
    return type_of(entity_spec(entity).table.columns[column])


def type_of(col: Column[Any]) -> str:
    """The mapping type of a store column (string, int, decimal, bool, datetime, date)."""
    t = col.type
    if isinstance(t, Money):
        return "decimal"
    if isinstance(t, UTCDateTime):
        return "datetime"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, Integer):
        return "int"
    return "string"


def entity_columns(entity: str) -> list[str]:
    """The columns a mapping may fill (no provenance, ids or derived columns)."""
    return entity_spec(entity).data_columns


def implicit_key(entity: str) -> tuple[str, ...]:
    """Natural-key columns the store fills when a mapping leaves them out (oms.entities)."""
    return entity_spec(entity).implicit_key
