"""Transaction sets for the schema/loop/validation/format tests, built from segment lines
with the reader's own test envelope (x12text), so each test states only its body."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12text import group, interchange, render

from connectors.x12 import Transaction, iter_transactions


def st(body: list[str], set_id: str = "850", control: str = "0001") -> list[str]:
    """ST, the body, and an SE with the right count."""
    return [f"ST*{set_id}*{control}", *body, f"SE*{len(body) + 2}*{control}"]


def x12(*sets: list[str]) -> bytes:
    """One interchange, one group (GS08 004010) holding `sets`."""
    return render(interchange(group(*sets)))


def tx(body: list[str], set_id: str = "850") -> Transaction:
    """The one transaction set of a file holding only `body`."""
    found = list(iter_transactions(x12(st(body, set_id))))
    assert len(found) == 1
    return found[0]


PO_BODY = [
    "BEG*00*SA*PO123**20261203",
    "CUR*BY*USD",
    "REF*DP*042",
    "REF*IA*V1",
    "DTM*002*20261210",
    "N1*ST*STORE 42*92*0042",
    "N3*1 MAIN ST",
    "N4*SPRINGFIELD*IL*62701*US",
    "N1*BT*ACME*92*0001",
    "PO1*1*12*EA*4.25*PE*UP*012345678905*VN*WID-100",
    "PID*F****BLUE WIDGET",
    "MEA**WT*2*LB",
    "PO4*6",
    "PO1*2*5*EA*10**VN*GAD-200",
    "PID*F****GADGET",
    "CTT*2",
    "AMT*TT*101",
]
