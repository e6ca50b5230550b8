"""Source databases for the SQL transport tests: a SQLite file and a scratch PostgreSQL
database (`omshub_sqlsrc_<hex>`, distinct from any store), one schema per test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pgserver
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.credentials import from_uri
from connectors.registry import transport


@dataclass
class SourceDb:
    """A source database: `url` has no password (trust auth), `table` is this test's."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    schema: str | None = None

    @property
    def ts(self) -> str:
        return "timestamptz" if self.kind == "postgresql" else "text"

    def at(self, hhmm: str, day: int = 20) -> str:
        """A time on 2026-11-<day> as the backend's rows spell it (SQLite: naive text)."""
        if self.kind == "postgresql":
            return f"2026-11-{day:02d}T{hhmm}:00+00:00"
        return f"2026-11-{day:02d} {hhmm}:00"

    def name(self, table: str) -> str:
        return f"{self.schema}.{table}" if self.schema else table

    def run(self, sql: str, rows: Sequence[dict[str, Any]] | None = None) -> None:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text(sql), list(rows) if rows else {})
        finally:
            engine.dispose()

    def orders(self, rows: Sequence[tuple[int, str | None]], table: str = "orders") -> str:
        """A table of orders (id, updated_at, number, total); created when missing."""
        name = self.name(table)
        self.run(
            f"create table if not exists {name} (id integer not null primary key,"
            f" updated_at {self.ts}, number text not null, total numeric(12, 2))"
        )
        if rows:
            self.run(
                f"insert into {name} values (:id, :at, :number, :total)",
                [{"id": i, "at": at, "number": f"SO-{i}", "total": f"{i}.50"} for i, at in rows],
            )
        return name

    def transport(self, base: Path | None = None) -> Any:
        """SQLite by `url`; PostgreSQL by `conn_id`, credentials as AIRFLOW_CONN_<ID> has them."""
        base = base or Path.cwd()
        if self.kind == "sqlite":
            return transport("sql", {"url": self.url}, TransportContext("erp", base))
        creds = from_uri("erp_db", self.url.replace("postgresql+psycopg://", "postgres://", 1))
        return transport("sql", {"conn_id": "erp_db"}, TransportContext("erp", base, creds))

    def read(
        self, options: dict[str, Any], cursor: str | None = None, window: Any = None
    ) -> list[RawBatch]:
        """Every batch of one fetch of stream `orders`."""
        request = StreamRequest("orders", "ndjson", options, cursor, window)
        return list(self.transport().fetch(request))

    @staticmethod
    def ids(batches: list[RawBatch]) -> list[int]:
        """The `id` of every row of `batches`, in order."""
        return [json.loads(line)["id"] for b in batches for line in b.content.splitlines()]


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    url = pgserver.create_database("omshub_sqlsrc")
    yield url
    pgserver.drop_database(url)


@pytest.fixture
def pg_source(pg_database: str) -> SourceDb:
    db = SourceDb("postgresql", pg_database, f"erp_{uuid.uuid4().hex[:12]}")
    db.run(f"create schema {db.schema}")
    return db


@pytest.fixture
def sqlite_source(tmp_path: Path) -> SourceDb:
    path = tmp_path / "erp.db"
    import sqlite3

    sqlite3.connect(path).close()
    return SourceDb("sqlite", f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source_db(request: pytest.FixtureRequest) -> SourceDb:
    """The source on each backend."""
    name = "pg_source" if request.param == "postgresql" else "sqlite_source"
    db: SourceDb = request.getfixturevalue(name)
    return db
