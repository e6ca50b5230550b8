"""The reference pages (docs/reference) are generated from the code and kept current.

A stale page fails here with the command that regenerates it; every named transform has
an example, and an example the engines do not run as written stops the generator.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from oms.entities import REGISTRY
from oms.enums import ENUM_COLUMNS
from omshub import refdocs
from omshub.refdocs.comments import attribute_comments
from omshub.refdocs.examples import Example, missing_examples
from omshub.refdocs.runexamples import ExampleError, run_example
from omshub.refdocs.transformsdoc import builtins


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return refdocs.pages()


def test_reference_docs_are_current(pages: dict[str, str]) -> None:
    stale = [
        name
        for name, text in pages.items()
        if not (refdocs.DOCS / name).exists()
        or (refdocs.DOCS / name).read_text(encoding="utf-8") != text
    ]
    stray = [p.name for p in refdocs.DOCS.glob("*.md") if p.name not in pages]
    assert not stale + stray, (
        f"docs/reference is stale ({', '.join(stale + stray)}): run `{refdocs.REGENERATE}`"
        " (or `python -m omshub.refdocs`) and commit the result"
    )


def test_stale_names_changed_missing_and_stray_pages(tmp_path: Path) -> None:
    refdocs.write(tmp_path)
    assert refdocs.stale(tmp_path) == []
    (tmp_path / "entities.md").write_text("hand edit\n", encoding="utf-8")
    (tmp_path / "transforms.md").unlink()
    (tmp_path / "old.md").write_text("gone\n", encoding="utf-8")
    assert refdocs.stale(tmp_path) == ["entities.md", "transforms.md", "old.md"]
    assert {p.name for p in refdocs.write(tmp_path)} == {"entities.md", "transforms.md"}


def test_cli_check_exit_code() -> None:
    from omshub.cli import app

    result = CliRunner().invoke(app, ["docs", "generate", "--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_every_builtin_transform_has_an_example() -> None:
    missing = missing_examples(list(builtins()))
    assert not missing, (
        f"named transforms without an example in omshub/refdocs/examples.py: {missing}"
    )


def test_examples_run_through_the_real_transform() -> None:
    out = run_example(
        Example("lstrip", 'order_number: {path: n, transforms: [{lstrip: "0"}]}', {"n": "0045"})
    )
    assert (out.column, out.value, out.rejected) == ("order_number", "45", None)
    bad = run_example(
        Example("divide", "grand_total: {path: n, transforms: [{divide: 100}]}", {"n": "x"})
    )
    assert bad.value is None and bad.rejected is not None and "'x' is not a number" in bad.rejected


def test_an_example_that_does_not_compile_stops_the_generator() -> None:
    with pytest.raises(ExampleError, match="does not compile"):
        run_example(Example("nope", "channel: {path: a, transforms: [no_such]}", {"a": 1}))
    with pytest.raises(ExampleError, match="exactly one"):
        run_example(Example("two", "channel: a\nstatus: b", {"a": 1}))


def test_entities_page_has_every_column_and_vocabulary(pages: dict[str, str]) -> None:
    page = pages["entities.md"]
    for name, spec in REGISTRY.items():
        section = page.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        keys = ", ".join(f"`{k}`" for k in spec.natural_key)
        assert f"- natural key: {keys}\n" in section, name
        for column in spec.data_columns:
            assert f"| `{column}` |" in section, (name, column)
    for cols in ENUM_COLUMNS.values():
        for values in cols.values():
            assert all(f"`{v}`" in page for v in values)


def test_yaml_pages_have_every_key(pages: dict[str, str]) -> None:
    from omshub.config import SourceConfig, StreamSpec
    from omshub.edi.partnerconfig import PartnerConfig
    from transforms.spec import EntityMapping, FieldSpec, MappingFile, Rule

    for page, models in (
        ("mapping-yaml.md", (MappingFile, EntityMapping, FieldSpec, Rule)),
        ("source-yaml.md", (SourceConfig, StreamSpec)),
        ("partner-yaml.md", (PartnerConfig,)),
    ):
        for model in models:
            for name, f in model.model_fields.items():
                if name != "file":
                    assert f"| `{f.alias or name}` |" in pages[page], (page, model, name)


def test_every_mapping_and_source_key_is_described() -> None:
    """The generated tables take their words from `description=`: none may be blank."""
    from omshub.config import SourceConfig, StreamSpec
    from transforms.codes import CodeListFile
    from transforms.spec import EntityMapping, FieldSpec, MappingFile, Rule

    blank = [
        f"{model.__name__}.{name}"
        for model in (
            MappingFile,
            EntityMapping,
            FieldSpec,
            Rule,
            CodeListFile,
            SourceConfig,
            StreamSpec,
        )
        for name, f in model.model_fields.items()
        if name != "file" and not f.description
    ]
    assert not blank, f"keys without description= (shown blank in docs/reference): {blank}"


def test_column_comments_are_read_from_the_source() -> None:
    class Sample:
        #: the first
        #: and its second line
        a: int = 1
        b: int = 2  # trailing words
        c: int = 3  # type: ignore[assignment]

    assert attribute_comments(Sample) == {
        "a": "the first and its second line",
        "b": "trailing words",
    }
