"""Paths into nested records (JSON objects, XML elements read as dicts, CSV rows).

Grammar, one segment per dot: `name`, `name[2]` (list index), `name[KEY=VALUE]` (first
list item whose KEY equals VALUE: SAP qualifiers, X12 qualifiers), and a leading `^.`
per level to read the raw parent record of an exploded child. A key that holds a dot is
written in backticks: `` `a.b`.c ``; `.` is the record itself (so one flat CSV
row can yield a parent and a child entity). A missing key gives null, never an error: optional
source fields are the norm. A name applied to a list of one item steps into that item;
applied to a longer list it maps over the items (and the field's type then refuses it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

Getter = Callable[[Any, Sequence[Any]], Any]

_SEGMENT = re.compile(r"`(?P<q>[^`]+)`|(?P<name>[^.\[\]`]+)|\[(?P<sel>[^\]]*)\]")


class PathSyntaxError(ValueError):
    pass


def _parse(path: str) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(path):
        if path[pos] == ".":
            pos += 1
            continue
        m = _SEGMENT.match(path, pos)
        if not m:
            raise PathSyntaxError(f"bad path {path!r} at position {pos}")
        if m.group("q") is not None:
            steps.append(("key", m.group("q")))
        elif m.group("name") is not None:
            steps.append(("key", m.group("name").strip()))
        else:
            sel = m.group("sel").strip()
            if re.fullmatch(r"-?\d+", sel):
                steps.append(("index", int(sel)))
            elif "=" in sel:
                k, v = sel.split("=", 1)
                steps.append(("where", (k.strip(), v.strip().strip("'\""))))
            else:
                raise PathSyntaxError(f"bad selector [{sel}] in path {path!r}")
        pos = m.end()
    return steps


def _step_key(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list):
        if len(value) == 1:
            return _step_key(value[0], key)
        return [_step_key(v, key) for v in value]
    return None


def _step_index(value: Any, index: int) -> Any:
    if isinstance(value, list):
        return value[index] if -len(value) <= index < len(value) else None
    return value if index in (0, -1) and value is not None else None


def _step_where(value: Any, cond: tuple[str, str]) -> Any:
    key, expected = cond
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict) and str(item.get(key)) == expected:
            return item
    return None


def compile_path(path: str) -> Getter:
    """Compile once; the returned getter is called per record on the hot path."""
    from transforms.delivery import compile_delivery_path, is_delivery_path

    if is_delivery_path(path):  # $delivery.file_name: the batch, not the record
        getter: Getter = compile_delivery_path(path)
        return getter
    up = 0
    body = path.strip()
    while body.startswith("^"):
        up += 1
        body = body[1:].lstrip(".")
    if body in (".", "$") and not up:
        return lambda record, parents: record  # the record itself (flat row -> child entity)
    steps = _parse(body) if body else []
    if not steps and not up:
        raise PathSyntaxError("empty path")
    if len(steps) == 1 and steps[0][0] == "key" and not up:
        key = steps[0][1]

        def get_flat(record: Any, parents: Sequence[Any]) -> Any:
            return record.get(key) if isinstance(record, dict) else None

        return get_flat

    table: dict[str, Callable[[Any, Any], Any]] = {
        "key": _step_key,
        "index": _step_index,
        "where": _step_where,
    }
    ops = [(table[kind], arg) for kind, arg in steps]

    def get(record: Any, parents: Sequence[Any]) -> Any:
        value = record
        if up:
            if up > len(parents):
                return None
            value = parents[-up]
        for fn, arg in ops:
            if value is None:
                return None
            value = fn(value, arg)
        return value

    return get
