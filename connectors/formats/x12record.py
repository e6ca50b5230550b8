"""One X12 transaction set as a nested dict a mapping reads with plain paths.

The shape follows the set's loop tree (`connectors.x12.loops`):

- a segment is a dict of its non-empty elements keyed by reference designator
  (`BEG: {BEG01: '00', BEG03: 'PO123'}`, read as `BEG.BEG03`); a segment the schema allows
  more than once is always a list (`REF[REF01=IA].REF02`, `DTM[DTM01=002].DTM02`);
- a loop is always a list of dicts, keyed by its loop id; each loop dict holds its trigger
  segment's elements directly (so `N1[N101=ST].N102` selects on them) and its other
  segments and inner loops by tag (`PO1` items: `PO102`, `PID[PID01=F].PID05`, `PO4.PO401`),
  and `_n`, its 1-based place among its siblings (a line number when PO101 is empty);
- a segment with (qualifier, product id) pairs (PO1, LIN, SLN) also has them as `ids`
  (`ids.VN` is the vendor's item number wherever the partner put the pair);
- a set with HL loops keeps them in file order under `HL` and also gets them by level:
  `shipment` (the first S level), `shipments`, `orders`, `tares`, `packs`, `items`, where
  each one also carries its ancestors' own segments by level name (`order`, `pack`,
  `shipment`, ...) so an item row reads `order.PRF.PRF01` directly;
- a segment the schema does not place is kept under its tag (a list) in the loop it came in;
- every segment dict (so every loop dict, through its trigger) has `_at`, its tag and
  segment number in the file (`PO1@12`): the EDI inbox derives each loaded value's
  segment from it (`omshub.edi.origins`).
"""

from __future__ import annotations

from typing import Any

from connectors.x12.loops import Loop, Placed, hl_tree
from connectors.x12.schema import Schema

#: HL03 level codes and the names their loops get in a record
HL_LEVELS = {"S": "shipment", "O": "order", "T": "tare", "P": "pack", "I": "item"}


def segment_dict(placed: Placed, schema: Schema) -> dict[str, Any]:
    """The non-empty elements of a segment by reference designator, plus `ids` for a
    segment with (qualifier, product id) pairs."""
    seg = placed.segment
    out: dict[str, Any] = {f"{seg.tag}{n:02d}": v for n, v in enumerate(seg.elements, 1) if v}
    out["_at"] = f"{seg.tag}@{seg.position}"
    spec = schema.segment(seg.tag)
    if spec is not None and spec.pairs is not None:
        ids: dict[str, str] = {}
        for n in range(spec.pairs, len(seg.elements), 2):
            qualifier, value = seg.element(n), seg.element(n + 1)
            if qualifier and value:
                ids.setdefault(qualifier, value)  # the first of a repeated qualifier
        out["ids"] = ids
    return out


def loop_dict(loop: Loop, schema: Schema) -> dict[str, Any]:
    """A loop instance (or the set body) as a dict: trigger elements merged, the rest by tag."""
    out: dict[str, Any] = {}
    items = loop.items
    if loop.spec is not None and items and isinstance(items[0], Placed):
        out.update(segment_dict(items[0], schema))
        items = items[1:]
    for item in items:
        if isinstance(item, Loop):
            siblings = out.setdefault(item.id, [])
            inner = loop_dict(item, schema)
            inner["_n"] = len(siblings) + 1
            siblings.append(inner)
            continue
        tag = item.segment.tag
        value = segment_dict(item, schema)
        many = item.use is None or item.use.max != 1
        present = out.get(tag)
        if present is None:
            out[tag] = [value] if many else value
        elif isinstance(present, list):
            present.append(value)
        else:  # a second one of a max-1 segment: kept, the validation reports it
            out[tag] = [present, value]
    return out


def add_hl_levels(record: dict[str, Any], root: Loop) -> None:
    """`shipment`/`orders`/`tares`/`packs`/`items` and ancestor links from the HL tree."""
    hl_loops = root.loops("HL")
    if not hl_loops:
        return
    dicts = record.get("HL", [])
    own = {id(loop): d for loop, d in zip(hl_loops, dicts, strict=True)}
    lists: dict[str, list[dict[str, Any]]] = {name: [] for name in HL_LEVELS.values()}
    for node in hl_tree(hl_loops).nodes:
        level = HL_LEVELS.get(node.level)
        if level is None:
            continue
        linked = dict(own[id(node.loop)])  # the HL list keeps each level's own segments
        for up in node.ancestors():
            name = HL_LEVELS.get(up.level)
            if name and name not in linked:
                linked[name] = own[id(up.loop)]
        lists[level].append(linked)
    for name, found in lists.items():
        record[f"{name}s"] = found
    record["shipment"] = lists["shipment"][0] if lists["shipment"] else None
