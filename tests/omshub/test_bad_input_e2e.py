"""The bad-input corpus end to end: each file dropped into a local-folder source beside a
good one, run on SQLite and PostgreSQL. The reason names the file and line, the original is
kept byte for byte in the landing zone, and the good file (and the good records of the bad
one, where the format can go on) still load."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select

from oms.models import LandedBatch, Quarantine
from omshub import pipeline
from omshub.landing import read_landed

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "bad_input"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text())["cases"]
lb, q = LandedBatch.__table__, Quarantine.__table__


def long_name(n_bytes: int, ext: str) -> str:
    base = "commandes_livrées_"
    room = n_bytes - len(base.encode()) - len(ext.encode())
    return base + "é" * (room // 2) + "x" * (room % 2) + ext


def companion(case: dict[str, Any], folder: Path) -> str:
    """A good file of the same format and mapping: the mapping's own reviewed sample."""
    mapping = case["mapping"]
    sample = {
        "shopify/orders.yaml": "shopify/samples/orders.json",
        "wms/shipments.yaml": "wms/samples/shipments.csv",
        "sap/orders.yaml": "sap/samples/orders.xml",
    }[mapping]
    src = ROOT / "mappings" / sample
    kind = case["format"]["type"]
    name = f"zz_good.{kind}"
    if kind == "ndjson":
        orders = json.loads(src.read_text())["orders"]
        (folder / name).write_text("".join(json.dumps(o) + "\n" for o in orders))
    else:
        shutil.copy(src, folder / name)
    return name


def project_for(case: dict[str, Any], home: Path) -> tuple[Path, str, str]:
    """A project with one folder source holding the case's file and a good companion."""
    shutil.copytree(ROOT / "config" / "codes", home / "config" / "codes")
    shutil.copy(ROOT / "config" / "ownership.yaml", home / "config" / "ownership.yaml")
    (home / "config" / "sources").mkdir(parents=True)
    drop = home / "drop"
    drop.mkdir()
    name = case["file"]
    if case.get("name_bytes"):
        name = long_name(case["name_bytes"], Path(name).suffix)
    shutil.copy(CORPUS / case["file"], drop / name)
    good = companion(case, drop)
    fmt = json.dumps(case["format"])
    (home / "config" / "sources" / "bad.yaml").write_text(
        textwrap.dedent(f"""\
        name: bad
        system: {case["mapping"].split("/")[0]}
        kind: channel
        connector: {{type: local_folder, path: drop}}
        reject_threshold: 1.0
        streams:
          - name: s
            pattern: "*"
            format: {fmt}
            mapping: {ROOT / "mappings" / case["mapping"]}
        """)
    )
    return drop, name, good


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_through_a_folder_source(
    case: dict[str, Any],
    tmp_path: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "proj"
    drop, name, good = project_for(case, home)
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    report = pipeline.run_source("bad", engine=engine)

    with engine.connect() as conn:
        rows = {
            r.original_name: r
            for r in conn.execute(
                select(
                    lb.c.original_name,
                    lb.c.batch_id,
                    lb.c.status,
                    lb.c.message,
                    lb.c.uri,
                    lb.c.checksum,
                )
            )
        }
    assert rows[good].status == "loaded", rows[good].message  # the other file loaded
    bad = rows[name]
    # the original is kept, byte for byte, under a safe name
    assert read_landed(bad.uri, bad.checksum) == (drop / name).read_bytes()
    assert len(os.path.basename(bad.uri).encode()) <= 255

    if case["expect"] == "format_error":
        assert report.status == "partial"
        assert bad.status == "failed"
        assert bad.message.startswith(f"bad/s {name}: {name}:{case['line']}: "), bad.message
        assert case["reason"] in bad.message
        assert any(case["reason"] in e for e in report.errors)
        return
    assert bad.status == "loaded", bad.message
    assert report.status == "success", report.errors
    with engine.connect() as conn:
        reasons = [
            json.loads(r)
            for r in conn.execute(select(q.c.reasons).where(q.c.batch_id == bad.batch_id)).scalars()
        ]
        entries = conn.execute(select(func.count()).where(q.c.batch_id == bad.batch_id)).scalar()
    format_reasons = [r[0]["message"] for r in reasons if r and r[0]["rule"] == "format"]
    assert len(format_reasons) == case["bad"]
    for message in format_reasons:
        assert message.startswith(name), message  # names the file (and line or record)
        assert case["reason"] in message
        if case["line"] is not None:
            assert message.startswith(f"{name}:{case['line']}: ")
    assert entries >= case["bad"]


def test_a_symlink_out_of_the_folder_is_never_landed(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = next(c for c in CASES if c["file"] == "good_shipments.csv")
    home = tmp_path / "proj"
    drop, name, good = project_for(case, home)
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nroot,x\n")
    (drop / "passwd.csv").symlink_to(secret)
    (drop / "up.csv").symlink_to("../../secret.csv")
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    report = pipeline.run_source("bad", engine=engine)
    assert report.ok, report.errors
    with engine.connect() as conn:
        names = set(conn.execute(select(lb.c.original_name)).scalars())
    assert names == {name, good}
