"""Each loaded row's X12 origin, derived from the mapping that loaded it (`oms.ediorigin`).

The records the inbox maps carry `_x12` (file, ISA13, GS06, ST02) and, on every segment
and loop dict, `_at` (`PO1@12`). Walking the compiled mapping over the same records the
way `transforms.runtime` does (filter, explode children) gives, row for row in the
mapped tables' order, the loop each row came from and, per field, the element and segment
its value was read from: a `path:` is followed to the segment dict holding its last
element; an `expr:` by the first path in it that resolves; `parent:` fields take their
parent's. Constants and envelope values (`_x12.sent`) have none. The row's store id is
computed as the loader computes it (`EntitySpec.identify`, `canonical_id`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oms.ediorigin import Origin
from transforms.compiler import CompiledEntity, CompiledField, CompiledMapping
from transforms.paths import PathSyntaxError, compile_path

log = logging.getLogger("omshub.edi")

#: an X12 element reference designator at the end of a path: `BEG03`, `N301`, `W1208`
_ELEMENT = re.compile(r"^(?:(.*)\.)?([A-Z][A-Z0-9]{1,2}\d{2})$")
#: paths inside an expression: `at('...')` arguments and dotted names
_AT = re.compile(r"at\('([^']+)'\)")
_NAME = re.compile(
    r"(?<![\w'.\]])((?:_parent\.|\^\.)?[A-Za-z_]\w*(?:\[[^\]]*\])?(?:\.\w+(?:\[[^\]]*\])?)*)"
)


@dataclass
class _Item:
    obj: Any
    parents: tuple[Any, ...]
    record: int
    positions: dict[str, str]


def _where(path: str, obj: Any, parents: Sequence[Any]) -> str | None:
    """`ELEMENT@n` of the value `path` reads from `obj`, or the segment's `TAG@n` for a
    path into a segment's `ids`; None when it reads nothing or no segment."""
    path = path.strip()
    if path.startswith("_parent."):
        path = "^." + path.removeprefix("_parent.")
    if "_x12" in path:
        return None
    m = _ELEMENT.match(path)
    prefix, element = (m.group(1), m.group(2)) if m else (path.rpartition(".")[0], None)
    try:
        holder = compile_path(prefix)(obj, parents) if prefix else obj
        if m is None and prefix:  # `ids.VN`: the segment holding `ids`
            holder = compile_path(prefix.rpartition(".")[0] or ".")(obj, parents)
    except (PathSyntaxError, LookupError, TypeError, ValueError):
        return None
    if isinstance(holder, list):
        holder = holder[0] if holder else None
    if not isinstance(holder, dict) or "_at" not in holder:
        return None
    at = str(holder["_at"])
    if element is None:
        return at
    if holder.get(element) in (None, ""):
        return None
    return f"{element}@{at.partition('@')[2]}"


def _candidates(f: CompiledField) -> list[str]:
    spec = f.spec
    if spec is None:
        return []
    if spec.path is not None:
        return [spec.path]
    if spec.expr is None:
        return []
    text = spec.expr
    found = _AT.findall(text)
    found += [n for n in _NAME.findall(_AT.sub("", text)) if "." in n or _ELEMENT.match(n)]
    return found


def _positions(ce: CompiledEntity, it: _Item, parent: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in ce.fields:
        if f.parent_field is not None:
            if f.parent_field in parent:
                out[f.name] = parent[f.parent_field]
            continue
        for path in _candidates(f):
            where = _where(path, it.obj, it.parents)
            if where is not None:
                out[f.name] = where
                break
    return out


def walk(ce: CompiledEntity, items: list[_Item], out: dict[str, list[_Item]]) -> None:
    """Every row `ce` and its children map from `items`, in the mapped tables' order."""
    if ce.filter is not None:
        flt = ce.filter
        items = [it for it in items if flt(it.obj, it.parents)]
    rows = out.setdefault(ce.entity, [])
    for it in items:
        rows.append(_Item(it.obj, it.parents, it.record, _positions(ce, it, it.positions)))
    mine = rows[len(rows) - len(items) :]
    for child in ce.children:
        assert child.explode is not None
        sub: list[_Item] = []
        for it in mine:
            arr = child.explode(it.obj, it.parents)
            if arr is None:
                continue
            for x in arr if isinstance(arr, list) else [arr]:
                sub.append(_Item(x, (*it.parents, it.obj), it.record, it.positions))
        walk(child, sub, out)


def _row_ids(entity: str, rows: list[dict[str, Any]], system: str) -> list[tuple[str, str]]:
    """(store id, natural key as `a/b`) of each mapped row, as the loader computes them."""
    from oms.entities import ENTITIES
    from oms.ids import canonical_id
    from oms.locks import targets

    target, key = targets(entity)[0]
    spec = ENTITIES.get(entity)
    if spec is not None:
        spec.identify(rows, [c for c in rows[0] if not c.startswith("_")], system)
    out = []
    for r in rows:
        values = [r.get(k) for k in key]
        out.append(
            (canonical_id(target, values), "/".join("" if v is None else str(v) for v in values))
        )
    return out


def origins(
    mapping: CompiledMapping,
    records: Sequence[dict[str, Any]],
    tables: dict[str, Any],
    loaded: set[int],
    partner: str,
    batch_id: str,
    system: str,
    now: dt.datetime,
) -> list[Origin]:
    """The origins of the rows of `tables` (the mapped chunk) whose record index is in
    `loaded`. An entity whose rows do not line up with the walk is logged and left out
    (provenance never fails a load that succeeded)."""
    from transforms.batch import RECORD

    walked: dict[str, list[_Item]] = {}
    walk(mapping.root, [_Item(r, (), i, {}) for i, r in enumerate(records)], walked)
    out: list[Origin] = []
    for entity, tbl in tables.items():
        items = walked.get(entity, [])
        rows = tbl.to_pylist()
        if [r[RECORD] for r in rows] != [it.record for it in items]:
            log.warning(
                "%s: %s rows do not match the mapping's walk: no origin", mapping.name, entity
            )
            continue
        keep = [(r, it) for r, it in zip(rows, items, strict=True) if it.record in loaded]
        if not keep:
            continue
        ids = _row_ids(entity, [dict(r) for r, _ in keep], system)
        for (_, it), (row_id, row_key) in zip(keep, ids, strict=True):
            x12 = records[it.record]["_x12"]
            segment = it.obj.get("_at") if it.parents else f"ST@{x12['position']}"
            out.append(
                Origin(
                    entity,
                    row_id,
                    row_key,
                    partner,
                    batch_id,
                    x12.get("file"),
                    str(x12["isa13"]),
                    str(x12["gs06"]),
                    str(x12["st02"]),
                    str(x12["set"]),
                    segment,
                    it.positions,
                    now,
                )
            )
    return out
