"""Landing writes each batch once under a safe name, also when two processes land it at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from connectors.base import RawBatch
from oms.errors import FatalError
from oms.models import LandedBatch, table
from omshub.landing import (
    MAX_NAME_BYTES,
    land,
    landing_root,
    open_landed,
    read_landed,
    record_landed,
    safe_name,
)

_t = table(LandedBatch)


def _rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(_t))]


def test_a_long_unicode_name_lands_under_a_safe_name(engine: Engine) -> None:
    name = ("commandes_été_" + "🛒" * 40 + "x" * 200)[:200] + ".json"
    assert len(name.encode()) > 245
    content = b'{"orders": []}'
    batch_id = land(engine, "shop", "orders", RawBatch(content, name, "json"), "run1")
    (row,) = _rows(engine)
    landed = Path(row["uri"])
    assert landed.exists() and landed.is_relative_to(landing_root())
    assert len(landed.name.encode()) + len(".manifest.json") <= MAX_NAME_BYTES
    assert landed.name.isascii() and landed.name.startswith(batch_id + "__commandes_")
    assert row["original_name"] == name
    manifest = json.loads(Path(str(landed) + ".manifest.json").read_text(encoding="utf-8"))
    assert manifest["original_name"] == name and manifest["sha256"] == row["checksum"]
    assert read_landed(row["uri"], row["checksum"]) == content
    assert not list(landed.parent.glob("*.tmp")) and not list(landed.parent.glob(".*"))


def test_safe_names_keep_plain_names_and_separate_long_ones() -> None:
    assert safe_name("orders_2026-11-21.json") == "orders_2026-11-21.json"
    a, b = safe_name("x" * 300 + "a"), safe_name("x" * 300 + "b")
    assert a != b and len(a) == len(b) == 120
    assert safe_name("../../etc/passwd") not in {"../../etc/passwd"}
    assert "/" not in safe_name("../../etc/passwd") and not safe_name("..").startswith(".")


def test_identical_content_is_one_batch(engine: Engine) -> None:
    first = land(engine, "shop", "orders", RawBatch(b"[1]", "a.json", "json"), "run1")
    again = land(engine, "shop", "orders", RawBatch(b"[1]", "copy_of_a.json", "json"), "run2")
    assert first == again and len(_rows(engine)) == 1


def test_the_unique_key_race_returns_the_first_batch(engine: Engine) -> None:
    """The insert of a batch recorded meanwhile by another process keeps the first row."""
    batch_id = land(engine, "shop", "orders", RawBatch(b"[2]", "a.json", "json"), "run1")
    (row,) = _rows(engine)
    loser = {**row, "batch_id": batch_id, "run_id": "run2", "uri": "/elsewhere"}
    assert record_landed(engine, loser) == batch_id
    (kept,) = _rows(engine)
    assert kept["run_id"] == "run1" and kept["uri"] == row["uri"]


_CHILD = """
import json, os, sys, time
from pathlib import Path
from connectors.base import RawBatch
from oms.db import get_engine
from omshub.landing import land
go, content = Path(sys.argv[2]), Path(sys.argv[3]).read_bytes()
engine = get_engine(sys.argv[1])
Path(f"{go}.ready.{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.001)
print(land(engine, "shop", "orders", RawBatch(content, "same.json", "json"), "r"))
"""


def test_two_processes_landing_the_same_file_make_one_batch(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    """Both processes start together (a go file); each returns the one batch id."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    for attempt in range(3):
        payload = tmp_path / f"payload{attempt}.json"
        payload.write_bytes(json.dumps({"orders": [{"n": attempt}] * 20000}).encode())
        go = tmp_path / f"go{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _CHILD, store_url, str(go), str(payload)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob(f"go{attempt}.ready.*"))) < 2:  # both are waiting
            assert time.monotonic() < deadline, "children did not start"
            time.sleep(0.01)
        go.touch()
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], results
        assert len({out.strip() for out, _ in results}) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(_t)).scalar() == 3
    leftovers = [p for p in landing_root().rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_open_landed_streams_and_verifies(engine: Engine) -> None:
    content = b"x" * (3 << 20)
    land(engine, "shop", "orders", RawBatch(content, "big.json", "json"), "run1")
    (row,) = _rows(engine)
    with open_landed(row["uri"], row["checksum"]) as f:
        assert f.read(5) == b"xxxxx" and f.tell() == 5
    Path(row["uri"]).write_bytes(content + b"!")
    with (
        pytest.raises(FatalError, match="does not match its checksum"),
        open_landed(row["uri"], row["checksum"]),
    ):
        pass
    with pytest.raises(FatalError, match="is missing"):
        read_landed(row["uri"] + ".gone", row["checksum"])
