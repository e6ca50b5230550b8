"""The columnar path's contract: `columnar` and its reasons, `mapping check` flags, the
Arrow shape of a batch, and validation of a table giving what the frame path gives."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from oms.arrow import entity_schema
from omshub.cli import app
from transforms import functions
from transforms.compiler import compile_mapping
from transforms.functions import TransformFn
from transforms.validation import validate

MAPPING = """\
mapping: t.lines
version: 1
entity: sales_order
external_id: id
updated_at: at
fields:
  order_number: {path: no, transforms: [shout], required: true}
  grand_total: {expr: "total * 2"}
children:
  - entity: order_line
    path: lines
    fields:
      order_number: {parent: order_number}
      line_no: {index: 1}
      sku: {path: sku, transforms: [strip, upper], required: true}
      qty_ordered: qty
      unit_price: {path: price, type: decimal}
"""
RECORDS = [
    {
        "id": "1",
        "no": "a-1",
        "total": "10.125",
        "at": "2026-11-20T10:00:00+01:00",
        "lines": [{"sku": " x ", "qty": "2", "price": "1.00005"}, {"sku": "y", "qty": "x"}],
    },
    {"id": "2", "no": None, "total": "1e2", "at": "yesterday", "lines": []},
]


@pytest.fixture
def shout() -> Iterator[None]:
    """A plugin transform without a vectorised form."""
    functions.registry.cache_clear()
    functions._REGISTRY["shout"] = TransformFn("shout", lambda v: f"{v}!")
    yield
    del functions._REGISTRY["shout"]
    functions.registry.cache_clear()


def _mapping(tmp_path: Path, text: str = MAPPING) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_transform_without_vectorised_form_is_flagged(tmp_path: Path, shout: None) -> None:
    m = compile_mapping(_mapping(tmp_path), {})
    assert not m.columnar
    assert m.columnar_parts == [
        f"{tmp_path / 'm.yaml'}:7 field 'order_number': transform shout has no vectorised form"
    ]
    ref, col = m.apply(RECORDS), m.apply_table(pa.Table.from_pylist(RECORDS))
    assert col.tables == ref.tables and col.errors == ref.errors
    assert col.tables["sales_order"].column("order_number").to_pylist() == ["a-1!", None]
    result = CliRunner().invoke(app, ["mapping", "check", str(tmp_path / "m.yaml")])
    assert result.exit_code == 0, result.output
    assert "per value" in result.output and "transform shout" in result.output
    strict = CliRunner().invoke(app, ["mapping", "check", "--columnar", str(tmp_path / "m.yaml")])
    assert strict.exit_code != 0


def test_every_builtin_transform_has_a_vectorised_form() -> None:
    missing = [n for n, f in functions.registry().items() if f.vector() is None]
    assert missing == []


def test_tables_have_the_entity_schema_and_round_half_even(tmp_path: Path) -> None:
    text = MAPPING.replace("transforms: [shout], ", "")
    m = compile_mapping(_mapping(tmp_path, text), {})
    assert m.columnar, m.columnar_reason
    batch = m.apply_table(pa.Table.from_pylist(RECORDS))
    assert batch.tables == m.apply(RECORDS).tables
    for entity, tbl in batch.tables.items():
        schema = entity_schema(entity)
        assert tbl.schema == pa.schema([schema.field(n) for n in tbl.column_names])
    orders = batch.tables["sales_order"].to_pylist()
    assert [o["grand_total"] for o in orders] == [Decimal("20.2500"), Decimal("200.0000")]
    lines = batch.tables["order_line"].to_pylist()
    assert [ln["unit_price"] for ln in lines] == [Decimal("1.0000"), None]  # 1.00005 -> even
    assert [ln["line_no"] for ln in lines] == [1, 2]
    rules = {(r.field, r.rule) for reasons in batch.errors.values() for r in reasons}
    assert ("order_number", "required") in rules and ("qty_ordered", "type decimal") in rules
    assert ("updated_at", "type datetime") in rules


def _frame_and_table(rows: list[dict[str, Any]], entity: str) -> tuple[Any, pa.Table]:
    from transforms.arrowshape import python_column
    from transforms.batch import object_frame

    schema = entity_schema(entity)
    names = [n for n in rows[0]]
    arrays = [python_column([r[n] for r in rows], schema.field(n).type)[0] for n in names]
    tbl = pa.Table.from_arrays(
        [*arrays, pa.array(range(10, 10 + len(rows)), pa.int64())],
        names=[*names, "_record"],
    )
    return object_frame(tbl), tbl


def test_validation_of_a_table_equals_the_frame_path() -> None:
    rows: list[dict[str, Any]] = [
        {"order_number": "1", "line_no": 1, "sku": "A", "qty_ordered": Decimal(2)},
        {"order_number": "1", "line_no": 2, "sku": None, "qty_ordered": Decimal("-1.5")},
        {"order_number": None, "line_no": 3, "sku": "A", "qty_ordered": Decimal(-1)},
        {"order_number": "2", "line_no": 1, "sku": None, "qty_ordered": None},
    ]
    frame, tbl = _frame_and_table(rows, "order_line")
    want = validate("order_line", frame)
    assert validate("order_line", tbl) == want
    assert set(want) == {11, 12, 13}
    assert "got -1.5" in want[11][-1].message


def test_verdicts_are_kept_across_chunks_and_gx_asked_only_about_new_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from transforms import judged, validation

    monkeypatch.setattr(judged, "_MEMO", {})
    asked: list[int] = []
    real = validation._run_suite

    def counting(entity: str, checks: list[Any], data: Any) -> Any:
        asked.append(len(data))
        return real(entity, checks, data)

    def line(no: str | None, sku: str | None, qty: str) -> dict[str, Any]:
        return {"order_number": no, "line_no": 1, "sku": sku, "qty_ordered": Decimal(qty)}

    first = [line("1", "A", "1"), line("1", None, "-1"), line("2", "B", "2")]
    second = [line("3", "B", "-1"), line(None, "A", "2"), line("4", None, "-3")]
    for rows in (first, second, first):
        frame, tbl = _frame_and_table(rows, "order_line")
        want = validation.validate("order_line", frame)
        monkeypatch.setattr(validation, "_run_suite", counting)
        assert validation.validate("order_line", tbl) == want
        monkeypatch.setattr(validation, "_run_suite", real)
    assert len(asked) == 2  # the first chunk again: every value already judged
