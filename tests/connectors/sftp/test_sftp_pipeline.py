"""End to end: a source whose connector is SFTP (conn_id + AIRFLOW_CONN_<ID> JSON with a
pinned host key and a private key) loads a partner's files through omshub.pipeline, then
archives the loaded file and moves the unreadable one to error/ with its reason."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from projects import shop_order, write_source
from sqlalchemy import Engine, func, select
from sshserver import SshServer

from oms.models import LandedBatch, SalesOrder
from omshub import pipeline


def test_an_sftp_source_loads_archives_and_moves_bad_files_to_error(
    sshd: SshServer, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = sshd.folder(f"pipeline_{engine.dialect.name}_{time.monotonic_ns()}")
    home = write_source(tmp_path / "proj")
    yaml = home / "config/sources/shop.yaml"
    connector = (
        f"connector: {{type: sftp, conn_id: partner_sftp, path: {inbox}, settle_seconds: 0}}"
    )
    text = re.sub(r"connector: \{[^}]*\}", connector, yaml.read_text())
    yaml.write_text(text.replace("retries: 0", "retries: 0\nmax_batch_attempts: 1"))
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    monkeypatch.setenv("AIRFLOW_CONN_PARTNER_SFTP", sshd.connection("key"))
    orders = [shop_order(1, "S1", updated_at="2026-11-20T10:00:00Z"), shop_order(2, "S2")]
    sshd.drop(inbox / "a.json", json.dumps({"orders": orders}))
    sshd.drop(inbox / "b.json", '{"orders": [')  # cut short: a format error

    report = pipeline.run_source("shop", engine=engine)

    with engine.connect() as conn:
        loaded = conn.execute(select(func.count()).select_from(SalesOrder.__table__)).scalar()
        origins = conn.execute(select(LandedBatch.__table__.c.origin)).scalars().all()
    assert loaded == 2, report.errors
    assert all(o and sshd.client_private not in o for o in origins)
    landing = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*manifest.json"))
    assert "PRIVATE KEY" not in landing
    assert not (inbox / "a.json").exists() and not (inbox / "b.json").exists()
    day = time.strftime("%Y/%m/%d", time.gmtime())
    # omshub.process calls the finish hook: loaded -> archive, dead (1 attempt) -> error/
    assert (inbox / "archive" / day / "a.json").is_file(), sorted(
        str(p.relative_to(inbox)) for p in inbox.rglob("*")
    )
    assert (inbox / "error" / "b.json").is_file()
    assert "b.json:1: invalid JSON" in (inbox / "error" / "b.json.reason").read_text()
    assert list((inbox / "processing").iterdir()) == []
