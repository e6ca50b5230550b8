"""One X12 transaction set as a nested dict a mapping reads with plain paths.

The shape follows the set's loop tree (`connectors.x12.loops`):

- a segment is a dict of its non-empty elements keyed by reference designator
  (`BEG: {BEG01: '00', BEG03: 'PO123'}`, read as `BEG.BEG03`); a segment the schema allows
  more than once is always a list (`REF[REF01=IA].REF02`, `DTM[DTM01=002].DTM02`);
- a loop is always a list of dicts, keyed by its loop id; each loop dict holds its trigger
  segment's elements directly (so `N1[N101=ST].N102` selects on them) and its other
  segments and inner loops by tag (`PO1` items: `PO102`, `PID[PID01=F].PID05`, `PO4.PO401`);
- a set with HL loops keeps them in file order under `HL` and also gets them by level:
  `shipment` (the first S level), `shipments`, `orders`, `tares`, `packs`, `items`, where
  each one also carries its ancestors' own segments by level name (`order`, `pack`,
  `shipment`, ...) so an item row reads `order.PRF.PRF01` directly;
- a segment the schema does not place is kept under its tag (a list) in the loop it came in.
"""

from __future__ import annotations

from typing import Any

from connectors.x12.loops import Loop, Placed, hl_tree

#: HL03 level codes and the names their loops get in a record
HL_LEVELS = {"S": "shipment", "O": "order", "T": "tare", "P": "pack", "I": "item"}


def segment_dict(placed: Placed) -> dict[str, Any]:
    """The non-empty elements of a segment by reference designator."""
    seg = placed.segment
    return {f"{seg.tag}{n:02d}": v for n, v in enumerate(seg.elements, 1) if v != ""}


def loop_dict(loop: Loop) -> dict[str, Any]:
    """A loop instance (or the set body) as a dict: trigger elements merged, the rest by tag."""
    out: dict[str, Any] = {}
    items = loop.items
    if loop.spec is not None and items and isinstance(items[0], Placed):
        out.update(segment_dict(items[0]))
        items = items[1:]
    for item in items:
        if isinstance(item, Loop):
            out.setdefault(item.id, []).append(loop_dict(item))
            continue
        tag = item.segment.tag
        value = segment_dict(item)
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
