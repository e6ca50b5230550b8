"""One level of a mapping over columns: the rows of an entity and how they relate.

A level is what the per-record path's `Item` list is, column-wise: the record (or array
item) of each row, its ancestors (gathered by index, for `^` paths), the source record it
came from, its position in its array and its parent's row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.columnar.values import Col, Lit, arrow, broadcast, cached, py
from transforms.delivery import is_delivery_path
from transforms.paths import _parse, _step_index, _step_key, _step_where

Getter = Callable[[Any, Sequence[Any]], Any]


@dataclass
class Level:
    rec: Col
    parents: list[tuple[Col, pa.Array]]  # (ancestor records, its row for each of ours)
    record: pa.Array  # int64: source record index
    position: pa.Array  # int64: index within the exploded array
    prow: pa.Array  # int64: row of the parent level (-1 at the root)

    @property
    def n(self) -> int:
        return len(self.record)

    def take(self, idx: pa.Array) -> Level:
        return Level(
            take(self.rec, idx),
            [(r, pc.take(i, idx)) for r, i in self.parents],
            pc.take(self.record, idx),
            pc.take(self.position, idx),
            pc.take(self.prow, idx),
        )

    def python_items(self) -> tuple[list[Any], list[tuple[Any, ...]]]:
        """Records and parent chains as Python values (the per-value fallback)."""
        recs = py(self.rec, self.n)
        chains: list[list[Any]] = [[] for _ in range(self.n)]
        for r, idx in self.parents:
            values = py(r, len(r))
            for row, i in enumerate(idx.to_pylist()):
                chains[row].append(values[i])
        return recs, [tuple(c) for c in chains]


def take(col: Col, idx: pa.Array) -> Col:
    if isinstance(col, pa.Array):
        return pc.take(col, idx)
    return [col[i] for i in idx.to_pylist()]


def root_level(table: pa.Table) -> Level:
    n = table.num_rows
    names = table.column_names
    arrays = [table.column(c).combine_chunks() for c in names]
    rec = pa.StructArray.from_arrays(arrays, names=names) if names else pa.nulls(n)
    rows = pa.array(np.arange(n, dtype=np.int64))
    return Level(rec, [], rows, rows, pa.array(np.full(n, -1, dtype=np.int64)))


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def explode(level: Level, arr: Col) -> Level:
    """Each item of `arr` (per row) becomes a row; a single non-null value is one item."""
    parents = [*level.parents, (level.rec, pa.array(np.arange(level.n, dtype=np.int64)))]
    a = arrow(arr, level.n) if not isinstance(arr, pa.Array) else arr
    if a is not None and not _is_list(a.type) and a.null_count == 0:
        # one item per row (a flat row that is also its own child): no gather needed
        rows = parents[-1][1]
        return Level(a, parents, level.record, pa.array(np.zeros(level.n, np.int64)), rows)
    if a is not None and _is_list(a.type):
        lengths = pc.fill_null(pc.list_value_length(a), 0).to_numpy().astype(np.int64)
        parent = np.repeat(np.arange(level.n, dtype=np.int64), lengths)
        starts = np.cumsum(lengths) - lengths
        pos = np.arange(len(parent), dtype=np.int64) - starts[parent]
        items: Col = pc.list_flatten(a)
    elif a is not None:
        parent = np.flatnonzero(pc.is_valid(a).to_numpy(zero_copy_only=False))
        pos = np.zeros(len(parent), dtype=np.int64)
        items = pc.take(a, pa.array(parent))
    else:
        values = py(arr, level.n)
        plist, poslist, out = [], [], []
        for row, v in enumerate(values):
            if v is None:
                continue
            for j, x in enumerate(v if isinstance(v, list) else [v]):
                plist.append(row)
                poslist.append(j)
                out.append(x)
        parent, pos, items = np.array(plist, np.int64), np.array(poslist, np.int64), out
    pidx = pa.array(parent, pa.int64())
    return Level(
        items,
        [(r, pc.take(i, pidx)) for r, i in parents],
        pc.take(level.record, pidx),
        pa.array(pos, pa.int64()),
        pidx,
    )


class PathEval:
    """A path compiled for columns; the per-record getter runs where a step cannot."""

    def __init__(self, text: str, getter: Getter) -> None:
        body, up = text.strip(), 0
        while body.startswith("^"):
            up += 1
            body = body[1:].lstrip(".")
        self.up, self.getter, self.text = up, getter, text
        self.delivery = is_delivery_path(text)  # one value for the whole batch
        self.itself = body in (".", "$") and not up
        self.steps = [] if self.itself or not body else _parse(body)
        self.flat = len(self.steps) == 1 and self.steps[0][0] == "key" and not up
        self.vectorised = True  # every step has an Arrow form (types decide at run time)

    def __call__(self, level: Level) -> Col:
        if self.delivery:
            return broadcast(Lit(self.getter(None, ())), level.n)
        if self.up:
            return self._eval(level)
        return cached(level.rec, ("path", self.text), lambda: self._eval(level))  # type: ignore[no-any-return]

    def _eval(self, level: Level) -> Col:
        n = level.n
        if self.up:
            if self.up > len(level.parents):
                return pa.nulls(n)
            r, idx = level.parents[-self.up]
            cur: Col = take(r, idx)
        else:
            cur = level.rec
        if self.itself:
            return cur
        for i, (kind, arg) in enumerate(self.steps):
            if not isinstance(cur, pa.Array):
                return self._python(cur, i)
            nxt = _arrow_step(cur, kind, arg, self.flat)
            if nxt is None:
                return self._python(cur, i)
            cur = nxt
        return cur

    def _python(self, cur: Col, start: int) -> list[Any]:
        fns: dict[str, Callable[[Any, Any], Any]] = {
            "key": _step_key,
            "index": _step_index,
            "where": _step_where,
        }
        out = []
        for v in py(cur, len(cur)):
            if self.flat:
                out.append(v.get(self.steps[0][1]) if isinstance(v, dict) else None)
                continue
            for kind, arg in self.steps[start:]:
                if v is None:
                    break
                v = fns[kind](v, arg)
            out.append(v)
        return out


def _arrow_step(cur: pa.Array, kind: str, arg: Any, flat: bool) -> pa.Array | None:
    """One path step in Arrow, or None when it needs Python (lists under a key, selectors)."""
    t, n = cur.type, len(cur)
    if pa.types.is_null(t):
        return cur
    if kind == "key":
        if pa.types.is_struct(t):
            names = [t.field(i).name for i in range(t.num_fields)]
            return pc.struct_field(cur, [names.index(arg)]) if arg in names else pa.nulls(n)
        if _is_list(t) and not flat:
            return _key_of_single(cur, arg)
        if pa.types.is_map(t):
            return None
        return pa.nulls(n)
    if kind == "index":
        if _is_list(t):
            lengths = pc.fill_null(pc.list_value_length(cur), 0)
            pos = pc.add(lengths, arg) if arg < 0 else pa.scalar(arg, pa.int32())
            inside = pc.and_(pc.greater_equal(pos, 0), pc.less(pos, lengths))
            starts = pc.subtract(pc.cumulative_sum(lengths), lengths)
            at = pc.if_else(inside, pc.add(starts, pos), pa.nulls(n, starts.type))
            return pc.take(pc.list_flatten(cur), at)
        return cur if arg in (0, -1) else pa.nulls(n)
    return _where(cur, arg)


def _key_of_single(cur: pa.Array, key: str) -> pa.Array | None:
    """A key applied to lists (repeatable XML elements): a list of one item steps into it;
    any other length maps over the items (Python, as the per-record path does)."""
    lengths = pc.list_value_length(cur)
    if not pc.all(pc.equal(pc.fill_null(lengths, 1), 1)).as_py():
        return None
    items = pc.list_flatten(cur)
    valid = pc.is_valid(cur)
    if valid.false_count:
        at = np.cumsum(valid.to_numpy(zero_copy_only=False)) - 1
        items = pc.take(items, pa.array(at, mask=~valid.to_numpy(zero_copy_only=False)))
    return _arrow_step(items, "key", key, False)


def _where(cur: pa.Array, cond: tuple[str, str]) -> pa.Array | None:
    """`[KEY=VALUE]`: the first item (of a list, or the value itself) whose KEY, as text,
    is VALUE; None (Python) for key types whose text Arrow does not write as `str()`."""
    key, expected = cond
    t, n = cur.type, len(cur)
    listed = _is_list(t)
    items = pc.list_flatten(cur) if listed else cur
    it = items.type
    if not pa.types.is_struct(it) or expected == "None":
        return None
    names = [it.field(i).name for i in range(it.num_fields)]
    if key not in names:
        return pa.nulls(n, it)
    value = pc.struct_field(items, [names.index(key)])
    if not (pa.types.is_string(value.type) or pa.types.is_integer(value.type)):
        return None
    hit = pc.and_(
        pc.is_valid(items), pc.fill_null(pc.equal(pc.cast(value, pa.string()), expected), False)
    )
    if not listed:
        return pc.if_else(hit, cur, pa.nulls(n, it))
    lengths = pc.fill_null(pc.list_value_length(cur), 0).to_numpy().astype(np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
    at = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    first_owner, first = np.unique(owner[at], return_index=True)
    pick = np.full(n, -1, dtype=np.int64)
    pick[first_owner] = at[first]
    return pc.take(items, pa.array(pick, mask=pick < 0))
