"""Crafted X12 for the reader tests: an interchange written with '*' and '~', then put
into any delimiters, so each test states only what it is about."""

from __future__ import annotations

import random

ISA_FIELDS = [
    "00",
    " " * 10,
    "00",
    " " * 10,
    "ZZ",
    "SENDER".ljust(15),
    "ZZ",
    "RECEIVER".ljust(15),
    "261203",
    "0815",
    "U",
    "00401",
    "000000001",
    "0",
    "P",
]


def isa(sub: str = ">", **fields: str) -> str:
    """An ISA segment with '*' separators (no terminator); `fields` e.g. isa12='00501'."""
    values = list(ISA_FIELDS)
    for key, value in fields.items():
        values[int(key[3:]) - 1] = value
    return "*".join(["ISA", *values, sub])


def po(
    control: str = "0001", lines: int = 2, count: int | None = None, se: str | None = None
) -> list[str]:
    """One 850 (ST..SE); `count`/`se` override SE01/SE02 to make it wrong."""
    body = ["BEG*00*SA*PO" + control + "**20261203", "N1*ST*DC EAST*92*0042"]
    body += [f"PO1*{i}*{i * 2}*EA*1.50**VN*SKU{i}" for i in range(1, lines + 1)]
    body.append(f"CTT*{lines}")
    return [
        f"ST*850*{control}",
        *body,
        f"SE*{len(body) + 2 if count is None else count}*{control if se is None else se}",
    ]


def group(
    *sets: list[str], control: str = "1", count: int | None = None, ge: str | None = None
) -> list[str]:
    segments = [f"GS*PO*SENDER*RECEIVER*20261203*0815*{control}*X*004010"]
    for s in sets:
        segments += s
    n = len(sets) if count is None else count
    return [*segments, f"GE*{n}*{control if ge is None else ge}"]


def interchange(
    *groups: list[str],
    control: str = "000000001",
    count: int | None = None,
    iea: str | None = None,
    **isa_fields: str,
) -> list[str]:
    segments = [isa(isa13=control, **isa_fields)]
    for g in groups:
        segments += g
    n = len(groups) if count is None else count
    return [*segments, f"IEA*{n}*{control if iea is None else iea}"]


def render(
    segments: list[str], sep: str = "*", term: str = "~", after: str = "\n", encoding: str = "ascii"
) -> bytes:
    """The segments in these delimiters, each followed by `term` and `after`."""
    return "".join(s.replace("*", sep) + term + after for s in segments).encode(encoding)


def simple(sets: int = 2, **kw: str) -> bytes:
    """A clean file: one interchange, one group, `sets` purchase orders."""
    return render(interchange(group(*[po(f"{i:04d}") for i in range(1, sets + 1)])), **kw)


def good_for_fuzz() -> bytes:
    """Two interchanges, the second in other delimiters ('|', "'" and CR LF)."""
    first = render(interchange(group(*[po(f"{i:04d}", lines=3) for i in range(1, 6)])))
    second = [
        isa(sub="^", isa13="000000002"),
        *interchange(group(po("0009")), control="000000002")[1:],
    ]
    return first + render(second, sep="|", term="'", after="\r\n")


def damaged(rng: random.Random, good: bytes) -> bytes:
    """`good` truncated, with bytes flipped, deleted or inserted (one kind, at random)."""
    data = bytearray(good)
    kind = rng.choice(["truncate", "flip", "both", "delete", "insert"])
    if kind in ("truncate", "both"):
        del data[rng.randrange(len(data)) :]
    if kind in ("flip", "both"):
        for _ in range(rng.randint(1, 12)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
    if kind == "delete" and data:
        at = rng.randrange(len(data))
        del data[at : at + rng.randint(1, 40)]
    if kind == "insert":
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    return bytes(data)
