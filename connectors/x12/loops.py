"""Group a transaction set's body segments into the loop tree its schema describes.

X12 loops have no end marker: a loop begins at its trigger segment and ends where a
segment that belongs to it can no longer follow. The grouping walks the schema the way
the standard reads a set: each segment is looked for forward from the current place, in
the current loop, then in the loops around it (closing the inner ones); a loop's trigger
opens a new instance. Nothing is ever dropped: a segment the schema does not know, or that
comes where it cannot be, is kept at the current place and reported (AK304 1 or 2), so the
format still hands it to a mapping and the validation still names it.

HL loops are one flat repeat in the schema; their hierarchy comes from HL01/HL02 pointers
(`hl_tree`), never from the order alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from connectors.x12.model import Segment, Transaction
from connectors.x12.schema import Entry, LoopSpec, Schema, SegmentUse

UNRECOGNIZED = "1"  # AK304: segment not in the set at all
UNEXPECTED = "2"  # AK304: in the set, but not where it was found


@dataclass(slots=True)
class Placed:
    """A segment where the grouping put it: the schema use it matched, and why it is not
    where the schema wants it (UNRECOGNIZED: no use; UNEXPECTED: out of order, with the
    use it has earlier in an open loop, or none)."""

    segment: Segment
    use: SegmentUse | None
    problem: str = ""


@dataclass(slots=True)
class Loop:
    """One loop instance (or the set body itself, `id` ''), its items in file order."""

    id: str
    spec: LoopSpec | None
    items: list[Placed | Loop] = field(default_factory=list)

    @property
    def trigger(self) -> Segment | None:
        first = self.items[0] if self.items else None
        return first.segment if isinstance(first, Placed) else None

    def segments(self) -> Iterator[Placed]:
        """Every placed segment of this loop and its inner loops, in file order."""
        for item in self.items:
            if isinstance(item, Loop):
                yield from item.segments()
            else:
                yield item

    def loops(self, loop_id: str) -> list[Loop]:
        """The direct inner loops with `loop_id`."""
        return [i for i in self.items if isinstance(i, Loop) and i.id == loop_id]


class _Index:
    """Where each tag can be in one body: tag -> the entry indexes it matches (a segment
    use, or a loop's trigger), ascending. Built once per body of a cached schema."""

    __slots__ = ("entries", "places")

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self.entries = entries  # kept: the cache is keyed by its id
        self.places: dict[str, list[int]] = {}
        for i, e in enumerate(entries):
            tag = e.trigger if isinstance(e, LoopSpec) else e.seg
            self.places.setdefault(tag, []).append(i)

    def find(self, tag: str, start: int) -> int:
        for i in self.places.get(tag, ()):
            if i >= start:
                return i
        return -1


_INDEXES: dict[int, _Index] = {}
_TAGS: dict[int, tuple[Schema, frozenset[str]]] = {}


def _index(entries: tuple[Entry, ...]) -> _Index:
    found = _INDEXES.get(id(entries))
    if found is None or found.entries is not entries:
        found = _INDEXES[id(entries)] = _Index(entries)
    return found


@dataclass(slots=True)
class _Frame:
    loop: Loop
    entries: tuple[Entry, ...]
    cursor: int = 0
    index: _Index | None = None

    def find(self, tag: str) -> int:
        """Index of the first entry at or after the cursor that `tag` can be, or -1.

        In a loop's own frame the trigger (entry 0) is never matched again: a second
        trigger is a new instance, opened by the frame around it.
        """
        if self.index is None:
            self.index = _index(self.entries)
        return self.index.find(tag, max(self.cursor, 1 if self.loop.spec is not None else 0))


def _all_tags(entries: tuple[Entry, ...], into: set[str]) -> set[str]:
    for e in entries:
        if isinstance(e, LoopSpec):
            _all_tags(e.body, into)
        else:
            into.add(e.seg)
    return into


def _known(schema: Schema) -> frozenset[str]:
    """Every segment tag of the schema (cached per schema object)."""
    found = _TAGS.get(id(schema))
    if found is None or found[0] is not schema:
        found = _TAGS[id(schema)] = (schema, frozenset(_all_tags(schema.body, set())))
    return found[1]


def group(segments: list[Segment], schema: Schema) -> Loop:
    """The loop tree of a set's body (ST and SE excluded) under `schema`."""
    root = Loop("", None)
    stack = [_Frame(root, schema.body)]
    known = _known(schema)
    for seg in segments:
        depth, index = _locate(stack, seg.tag)
        if index < 0:
            _misplaced(stack, seg, known)
            continue
        del stack[depth + 1 :]
        frame = stack[depth]
        frame.cursor = index
        entry = frame.entries[index]
        if isinstance(entry, LoopSpec):
            inner = Loop(entry.loop, entry)
            frame.loop.items.append(inner)
            first = entry.body[0]
            assert isinstance(first, SegmentUse)
            inner.items.append(Placed(seg, first))
            stack.append(_Frame(inner, entry.body, 1))
        else:
            frame.loop.items.append(Placed(seg, entry))
    return root


def _locate(stack: list[_Frame], tag: str) -> tuple[int, int]:
    """(frame depth, entry index) where `tag` fits, innermost loop first; (-1, -1) if none."""
    for depth in range(len(stack) - 1, -1, -1):
        index = stack[depth].find(tag)
        if index >= 0:
            return depth, index
    return -1, -1


def _misplaced(stack: list[_Frame], seg: Segment, known: frozenset[str]) -> None:
    """Keep a segment that cannot come here. One the schema has earlier in an open loop
    (out of order) joins that loop as its use, so it still counts as present; any other
    stays at the current place. Nothing moves the cursors: the segments after it are
    read as if it were not there."""
    for frame in reversed(stack):
        first = 1 if frame.loop.spec is not None else 0
        for e in frame.entries[first : frame.cursor + 1]:
            if isinstance(e, SegmentUse) and e.seg == seg.tag:
                frame.loop.items.append(Placed(seg, e, UNEXPECTED))
                return
    problem = UNEXPECTED if seg.tag in known else UNRECOGNIZED
    stack[-1].loop.items.append(Placed(seg, None, problem))


def group_transaction(tx: Transaction, schema: Schema) -> Loop:
    return group(tx.segments, schema)


def set_position(tx: Transaction, seg: Segment) -> int:
    """A segment's position in its set, ST = 1 (AK302)."""
    return seg.position - tx.header.position + 1


@dataclass(slots=True)
class HLNode:
    """One HL loop in its hierarchy: id (HL01), parent id (HL02), level code (HL03)."""

    loop: Loop
    id: str
    parent_id: str
    level: str
    parent: HLNode | None = None
    children: list[HLNode] = field(default_factory=list)

    def ancestors(self) -> Iterator[HLNode]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


@dataclass(slots=True)
class HLTree:
    """HL loops linked by their pointers; `problems` names each broken pointer."""

    roots: list[HLNode] = field(default_factory=list)
    nodes: list[HLNode] = field(default_factory=list)
    problems: list[tuple[Segment, int, str]] = field(default_factory=list)  # seg, HL0n, why


def hl_tree(loops: list[Loop]) -> HLTree:
    """Link HL loops by HL02 -> HL01. A duplicate id, a parent that is not an earlier HL
    or a missing HL01 is a problem (the node becomes a root); nothing is dropped."""
    tree = HLTree()
    by_id: dict[str, HLNode] = {}
    for loop in loops:
        hl = loop.trigger
        if hl is None:
            continue
        node = HLNode(loop, hl.element(1), hl.element(2), hl.element(3))
        tree.nodes.append(node)
        if not node.id:
            tree.problems.append((hl, 1, "HL01 (hierarchical id) is missing"))
        elif node.id in by_id:
            tree.problems.append((hl, 1, f"HL01 {node.id} is used twice"))
        else:
            by_id[node.id] = node
        parent = by_id.get(node.parent_id) if node.parent_id else None
        if node.parent_id and (parent is None or parent is node):
            tree.problems.append((hl, 2, f"HL02 {node.parent_id} is not an earlier HL01"))
            parent = None
        if parent is None:
            tree.roots.append(node)
        else:
            node.parent = parent
            parent.children.append(node)
    return tree
