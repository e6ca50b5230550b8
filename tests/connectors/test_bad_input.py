"""The bad-input corpus (tests/corpus/bad_input/cases.yaml): every case is refused with a
typed error naming the file and the line or record, and the good records around it are
still read wherever the format can go on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select

from connectors.base import BadRecord, StreamRequest
from connectors.errors import FormatError
from connectors.registry import get_format, transport
from oms.models import LandedBatch, table
from omshub.landing import land, read_landed

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "bad_input"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text())["cases"]


def long_name(n_bytes: int, ext: str) -> str:
    """A legal file name of exactly `n_bytes` UTF-8 bytes, mostly two-byte letters."""
    base = "commandes_livrées_"
    room = n_bytes - len(base.encode()) - len(ext.encode())
    return base + "é" * (room // 2) + "x" * (room % 2) + ext


def _read(case: dict[str, Any], path: Path) -> tuple[list[Any], FormatError | None]:
    options = dict(case["format"])
    fmt = get_format(options.pop("type"))
    out: list[Any] = []
    with path.open("rb") as stream:
        try:
            out.extend(fmt.records(stream, options, path.name))
        except FormatError as e:
            return out, e
    return out, None


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_case(case: dict[str, Any]) -> None:
    records, error = _read(case, CORPUS / case["file"])
    good = [r for r in records if not isinstance(r, BadRecord)]
    bad = [r for r in records if isinstance(r, BadRecord)]
    assert (len(good), len(bad)) == (case["good"], case["bad"])
    assert all(isinstance(r, dict) for r in good)
    if case["expect"] == "format_error":
        assert error is not None, "the file must be refused"
        assert str(error).startswith(f"{case['file']}:{case['line']}: "), str(error)
        assert case["reason"] in str(error)
    else:
        assert error is None, str(error)
    for b in bad:
        assert case["reason"] in b.reason
        assert b.line == case["line"]
        if b.line is None:
            assert b.index is not None and b.index + 1 == case["record"]
        assert b.raw and json.dumps(b.raw)  # kept for quarantine, serialisable
    if case["expect"] != "ok":  # the list form refuses the file at the same place
        options = dict(case["format"])
        fmt = get_format(options.pop("type"))
        with pytest.raises(FormatError) as raised:
            fmt.read((CORPUS / case["file"]).read_bytes(), options, case["file"])
        where = f"{case['file']}:{case['line']}" if case["line"] else case["file"]
        assert str(raised.value).startswith(where) and case["reason"] in str(raised.value)


def test_a_very_deep_json_document_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """100,000 levels: refused before the parser builds anything (no RecursionError)."""
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"orders": [{"a": 1},\n' + b"[" * 100_000 + b"]" * 100_000 + b"]}")
    case = {"format": {"type": "json", "records_path": "orders"}}
    records, error = _read(case, path)
    assert error is not None and str(error).startswith("deep.json:2: JSON nested deeper than")
    ndjson = tmp_path / "deep.ndjson"
    ndjson.write_bytes(b'{"a": 1}\n' + b"{" * 100_000 + b"\n" + b'{"a": 2}\n')
    records, error = _read({"format": {"type": "ndjson"}}, ndjson)
    assert error is None and records[0] == {"a": 1} and records[2] == {"a": 2}
    assert isinstance(records[1], BadRecord) and records[1].line == 2


def test_a_245_byte_file_name_is_read_and_landed(engine: Engine, tmp_path: Path) -> None:
    (case,) = [c for c in CASES if c.get("name_bytes")]
    drop = tmp_path / "drop"
    drop.mkdir()
    name = long_name(case["name_bytes"], ".csv")
    assert len(name.encode()) == case["name_bytes"]
    shutil.copy(CORPUS / case["file"], drop / name)
    (batch,) = transport("local_folder", {"path": str(drop)}).fetch(
        StreamRequest("s", "csv", {"pattern": "*"})
    )
    assert batch.name == name
    batch_id = land(engine, "wms", "shipments", batch, "run1")
    t = table(LandedBatch)
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.batch_id == batch_id)).mappings().one()
    assert row["original_name"] == name and len(Path(row["uri"]).name.encode()) <= 200
    records = get_format("csv").read(read_landed(row["uri"], row["checksum"]), {}, name)
    assert len(records) == case["good"]
