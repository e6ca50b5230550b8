"""Extraction that fails half-way, transport cursors and finish hooks, through run_source.

A scripted transport (registered in-process, like an embedding application would) yields
the batches a test gives it, then fails where told: what it landed before failing loads,
the run still ends failed, and the next run resumes from the watermark.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from sqlalchemy import Engine, func, select

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.registry import register_transport
from oms.models import Base, SalesOrder
from omshub import pipeline
from tests.projects import shop_order, use_project

_lb = Base.metadata.tables["landed_batch"]
_wm = Base.metadata.tables["watermark"]


class ScriptedConfig(TransportConfig):
    type: Literal["scripted"] = "scripted"


class ScriptedStream(StreamOptions):
    pass


class Scripted:
    """Yields `pages` (lists of orders) as JSON batches; raises after `fail_after` pages."""

    kind: ClassVar[str] = "scripted"
    Config: ClassVar[type[TransportConfig]] = ScriptedConfig
    Stream: ClassVar[type[StreamOptions]] = ScriptedStream
    pages: ClassVar[list[list[dict[str, Any]]]] = []
    fail_after: ClassVar[int | None] = None
    cursors: ClassVar[list[str | None]] = []  # the cursor each fetch was given
    claim: ClassVar[bool] = False
    finished: ClassVar[list[tuple[str, bool, str | None]]] = []
    finish_fails: ClassVar[bool] = False
    refuse: ClassVar[str | None] = None  # a stream whose endpoint answers 404

    def __init__(self, config: ScriptedConfig, context: TransportContext) -> None:
        self.context = context

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        if request.stream == self.refuse:
            raise ConnectorConfigError(f"GET /{request.stream}.json: 404 Not Found")
        Scripted.cursors.append(request.cursor)
        for n, orders in enumerate(self.pages):
            if self.fail_after is not None and n >= self.fail_after:
                raise ConnectorError(f"page {n + 1}: 503 Service Unavailable after 5 tries")
            meta: dict[str, Any] = {"page": n + 1}
            if self.claim:
                meta.update(claim=True, path=f"processing/page{n + 1}.json")
            body = json.dumps({"orders": orders}).encode()
            yield RawBatch(body, f"page{n + 1}.json", request.format, metadata=meta)

    def finish(self, ref: dict[str, Any], ok: bool, reason: str | None) -> None:
        if Scripted.finish_fails:
            raise OSError("sftp: connection reset")
        Scripted.finished.append((ref["path"], ok, reason))


@pytest.fixture
def scripted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str) -> Engine:
    from oms.db import get_engine

    register_transport(Scripted)
    home = use_project(tmp_path, monkeypatch, incremental=True)
    src = home / "config/sources/shop.yaml"
    src.write_text(src.read_text().replace("{type: local_folder, path: drop}", "{type: scripted}"))
    src.write_text(src.read_text().replace('    pattern: "*.json"\n', ""))
    monkeypatch.setattr(Scripted, "pages", [])
    monkeypatch.setattr(Scripted, "fail_after", None)
    monkeypatch.setattr(Scripted, "cursors", [])
    monkeypatch.setattr(Scripted, "claim", False)
    monkeypatch.setattr(Scripted, "finished", [])
    monkeypatch.setattr(Scripted, "finish_fails", False)
    monkeypatch.setattr(Scripted, "refuse", None)
    return get_engine(sqlite_store)


def pages(n: int, per_page: int = 3) -> list[list[dict[str, Any]]]:
    """Orders in update order: page p holds ids p*per_page+1.., one minute apart."""
    out = []
    for p in range(n):
        out.append(
            [
                shop_order(i, f"N{i}", updated_at=f"2026-11-20T10:{i:02d}:00Z")
                for i in range(p * per_page + 1, (p + 1) * per_page + 1)
            ]
        )
    return out


def orders(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(SalesOrder.__table__)).scalar())


def mark(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(_wm.c.cursor_value)).scalar()


def test_a_transport_failing_half_way_loads_what_it_landed_and_fails_the_run(
    scripted: Engine,
) -> None:
    Scripted.pages, Scripted.fail_after = pages(4), 2
    report = pipeline.run_source("shop", engine=scripted)
    assert not report.ok and report.status == "failed"
    assert report.summary is not None and report.summary.message is not None
    assert "stream orders: page 3: 503 Service Unavailable" in report.summary.message
    assert orders(scripted) == 6  # pages 1 and 2 loaded
    assert mark(scripted) == "2026-11-20T10:06:00+00:00"
    Scripted.fail_after = None  # the source is healthy again
    report = pipeline.run_source("shop", engine=scripted)
    assert report.ok, report.summary
    assert Scripted.cursors == [None, "2026-11-20T10:06:00+00:00"]  # resumed from there
    assert orders(scripted) == 12
    assert mark(scripted) == "2026-11-20T10:12:00+00:00"


def test_a_refused_endpoint_fails_its_stream_only(scripted: Engine, tmp_path: Path) -> None:
    src = tmp_path / "proj/config/sources/shop.yaml"
    second = "\n  - name: returns\n    format: {type: json, records_path: orders}\n"
    src.write_text(src.read_text() + second + "    mapping: shop/orders.yaml\n")
    Scripted.pages, Scripted.refuse = pages(1), "returns"
    report = pipeline.run_source("shop", engine=scripted)
    assert report.status == "failed"
    assert report.summary is not None and report.summary.message is not None
    assert "stream returns: GET /returns.json: 404 Not Found" in report.summary.message
    assert orders(scripted) == 3  # the other stream loaded


def test_a_transport_failing_before_any_batch_raises_and_fails_the_run(
    scripted: Engine,
) -> None:
    Scripted.pages, Scripted.fail_after = pages(2), 0
    with pytest.raises(ConnectorError, match="503"):
        pipeline.run_source("shop", engine=scripted)
    sr = Base.metadata.tables["sync_run"]
    with scripted.connect() as conn:
        status, message = conn.execute(select(sr.c.status, sr.c.message)).one()
    assert status == "failed" and "extract failed: page 1: 503" in message


def test_claimed_batches_are_finished_once_after_load_and_on_discard(scripted: Engine) -> None:
    Scripted.pages, Scripted.claim = pages(2), True
    assert pipeline.run_source("shop", engine=scripted).ok
    assert Scripted.finished == [
        ("processing/page1.json", True, None),
        ("processing/page2.json", True, None),
    ]
    with scripted.connect() as conn:
        assert set(conn.execute(select(_lb.c.origin_done)).scalars()) == {"archived"}
    # the same bytes claimed again (a re-delivered file): finished at once, not reloaded
    Scripted.finished.clear()
    report = pipeline.run_source("shop", engine=scripted)
    assert report.ok and report.batches == []
    assert [ok for _, ok, _ in Scripted.finished] == [True, True]


def test_a_failed_finish_never_undoes_the_load_and_the_next_run_settles_it(
    scripted: Engine,
) -> None:
    Scripted.pages, Scripted.claim, Scripted.finish_fails = pages(1), True, True
    assert pipeline.run_source("shop", engine=scripted).ok
    assert orders(scripted) == 3
    with scripted.connect() as conn:
        assert conn.execute(select(_lb.c.origin_done)).scalar() is None
    Scripted.finish_fails, Scripted.pages = False, []
    assert pipeline.run_source("shop", engine=scripted).ok
    assert Scripted.finished == [("processing/page1.json", True, None)]


def test_a_discarded_batch_goes_to_error_with_the_reason(scripted: Engine) -> None:
    from omshub.batches import discard_batch

    bad = [shop_order(1, None, updated_at="2026-11-20T10:00:00Z")] * 3  # all rejected
    Scripted.pages, Scripted.claim = [bad], True
    report = pipeline.run_source("shop", engine=scripted)
    assert not report.ok and Scripted.finished == []  # failed, not yet for good
    with scripted.connect() as conn:
        batch_id = conn.execute(select(_lb.c.batch_id)).scalar_one()
    discard_batch(scripted, batch_id, "duplicate test file", "ops")
    assert Scripted.finished == [
        ("processing/page1.json", False, "discarded by ops: duplicate test file")
    ]


class CursorScripted(Scripted):
    """The same, with the transport's own cursor on each batch (like a SQL source)."""

    kind: ClassVar[str] = "cursor_scripted"

    class Config(TransportConfig):
        type: Literal["cursor_scripted"] = "cursor_scripted"

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        for raw in super().fetch(request):
            n = raw.metadata["page"]
            yield RawBatch(raw.content, raw.name, raw.format, cursor_to=f"{n:04d}")

    @classmethod
    def cursor_key(cls, value: str) -> tuple[int]:
        return (int(value),)


def test_a_transport_cursor_moves_the_watermark_and_never_back(
    scripted: Engine, tmp_path: Path
) -> None:
    register_transport(CursorScripted)
    src = tmp_path / "proj/config/sources/shop.yaml"
    src.write_text(src.read_text().replace("{type: scripted}", "{type: cursor_scripted}"))
    from omshub.config import _load_sources

    _load_sources.cache_clear()
    Scripted.pages = pages(3)
    assert pipeline.run_source("shop", engine=scripted).ok
    assert mark(scripted) == "0003"  # the transport's cursor, not the mapped updated_at
    with scripted.begin() as conn:  # an older batch loading later must not move it back
        from omshub.watermark import advance_to

        advance_to(conn, "shop", "orders", "0002", "r", CursorScripted.cursor_key)
    assert mark(scripted) == "0003"
