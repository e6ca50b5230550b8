"""Conformance: the X12 reader on the real public samples in ../shared/samples/x12.

Each file's expected outcome was determined by reading the file by hand: how many
interchanges, groups and sets it holds, and which envelope issues (level, ack code) it
really has. A regression in either direction (a tolerance lost, a problem no longer seen)
fails here. Also: reading in tiny blocks gives the same segments as reading whole, and on
every file pyx12's X12Reader can read, its segments equal ours. The files are read where
they are (never copied); where ../shared is absent the module is skipped as a whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.x12 import iter_segments, read_document

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "x12"
pytestmark = pytest.mark.shared  # tests/shared/conftest.py: run only where the samples are

IC, G, T = "interchange", "group", "transaction"

# file -> (interchanges, groups, sets, sorted issues as (level, code)); none raises X12Error.
EXPECTED: dict[str, tuple[int, int, int, list[tuple[str, str]]]] = {
    "bots__810-004010-01.x12": (1, 1, 2, []),
    "bots__810-004030VICS-01.x12": (1, 1, 2, []),
    "bots__850-004010-01.x12": (1, 1, 1, []),  # LF terminator, ISA16 '@', 00302
    # two GS with GS06 5, and ST02 000000001 twice in each group
    "bots__850-004010-02.x12": (1, 2, 4, [(G, "19"), (T, "23"), (T, "23")]),
    "bots__850-004010-07.x12": (1, 1, 2, []),  # '~' + space
    "bots__850-004010-08.x12": (1, 1, 2, []),  # wrapped at 80 columns, ISA too
    "bots__850-004010-12.x12": (3, 3, 3, []),
    "bots__850-004010.15.x12": (1, 1, 4, []),
    "bots__850-004010VICS-01.x12": (1, 1, 4, []),  # DEL / NAK delimiters
    "bots__855-004010UCS-01.x12": (1, 1, 6, []),
    "bots__856_2.x12": (1, 1, 2, []),
    "bots__997_6.x12": (1, 1, 4, []),
    "bots__PARTNER2_20130123_1.x12": (1, 1, 2, []),  # + : ' delimiters
    # 8 interchanges with NAK and '~' terminators; holds 850-004010-02's duplicates; ^Z at end
    "bots__mailbag01.x12": (8, 9, 14, [(G, "19"), (T, "23"), (T, "23")]),
    "ediengine__850.OK.edi": (1, 1, 1, []),
    "ediengine__856.Crossdock.OK.edi": (1, 1, 1, []),
    "ediengine__940.OK.edi": (1, 1, 1, []),  # no final line end: IEA unterminated, kept
    "ediengine__940_Failed_SE01.edi": (1, 1, 1, [(T, "4")]),  # SE01 12, counted 9
    "ediengine__MultipleInterchangesAndGroups.edi": (2, 4, 6, []),  # IEA02 3439 = 000003439
    "edinet__204-MGCTLYST-SAMPLE.EDI": (1, 1, 1, [(T, "4")]),  # SE01 41, counted 38
    "edinet__990-MGCTLYST-SAMPLE.EDI": (1, 1, 1, []),
    "edinet__x12.214.edi": (1, 1, 1, []),  # BOM, ISA wrapped over 2 lines
    # ISA08 padded with NBSP is 11 characters; IEA02 000000001 against ISA13 000000055
    "edinet__x12.850a.edi": (1, 1, 1, [(IC, "001"), (IC, "008")]),
    "gtlogistics__no-iea-trailer.edi": (1, 0, 0, [(IC, "017"), (IC, "023")]),  # ISA12 00000
    "inteligenz__ORD_180_FromLowes.txt": (1, 1, 1, []),  # '\' terminator, UTF-8 in ISA08
    "inteligenz__ORD_810_Example5_Walmart.txt": (1, 1, 1, [(IC, "017")]),  # ISA12 00040
    "inteligenz__ORD_846_Example1.txt": (1, 1, 1, [(IC, "016")]),  # ISA11 ' ' in 00401
    "inteligenz__ORD_850_Example1_PGWGlass.txt": (1, 1, 1, []),  # '|' terminator
    "inteligenz__ORD_855_Example1_Adobe.txt": (1, 1, 1, []),  # CR terminator
    "inteligenz__ORD_856_FromGregarican.txt": (1, 1, 1, []),
    # ISA06 is 14 characters; the N1 has no terminator, so N3 is inside it: SE01 10, read 9
    "inteligenz__ORD_860_Example1.txt": (1, 1, 1, [(IC, "006"), (T, "4")]),
    # the GS has an extra element, so GS06 is its date: GE02 31 against '20021104'
    "inteligenz__WAR_945_inter-americanproducts.txt": (1, 1, 1, [(G, "4")]),
    "nodex12__850.edi": (1, 1, 1, []),
    "nodex12__850_2.edi": (1, 1, 1, []),
    "nodex12__850_3.edi": (1, 1, 1, []),
    "nodex12__855.edi": (1, 1, 1, []),
    "nodex12__856.edi": (1, 1, 1, []),
    "omniparser__1_canadapost_edi_214.input.txt": (1, 1, 19, []),
    "staedi__invalid997.edi": (1, 1, 1, []),  # its errors are in the 997's content
    "staedi__simple810.edi": (1, 1, 2, []),
    "staedi__simple997-multiple-interchanges.edi": (3, 3, 3, []),
    # ISA02/04 are 1 character, ISA06/08 are 14 (an old 003010 file)
    "stupidedi__003010-PC860-fail-1.edi": (
        1,
        1,
        1,
        [(IC, "006"), (IC, "008"), (IC, "011"), (IC, "013")],
    ),
    "stupidedi__004010-AR943-pass-1.edi": (1, 1, 1, []),
    "stupidedi__004010-IN810-pass-1.edi": (1, 1, 1, []),
    "stupidedi__004010-PO850-pass-1.edi": (1, 1, 1, [(IC, "008")]),  # ISA08 is 16 characters
    "stupidedi__004010-PR855-pass-1.edi": (1, 1, 1, []),
    "stupidedi__004010-RE944-pass-1.edi": (1, 1, 1, []),
    # three segments end in '~' instead of '$': they run into one, SE01 25 against 22
    "stupidedi__004010-SH856-fail-2.edi": (1, 1, 1, [(T, "4")]),
    "stupidedi__004010-X357-pass-basic-po.edi": (1, 1, 1, []),
    # '// n' comment lines: junk before the ISA, and the GS and everything after it are
    # hidden in comment-prefixed segments (outside any set), so no IEA is seen either
    "vscodeedi__850-comments.x12": (1, 0, 0, [(IC, "023"), (IC, "024"), (IC, "024")]),
    "vscodeedi__multiple_transactions.x12": (1, 1, 2, []),
    "x12types__004010_850.edi": (1, 1, 1, []),
}

# pyx12 4.0's X12Reader reads these (00401/00501 ISA of exactly 106 ASCII bytes, no BOM).
PYX12_READS = [
    "bots__810-004010-01.x12",
    "bots__850-004010-12.x12",
    "bots__850-004010VICS-01.x12",
    "bots__855-004010UCS-01.x12",
    "ediengine__856.Crossdock.OK.edi",
    "edinet__204-MGCTLYST-SAMPLE.EDI",
    "nodex12__850_3.edi",
    "nodex12__855.edi",
    "omniparser__1_canadapost_edi_214.input.txt",
    "staedi__invalid997.edi",
    "staedi__simple810.edi",
    "staedi__simple997-multiple-interchanges.edi",
    "stupidedi__004010-AR943-pass-1.edi",
    "stupidedi__004010-IN810-pass-1.edi",
    "stupidedi__004010-RE944-pass-1.edi",
    "stupidedi__004010-X357-pass-basic-po.edi",
    "vscodeedi__multiple_transactions.x12",
    "x12types__004010_850.edi",
    "ediengine__940_Failed_SE01.edi",  # pyx12 drops its unterminated IEA; we keep it
]

FILES = (
    sorted(p.name for p in SAMPLES.iterdir() if p.name != "SOURCES.md") if SAMPLES.is_dir() else []
)


def test_every_sample_has_an_expected_outcome() -> None:
    assert sorted(EXPECTED) == FILES, "a sample was added or removed: decide its outcome"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_outcome(name: str) -> None:
    doc = read_document(SAMPLES / name, name=name)
    assert doc.error is None, doc.error
    counts = (
        len(doc.interchanges),
        sum(len(n.groups) for n in doc.interchanges),
        sum(1 for _ in doc.transactions()),
    )
    issues = sorted((i.level, i.code) for i in doc.issues())
    expected = EXPECTED[name]
    assert (*counts, issues) == expected, [i.message for i in doc.issues()]
    for issue in doc.issues():  # every issue says where
        assert issue.position is not None or issue.offset is not None


def segments(source: object) -> list[list[str]]:
    """Every segment the reader yields, envelope included, as [tag, *elements]."""
    return [[s.tag, *s.elements] for s in iter_segments(source)]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tiny_blocks_read_the_same(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    blocks = [data[i : i + 13] for i in range(0, len(data), 13)]
    assert segments(iter(blocks)) == segments(data)


@pytest.mark.parametrize("name", PYX12_READS)
def test_same_segments_as_pyx12(name: str) -> None:
    from pyx12.x12file import X12Reader

    with X12Reader(str(SAMPLES / name)) as reader:
        theirs = [[s.get_seg_id(), *[e.format() for e in s.elements]] for s in reader]
    ours = segments(SAMPLES / name)
    if name == "ediengine__940_Failed_SE01.edi":
        assert ours[-1][0] == "IEA" and ours[:-1] == theirs
    else:
        assert ours == theirs
