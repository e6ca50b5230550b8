"""The `connector:` block and the streams' `options:` of a `type: sql` source.

Where the database is comes from the connection named by `conn_id` (host, port, login,
password, schema = database; for SQLite, schema = the file) or from a `url` without a
password: a URL with a password in it is refused, as any secret written in YAML is.
A stream reads a `table` (identifiers checked here, quoted by SQLAlchemy when the
statement is built) or a `query` (one SELECT, wrapped as a subquery; its values are
bound from `params`, never formatted into the text).
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.base import DEFAULT_CHUNK
from connectors.config import StreamOptions, TransportConfig
from connectors.credentials import is_secret_key

#: a plain identifier: a letter or `_` first, then letters, digits, `_` or `$`
_IDENT = re.compile(r"[^\W\d][\w$]{0,127}")
#: the first word of a query: one SELECT (or a WITH ... SELECT)
_FIRST_WORD = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(\w+)", re.S)
#: bound parameter names the transport uses itself
RESERVED_PREFIX = "omshub_"

Scalar = str | int | float | bool | None


def identifier(value: str, what: str) -> str:
    """`value` when it is a plain identifier (ValueError naming `what` otherwise)."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is not a plain identifier (letters, digits, `_`, `$`; not"
            " starting with a digit); to read an expression, write a `query`"
        )
    return value


def check_url(url: str) -> str:
    """`url` unless it holds a password (inline or as a query key): secrets are refused."""
    parts = urlsplit(url)
    if not parts.scheme:
        raise ValueError("url must be a SQLAlchemy URL such as postgresql://host/db")
    try:
        has_password = parts.password is not None
    except ValueError:
        has_password = False
    secret_keys = [k for k, _ in parse_qsl(parts.query) if is_secret_key(k)]
    if has_password or secret_keys:
        raise ValueError(
            "url holds a password: secrets belong in an Airflow connection named by"
            " `conn_id` (or AIRFLOW_CONN_<ID> in the environment), never in YAML"
        )
    return url


class SqlConfig(TransportConfig):
    """`connector: {type: sql, conn_id: ...}` or `connector: {type: sql, url: ...}`."""

    type: Literal["sql"] = "sql"
    url: str | None = Field(
        None,
        min_length=1,
        description="SQLAlchemy URL without a password (sqlite:///erp.db, postgresql://h/db);"
        " else the connection's",
    )
    database: str | None = Field(
        None, min_length=1, description="database (SQLite: file) instead of the connection's schema"
    )
    connect_timeout_seconds: float = Field(15, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _no_password(cls, v: str | None) -> str | None:
        return None if v is None else check_url(v)

    @model_validator(mode="after")
    def _one_place(self) -> SqlConfig:
        if (self.url is None) == (self.conn_id is None):
            raise ValueError("give either `conn_id` (a connection) or `url` (without password)")
        return self


class SqlStream(StreamOptions):
    """One stream: a `table` or a `query`, its cursor and tiebreak, and the chunk size."""

    table: str | None = Field(None, description="table to read, optionally schema.table")
    query: str | None = Field(None, min_length=1, description="one SELECT, read as a subquery")
    params: dict[str, Scalar] = Field(
        default_factory=dict, description="values bound to the query's :name parameters"
    )
    columns: list[str] | None = Field(
        None, min_length=1, description="columns to read (default: all); cursor and tiebreak added"
    )
    cursor_column: str | None = Field(
        None, description="the watermark column (a timestamp or a number); none = full reads"
    )
    tiebreak: list[str] = Field(
        default_factory=list,
        description="key columns, unique together with the cursor, that order rows within it",
    )
    chunk_rows: int = Field(DEFAULT_CHUNK, ge=1, le=10_000_000, description="rows per batch")

    @field_validator("tiebreak", mode="before")
    @classmethod
    def _listed(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("table")
    @classmethod
    def _table(cls, v: str | None) -> str | None:
        if v is not None:
            parts = v.split(".")
            if len(parts) > 2:
                raise ValueError(f"table {v!r}: write `table` or `schema.table`")
            for part in parts:
                identifier(part, "table name part")
        return v

    @field_validator("query")
    @classmethod
    def _select(cls, v: str | None) -> str | None:
        if v is None:
            return v
        text = v.strip().removesuffix(";").rstrip()
        first = _FIRST_WORD.match(text)
        if first is None or first.group(1).lower() not in ("select", "with"):
            raise ValueError("query must be one SELECT (or WITH ... SELECT) statement")
        if ";" in _strip_literals(text):
            raise ValueError("query must be one statement (no `;` inside)")
        return text

    @model_validator(mode="after")
    def _consistent(self) -> SqlStream:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either `table` or `query`")
        if self.params and self.query is None:
            raise ValueError("`params` are bound into a `query`; a `table` has none")
        for name in self.params:
            identifier(name, "parameter name")
            if name.startswith(RESERVED_PREFIX):
                raise ValueError(f"parameter {name!r}: names starting {RESERVED_PREFIX} are ours")
        for col in [*(self.columns or ()), *self.tiebreak]:
            identifier(col, "column")
        if self.cursor_column is not None:
            identifier(self.cursor_column, "cursor_column")
            if self.cursor_column in self.tiebreak:
                raise ValueError("cursor_column cannot also be a tiebreak column")
        elif not self.tiebreak:
            raise ValueError("give `cursor_column` (incremental) or `tiebreak` (full reads)")
        if len(set(self.tiebreak)) != len(self.tiebreak):
            raise ValueError("tiebreak names a column twice")
        return self

    @property
    def order(self) -> list[str]:
        """The columns rows are read in order of: the cursor, then the tiebreak."""
        return [*([self.cursor_column] if self.cursor_column else []), *self.tiebreak]


def _strip_literals(text: str) -> str:
    """`text` without quoted strings, quoted names and comments (to look for a `;`)."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", "", text, flags=re.S)
