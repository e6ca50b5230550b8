"""Loop grouping by schema: loops open at their trigger and close where their segments can
no longer follow; nothing is dropped; HL hierarchy comes from HL01/HL02."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12sets import PO_BODY, tx

from connectors.x12.loops import (
    UNEXPECTED,
    UNRECOGNIZED,
    Loop,
    Placed,
    group,
    hl_tree,
    set_position,
)
from connectors.x12.schema import load_schema

PO = load_schema("850", "004010")
ASN = load_schema("856", "004010")


def shape(loop: Loop) -> list[object]:
    """Tags and loops as nested lists: ['BEG', ['N1', 'N1', 'N3'], ...]."""
    out: list[object] = []
    for item in loop.items:
        out.append(shape(item) if isinstance(item, Loop) else item.segment.tag)
    return out


def test_850_groups_into_its_loops() -> None:
    root = group(tx(PO_BODY).segments, PO)
    assert shape(root) == [
        "BEG", "CUR", "REF", "REF", "DTM",
        ["N1", "N3", "N4"], ["N1"],
        ["PO1", ["PID", "MEA"], "PO4"], ["PO1", ["PID"]],
        ["CTT", "AMT"],
    ]  # fmt: skip
    po1 = root.loops("PO1")
    assert [p.id for p in po1] == ["PO1", "PO1"]
    assert po1[0].trigger is not None and po1[0].trigger.element(7) == "012345678905"
    assert all(p.problem == "" and p.use is not None for p in root.segments())


def test_a_second_trigger_opens_a_new_instance_and_closes_inner_loops() -> None:
    body = ["BEG*00*SA*1**20261203", "PO1*1*1*EA", "PID*F****A", "PID*F****B", "PO1*2*1*EA"]
    root = group(tx(body).segments, PO)
    assert shape(root) == ["BEG", ["PO1", ["PID"], ["PID"]], ["PO1"]]


def test_unknown_and_out_of_order_segments_are_kept_where_they_came() -> None:
    body = [
        "BEG*00*SA*1**20261203",
        "ZZZ*what",  # not in the 850 at all
        "N1*ST*X",
        "CUR*BY*USD",  # header segment after the N1 loop: out of order
        "PO1*1*1*EA",
        "ZZZ*again",
    ]
    t = tx(body)
    root = group(t.segments, PO)
    placed = list(root.segments())
    assert [p.segment.tag for p in placed] == [s.tag for s in t.segments]  # nothing lost
    problems = {p.segment.element(1): p.problem for p in placed if p.problem}
    assert problems == {"what": UNRECOGNIZED, "BY": UNEXPECTED, "again": UNRECOGNIZED}
    # the out-of-order CUR joins its header use (still counted present), ZZZ stays put
    cur = next(p for p in placed if p.segment.tag == "CUR")
    assert cur.use is not None and cur.use.seg == "CUR"
    assert root.items[1] == placed[1] and isinstance(root.items[1], Placed)
    po1 = root.loops("PO1")[0]
    assert [i.segment.tag for i in po1.items if isinstance(i, Placed)] == ["PO1", "ZZZ"]


def test_set_position_counts_st_as_one() -> None:
    t = tx(PO_BODY)
    assert [set_position(t, s) for s in t.segments[:2]] == [2, 3]
    assert t.trailer is not None and set_position(t, t.trailer) == len(PO_BODY) + 2


ASN_BODY = [
    "BSN*00*SH1*20261203*1415",
    "HL*1**S",
    "TD5*B*2*UPSN*M*UPS Ground",
    "HL*2*1*O",
    "PRF*PO1",
    "HL*3*2*P",
    "MAN*GM*0001",
    "HL*4*3*I",
    "LIN*1*VN*A",
    "SN1**1*EA",
    "HL*5*2*I",
    "LIN*2*VN*B",
    "CTT*5",
]


def test_hl_tree_follows_parent_pointers() -> None:
    root = group(tx(ASN_BODY, "856").segments, ASN)
    hl = root.loops("HL")
    assert len(hl) == 5
    tree = hl_tree(hl)
    assert tree.problems == []
    assert [n.id for n in tree.roots] == ["1"]
    by_id = {n.id: n for n in tree.nodes}
    assert [c.id for c in by_id["2"].children] == ["3", "5"]
    assert [a.level for a in by_id["4"].ancestors()] == ["P", "O", "S"]
    assert [a.level for a in by_id["5"].ancestors()] == ["O", "S"]


def test_hl_tree_names_broken_pointers_and_keeps_the_nodes() -> None:
    body = ["BSN*00*SH1*20261203*1415", "HL*1**S", "HL*2*9*O", "HL*1*1*I", "HL**1*I"]
    root = group(tx(body, "856").segments, ASN)
    tree = hl_tree(root.loops("HL"))
    assert len(tree.nodes) == 4
    assert [(s.position, element, why) for s, element, why in tree.problems] == [
        (tree.nodes[1].loop.trigger.position, 2, "HL02 9 is not an earlier HL01"),  # type: ignore[union-attr]
        (tree.nodes[2].loop.trigger.position, 1, "HL01 1 is used twice"),  # type: ignore[union-attr]
        (tree.nodes[3].loop.trigger.position, 1, "HL01 (hierarchical id) is missing"),  # type: ignore[union-attr]
    ]
    assert [n.id for n in tree.roots] == ["1", "2"]
