"""Crafted X12 for the reader tests: an interchange written with '*' and '~', then put
into any delimiters, so each test states only what it is about."""

from __future__ import annotations

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
