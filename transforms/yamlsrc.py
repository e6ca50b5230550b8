"""Safe YAML loading that remembers where each key was written, for error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from transforms.errors import MappingError

Loc = tuple[str | int, ...]


class Lines(dict[Loc, int]):
    """Where each key (or list item) was written: path -> line; `cols`: path -> column.

    Both 1-based, as editors count. A plain dict of lines, so callers that only want the
    line keep using `line_of`; `col_of` gives the column of the same place."""

    def __init__(self) -> None:
        super().__init__()
        self.cols: dict[Loc, int] = {}


class StrictBoolLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans.

    With YAML 1.1, `path: no` or a code list key `N` silently became `False`; in mapping
    files those are field names and source codes, so they stay text.
    """


StrictBoolLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictBoolLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

#: the same rules on libyaml's C parser when PyYAML has it (about 10x faster: every DAG
#: parse reads every source and mapping file), else the pure-Python one
FastLoader: type[Any] = StrictBoolLoader
if getattr(yaml, "__with_libyaml__", False):

    class _CStrictBoolLoader(yaml.CSafeLoader):
        """`StrictBoolLoader` on libyaml (a `CSafeLoader`: no tags, no objects)."""

    _CStrictBoolLoader.yaml_implicit_resolvers = StrictBoolLoader.yaml_implicit_resolvers
    FastLoader = _CStrictBoolLoader


def safe_load(text: str) -> Any:
    """`text` as data, with `FastLoader` (safe, YAML 1.2 booleans)."""
    return yaml.load(text, Loader=FastLoader)  # noqa: S506 (a SafeLoader / CSafeLoader)


MERGE_TAG = "tag:yaml.org,2002:merge"


def _mark(lines: Lines, path: Loc, node: yaml.Node) -> None:
    lines[path] = node.start_mark.line + 1
    lines.cols[path] = node.start_mark.column + 1


def _walk(node: yaml.Node, path: Loc, lines: Lines, file: str) -> None:
    """Record where every key is, and refuse a key written twice in one mapping.

    YAML loaders keep the last of two equal keys silently (a second `fields:` block
    replaces the first): that is always a mistake in a config file, so it is an error
    at the second key's line and column. Runs on the node tree before construction
    (which rewrites `<<` merges)."""
    if path not in lines:
        _mark(lines, path, node)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.tag == MERGE_TAG:
                continue
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if k in seen:
                first = lines[(*path, k)]
                raise MappingError(
                    f"duplicate key {k!r} (first written at line {first}; YAML would keep "
                    "only the last)",
                    file=file,
                    line=key.start_mark.line + 1,
                    column=key.start_mark.column + 1,
                    field=".".join(map(str, (*path, k))),
                )
            seen.add(k)
            _mark(lines, (*path, k), key)
            _walk(value, (*path, k), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, file)


def load_yaml(path: Path) -> tuple[Any, Lines]:
    """Parse safely (a safe loader: no tags, no objects); return data and key lines.

    Parsed once: the node tree gives the lines (and refuses duplicate keys), then becomes
    the data."""
    lines = Lines()
    try:
        text = path.read_text(encoding="utf-8")
        loader = FastLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _walk(node, (), lines, str(path))
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except OSError as e:
        raise MappingError(f"cannot read: {e.strerror}", file=str(path)) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise MappingError(
            f"invalid YAML: {getattr(e, 'problem', e)}", file=str(path), line=line, column=column
        ) from e
    return data, lines


def _nearest(lines: dict[Loc, int], path: Loc) -> Loc:
    while path and path not in lines:
        path = path[:-1]
    return path


def line_of(lines: dict[Loc, int], path: Loc) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    return lines.get(_nearest(lines, path))


def col_of(lines: dict[Loc, int], path: Loc) -> int | None:
    """The column of the place `line_of` gives (None for lines without columns)."""
    cols = getattr(lines, "cols", None)
    return cols.get(_nearest(lines, path)) if cols is not None else None
