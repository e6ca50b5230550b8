"""The whole flow on the demo systems (SQLite and PostgreSQL), and its failure modes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from projects import drop, shop_order, use_project
from sqlalchemy import Engine, func, select

from oms.errors import BatchFailed
from oms.models import BUSINESS_TABLES, Base, Binding, LandedBatch, Quarantine, SalesOrder
from omshub import pipeline
from omshub.config import sources
from omshub.report import stats, table_rows

ROOT = Path(__file__).resolve().parents[2]
# the deliberately bad rows of demo/systems (see demo/README.md)
BAD = {
    ("shopify", "orders"): "disputed_hold",
    ("wms_3pl", "inventory"): "on_hand must be >= 0",
}


def release_to_3pl(engine: Engine) -> None:
    """What `make demo` does before Harborline's DAG: our 940s for ACME's orders, which
    Harborline's 945s name (a 945 for an order no 940 of ours named is refused)."""
    from omshub_airflow.demo import BEFORE

    from omshub.edi.send import send

    partner, set_id, keys = BEFORE["omshub_source_edi_harborline_3pl"]
    send(engine, partner, set_id, keys)


def run_all(engine: Engine, release: bool = False) -> list[pipeline.RunReport]:
    reports = []
    for name in sorted(sources()):
        if release and name == "edi_harborline_3pl":
            release_to_3pl(engine)
        reports.append(pipeline.run_source(name, engine=engine))
    for r in reports:
        assert r.ok, r.errors
    return reports


def changed(reports: list[pipeline.RunReport]) -> int:
    return sum(e["changed"] for r in reports for b in r.batches for e in b["entities"].values())


def test_demo_end_to_end_twice(engine: Engine, shipped_project: Path) -> None:
    first = run_all(engine, release=True)
    assert changed(first) > 0
    rows_after_first = table_rows(engine)
    second = run_all(engine)
    assert changed(second) == 0
    assert table_rows(engine) == rows_after_first

    data = stats(engine)
    systems = {s for per in data["entities"].values() for s in per}
    assert len(systems) >= 5, systems
    empty = [name for name, n in table_rows(engine).items() if n == 0]
    assert not empty, f"canonical entities without rows: {empty}"
    assert {r["changed"] for r in data["last_runs"]} == {0}

    # one web order known to the web shop, the ERP and the WMS is one row with their bindings
    b, so = Binding.__table__, SalesOrder.__table__
    with engine.connect() as conn:
        orders = conn.execute(
            select(func.count()).select_from(so).where(so.c.channel == "web")
        ).scalar()
        cid = conn.execute(select(so.c.id).where(so.c.order_number == "1001")).scalar()
        systems_1001 = {
            s for (s,) in conn.execute(select(b.c.system).where(b.c.canonical_id == cid))
        }
    assert orders == 15
    assert {"shopify", "sap", "wms"} <= systems_1001

    # exactly the deliberately bad records are quarantined, with their reasons
    q = Quarantine.__table__
    with engine.connect() as conn:
        entries = conn.execute(
            select(q.c.source, q.c.stream, q.c.reasons, q.c.raw_record).where(q.c.status == "open")
        ).all()
    assert len(entries) == 3, entries
    by_stream: dict[tuple[str, str], list[str]] = {}
    for source, stream, reasons, _raw in entries:
        by_stream.setdefault((source, stream), []).append(reasons)
    assert len(by_stream[("shopify", "orders")]) == 1
    assert "disputed_hold" in by_stream[("shopify", "orders")][0]
    wms = " ".join(by_stream[("wms_3pl", "inventory")])
    assert len(by_stream[("wms_3pl", "inventory")]) == 2
    assert "on_hand" in wms and "sku" in wms


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str) -> Path:
    return use_project(tmp_path, monkeypatch)


def test_bad_rows_quarantined_good_rows_load_then_replay_after_fix(
    project: Path, sqlite_store: str
) -> None:
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    drop(
        project,
        "a.json",
        [
            shop_order(1, "A1", total="10", updated_at="2026-11-20T10:00:00Z"),
            shop_order(2, "A2", status="weird", total="11", updated_at="2026-11-20T10:00:00Z"),
            shop_order(3, "A3", total="-1", updated_at="2026-11-20T11:00:00Z"),
            shop_order(4, "A4", total="12", updated_at="2026-11-20T09:00:00Z"),
        ],
    )
    report = pipeline.run_source("shop", engine=engine)
    assert report.ok
    so, q = SalesOrder.__table__, Quarantine.__table__
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(select(so.c.order_number))) == ["A1", "A4"]
        entries = conn.execute(
            select(q.c.record_key, q.c.reasons, q.c.raw_record, q.c.mapping_version).order_by(
                q.c.record_index
            )
        ).all()
        wm = conn.execute(
            select(func.max(BUSINESS_TABLES["sales_order"].__table__.c.source_updated_at))
        ).scalar()
    assert [e.record_key for e in entries] == ["2", "3"]
    assert "unknown code 'weird'" in entries[0].reasons
    assert "grand_total must be >= 0" in entries[1].reasons
    assert json.loads(entries[0].raw_record)["status"] == "weird"
    assert wm is not None

    # fix the code list, replay the quarantine: the fixed record loads, the other stays
    codes = project / "config/codes/shopify_financial_status.yaml"
    codes.write_text(codes.read_text() + "  weird: pending\n")
    pipeline.replay(batch_ids=[pipeline_batches(engine)[0]], engine=engine)
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(select(so.c.order_number))) == ["A1", "A2", "A4"]
        status = dict(conn.execute(select(q.c.record_key, q.c.status)).all())
    assert status == {"2": "replayed", "3": "open"}


