"""Small SQL helpers shared by the loader's bulk look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def in_values(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter.

    With 900 separate parameters per look-up, psycopg spent more time parsing and binding
    the statement than the server spent running it (bench/e2e.py profile).
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)  # type: ignore[no-any-return]
