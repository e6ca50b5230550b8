"""Safe YAML loading that remembers where each key was written, for error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from transforms.errors import MappingError

Lines = dict[tuple[str | int, ...], int]


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


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: Lines) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            lines[(*path, k)] = key.start_mark.line + 1
            _walk(value, (*path, k), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def load_yaml(path: Path) -> tuple[Any, Lines]:
    """Parse safely (a safe loader: no tags, no objects); return data and key lines.

    Parsed once: the node tree gives the lines, then becomes the data."""
    try:
        text = path.read_text(encoding="utf-8")
        loader = FastLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except OSError as e:
        raise MappingError(f"cannot read: {e.strerror}", file=str(path)) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise MappingError(
            f"invalid YAML: {getattr(e, 'problem', e)}", file=str(path), line=line
        ) from e
    lines: Lines = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def line_of(lines: Lines, path: tuple[str | int, ...]) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