def pipeline_batches(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(LandedBatch.__table__.c.batch_id))]


def test_reject_threshold_fails_loudly_and_loads_nothing(
    project: Path, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    drop(
        project,
        "a.json",
        [
            shop_order(1, "A1"),
            shop_order(2, "A2", status="bad"),
            shop_order(3, None),
        ],
    )
    run_id = pipeline.new_run_id()
    [batch] = pipeline.extract("shop", run_id, engine=engine)
    with pytest.raises(
        BatchFailed,
        match=r"^shop/orders a.json: 2 of 3 records of a.json failed validation \(67% > reject_threshold 50%",
    ) as failed:
        pipeline.process_batch(batch, run_id, engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SalesOrder.__table__)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(Quarantine.__table__)).scalar() == 2
        assert conn.execute(select(LandedBatch.__table__.c.status)).scalar() == "failed"
    assert failed.value.kind == "data" and not failed.value.retriable


def test_unparseable_file_is_kept_and_reported_and_others_load(
    project: Path, sqlite_store: str
) -> None:
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    drop(project, "a.json", [shop_order(1, "A1")])
    (project / "drop" / "b.json").write_text('{"orders": [ {"id": 2,, } ]}')
    report = pipeline.run_source("shop", engine=engine)
    assert not report.ok
    assert "b.json:1: invalid JSON" in report.errors[0]
    lb = LandedBatch.__table__
    with engine.connect() as conn:
        rows = dict(conn.execute(select(lb.c.original_name, lb.c.status)).all())
        uri = conn.execute(select(lb.c.uri).where(lb.c.original_name == "b.json")).scalar()
        assert conn.execute(select(func.count()).select_from(SalesOrder.__table__)).scalar() == 1
    assert rows == {"a.json": "loaded", "b.json": "failed"}
    assert Path(uri).read_text() == '{"orders": [ {"id": 2,, } ]}'  # kept as landed, byte for byte


def test_landing_writes_each_batch_once(project: Path, sqlite_store: str) -> None:
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    drop(project, "a.json", [shop_order(1, "A1")])
    first = pipeline.extract("shop", "r1", engine=engine)
    second = pipeline.extract("shop", "r2", engine=engine)
    assert first == second
    landed = [
        p
        for p in Path(engine.url.database).parent.glob("landing/shop/orders/*/*/*/*")
        if not p.name.endswith(".manifest.json")
    ]
    assert len(landed) == 1
    manifest = json.loads(Path(str(landed[0]) + ".manifest.json").read_text())
    assert manifest["original_name"] == "a.json" and len(manifest["sha256"]) == 64


