"""Reference documentation generated from the code (`docs/reference/*.md`).

`pages()` renders every page from the models, registries and examples the application
runs; `write()` writes them and `stale()` says which files differ from what the code
would write now (a test fails on any, naming the command that regenerates them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from omshub.refdocs.md import GENERATED

REGENERATE = "omshub docs generate"
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "reference"

INDEX = f"""{GENERATED}

# Reference

Generated from the code by `{REGENERATE}` (or `python -m omshub.refdocs`); a test fails
when these pages are stale, so what they say is what the code does.

| page | what it lists |
| --- | --- |
| [canonical model](entities.md) | every entity a mapping may write: columns, types, null, natural key, references, field ownership, status vocabularies |
| [mapping YAML](mapping-yaml.md) | every key of a mapping file and of a code list file |
| [transforms and expressions](transforms.md) | every named transform and the expression language, each with an example and its real output |
| [source YAML](source-yaml.md) | every key of a source file, and each built-in transport's connector and stream keys |
| [partner YAML](partner-yaml.md) | every key of an EDI trading-partner file |

New here? Start with [your first source in ten minutes](../tutorial-first-source.md).
"""


def _renderers() -> dict[str, Callable[[], str]]:
    from omshub.refdocs import entities, transformsdoc, yamlkeys

    return {
        "README.md": lambda: INDEX,
        "entities.md": lambda: entities.render(ROOT / "config" / "ownership.yaml"),
        "mapping-yaml.md": yamlkeys.render_mapping,
        "transforms.md": transformsdoc.render,
        "source-yaml.md": yamlkeys.render_source,
        "partner-yaml.md": yamlkeys.render_partner,
    }


def pages() -> dict[str, str]:
    """File name -> content of every reference page."""
    return {name: render() for name, render in _renderers().items()}


def write(folder: Path = DOCS) -> list[Path]:
    """Write every page (only those whose text changed); return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pages().items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def stale(folder: Path = DOCS) -> list[str]:
    """Pages missing or different from what the code renders now, and stray pages."""
    want = pages()
    out = [
        name
        for name, text in want.items()
        if not (folder / name).exists() or (folder / name).read_text(encoding="utf-8") != text
    ]
    if folder.is_dir():
        out += [p.name for p in sorted(folder.glob("*.md")) if p.name not in want]
    return out
