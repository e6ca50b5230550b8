"""Mistakes the mapping compiler refuses at their YAML line and column (not per record)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from transforms.compiler import compile_mapping
from transforms.errors import MappingError
from transforms.yamlsrc import col_of, line_of, load_yaml

BASE = """\
mapping: t.orders
version: 1
entity: sales_order
external_id: id
fields:
  order_number: {path: number, required: true}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def refused(tmp_path: Path, extra: str) -> MappingError:
    with pytest.raises(MappingError) as e:
        compile_mapping(write(tmp_path, BASE + extra), {})
    return e.value


def test_a_duplicate_key_is_an_error_at_the_second_one(tmp_path: Path) -> None:
    e = refused(tmp_path, "  channel: {const: web}\n  channel: {const: pos}\n")
    assert (e.line, e.column, e.field) == (8, 3, "fields.channel")
    assert "duplicate key 'channel' (first written at line 7" in e.detail


def test_a_duplicate_top_level_key_too(tmp_path: Path) -> None:
    e = refused(tmp_path, "version: 2\n")
    assert (e.line, e.column) == (7, 1) and "duplicate key 'version'" in str(e)


def test_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n")
    data, lines = load_yaml(p)
    assert data["other"] == {"x": 3, "y": 2}
    assert (line_of(lines, ("other", "x")), col_of(lines, ("other", "x"))) == (4, 3)


def test_a_transform_argument_of_the_wrong_type(tmp_path: Path) -> None:
    line = "  channel: {path: c, transforms: [strip, {zfill: abc}]}"
    e = refused(tmp_path, line + "\n")
    assert (e.line, e.column, e.field) == (7, line.index("{zfill") + 1, "channel")
    assert "transform 'zfill': argument 'width' must be int, got 'abc'" in e.detail


def test_a_right_argument_type_compiles(tmp_path: Path) -> None:
    m = compile_mapping(
        write(tmp_path, BASE + "  channel: {path: c, transforms: [{zfill: 4}, {prefix: 0}]}\n"),
        {},
    )
    assert (
        m.apply([{"number": "1", "c": "7", "id": 1}])
        .tables["sales_order"]
        .to_pylist()[0]["channel"]
        == "00007"
    )


def test_a_type_that_does_not_fit_the_column(tmp_path: Path) -> None:
    line = "  customer_email: {path: email, type: int}"
    e = refused(tmp_path, line + "\n")
    assert (e.line, e.column, e.field) == (7, line.index("type") + 1, "customer_email")
    assert "`type: int` does not fit this string column" in e.detail


def test_a_wider_type_that_fits_compiles(tmp_path: Path) -> None:
    compile_mapping(write(tmp_path, BASE + "  grand_total: {path: t, type: int}\n"), {})


def test_invalid_yaml_has_line_and_column(tmp_path: Path) -> None:
    e = refused(tmp_path, "  channel: [web\n")
    assert e.line is not None and e.column is not None and "invalid YAML" in e.detail