def test_crash_mid_load_leaves_store_as_before_and_next_run_finishes(
    project: Path, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: the load dies after writing rows, before the watermark and commit."""
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    drop(
        project,
        "a.json",
        [
            shop_order(1, "A1", updated_at="2026-11-20T10:00:00Z"),
            shop_order(2, "A2", total="2", updated_at="2026-11-20T11:00:00Z"),
        ],
    )
    from omshub import watermark

    real = watermark.advance

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(watermark, "advance", crash)
    run_id = pipeline.new_run_id()
    [batch] = pipeline.extract("shop", run_id, engine=engine)
    with pytest.raises(BatchFailed, match=r"shop/orders a\.json: RuntimeError: worker killed"):
        pipeline.process_batch(batch, run_id, engine)
    tables = ("sales_order", "binding", "change_log", "watermark")
    with engine.connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(Base.metadata.tables[t]))  # noqa: E731
        counts = {t: count(t).scalar() for t in tables}
        status = conn.execute(select(LandedBatch.__table__.c.status)).scalar()
    assert counts == dict.fromkeys(tables, 0)
    assert status == "failed"  # recorded, and retried by the next run

    monkeypatch.setattr(watermark, "advance", real)
    report = pipeline.run_source("shop", engine=engine)  # the next run finishes the job
    assert report.ok
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SalesOrder.__table__)).scalar() == 2
        wm = conn.execute(select(Base.metadata.tables["watermark"].c.cursor_value)).scalar()
    assert wm == "2026-11-20T11:00:00+00:00"


def test_failed_extract_fails_the_run_and_publishes_nothing(
    project: Path, sqlite_store: str
) -> None:
    from connectors.errors import ConnectorError
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    shutil.rmtree(project / "drop")
    with pytest.raises(ConnectorError, match="does not exist"):
        pipeline.extract("shop", "r-missing", engine=engine)
    summary = pipeline.finish_run("shop", "r-missing", engine)
    assert summary.status == "failed"
    assert summary.message is not None and "extract failed:" in summary.message
    assert "does not exist" in summary.message
    sr = Base.metadata.tables["sync_run"]
    with engine.connect() as conn:
        assert conn.execute(select(sr.c.status)).scalar() == "failed"


def test_demo_identity_is_scoped_and_every_reference_resolves(
    engine: Engine, shipped_project: Path
) -> None:
    """Web order #1001 is one order of origin shopify, bound to the shop, the ERP and the
    WMS; every reference the systems quote explicitly finds its row (DESIGN.md §3)."""
    run_all(engine)
    t = {name: model.__table__ for name, model in BUSINESS_TABLES.items()}
    so, b = t["sales_order"], Binding.__table__
    with engine.connect() as conn:
        (order,) = conn.execute(select(so).where(so.c.order_number == "1001")).mappings().all()
        systems = {
            s for (s,) in conn.execute(select(b.c.system).where(b.c.canonical_id == order["id"]))
        }
        origins = set(conn.execute(select(so.c.channel, so.c.order_origin).distinct()).all())
        carriers = {c for (c,) in conn.execute(select(t["shipment"].c.carrier).distinct())}
        dangling = {
            f"{child}.{col}": conn.execute(
                select(func.count())
                .select_from(t[child])
                .where(t[child].c[col].is_not(None), t[child].c[col].not_in(select(t[parent].c.id)))
            ).scalar()
            for child, col, parent in (
                ("order_line", "order_id", "sales_order"),
                ("shipment", "order_id", "sales_order"),
                ("shipment_line", "shipment_id", "shipment"),
                ("shipment_line", "order_line_id", "order_line"),
                ("tracking_event", "shipment_id", "shipment"),
                ("rate_quote", "shipment_id", "shipment"),
                ("return_order", "order_id", "sales_order"),
                ("return_line", "return_id", "return_order"),
                ("return_line", "order_line_id", "order_line"),
            )
        }
    assert order["order_origin"] == "shopify"
    assert systems == {"shopify", "sap", "wms"}
    assert origins == {("web", "shopify"), ("pos", "square"), ("edi", "acme_retail")}
    assert carriers == {"ups", "usps", "fedex"}
    assert dangling == dict.fromkeys(dangling, 0)


def test_watermark_is_the_newest_mapped_updated_at_of_the_rows_loaded(
    project: Path, sqlite_store: str
) -> None:
    """A quarantined record's newer time does not move the watermark; offsets become UTC."""
    from oms.db import get_engine

    engine = get_engine(sqlite_store)
    drop(
        project,
        "a.json",
        [
            shop_order(1, "A1", updated_at="2026-11-20T12:00:00+02:00"),  # 10:00 UTC
            shop_order(2, "A2", updated_at="2026-11-20T09:30:00Z"),
            shop_order(3, None, updated_at="2026-12-01T00:00:00Z"),  # quarantined: no number
        ],
    )
    assert pipeline.run_source("shop", engine=engine).ok
    with engine.connect() as conn:
        wm = conn.execute(select(Base.metadata.tables["watermark"].c.cursor_value)).scalar()
        quarantined = conn.execute(
            select(func.count()).select_from(Base.metadata.tables["quarantine"])
        ).scalar()
    assert quarantined == 1
    assert wm == "2026-11-20T10:00:00+00:00"


def test_a_runs_last_step_is_the_hook_of_its_sources_kind(
    project: Path, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """finish_run calls the after-run hook registered for the source's kind (the EDI
    inbox's for `edi`), whatever the source is named, before the run is closed; a kind
    with no hook, or a source no longer configured, has none."""
    from oms.db import get_engine
    from omshub import runhooks

    engine = get_engine(sqlite_store)
    monkeypatch.setattr(runhooks, "_REGISTERED", {})
    seen: list[tuple[str, str, str]] = []
    runhooks.register_after_run(
        "channel", lambda e, cfg, run: seen.append((cfg.name, cfg.kind, run))
    )
    assert pipeline.run_source("shop", run_id="r-hook", engine=engine).ok
    assert seen == [("shop", "channel", "r-hook")]
    assert runhooks.after_run_hook("erp") is None
    from omshub.edi.batch import after_run

    assert runhooks.after_run_hook("edi") is after_run
    pipeline.finish_run("gone", "r-gone", engine)  # no such source: no hook, no error
    assert len(seen) == 1
