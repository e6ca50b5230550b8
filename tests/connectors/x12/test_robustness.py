"""The reader under damage and at size: random truncations and byte flips never raise
anything but X12Error; the fast and the general split agree; a large generated input
streams in bounded memory; crafted files pyx12 can read give pyx12's segments."""

from __future__ import annotations

import contextlib
import random
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12text import damaged, good_for_fuzz, group, interchange, po, render

from connectors.x12 import X12Error, iter_transactions, read_document
from connectors.x12.model import Delimiters
from connectors.x12.splitter import _fast, _general

GOOD = good_for_fuzz()


def test_fuzz_only_x12error() -> None:
    rng = random.Random(20261203)
    errors = 0
    for _ in range(1500):
        data = damaged(rng, GOOD)
        try:
            doc = read_document(data, name="fuzz.x12")
        except Exception as e:  # pragma: no cover - the assertion is the point
            pytest.fail(f"{type(e).__name__}: {e} on {data[:120]!r}")
        if doc.error is not None:
            errors += 1
            assert isinstance(doc.error, X12Error)
            assert str(doc.error).startswith("fuzz.x12")
        for chunked in (iter([data[i : i + 9] for i in range(0, len(data), 9)]),):
            with contextlib.suppress(X12Error):
                list(iter_transactions(chunked))
    assert 0 < errors < 1500  # both outcomes were exercised


@pytest.mark.parametrize(
    "text",
    [
        "ST*850*1~\nBEG*00*SA*1~\nSE*3*1~",  # a block ends at its last terminator
        "ST*850*1~BEG*00*SA*1~SE*3*1~",
        "\r\nST*850*1~\r\nBEG*00*SA*1~\r\nSE*3*1~",
        "\nST*850*1~ BEG*00*SA*1~ SE*3*1~",
    ],
)
def test_fast_and_general_split_agree(text: str) -> None:
    delims = Delimiters("*", ">", "~")
    fast = _fast(text, 1000, delims, 10)
    assert fast is not None
    general = _general(text, 1000, delims, 10, set(), "utf-8")
    assert fast.segments == general.segments and fast.tags == general.tags
    assert [s.position for s in fast.segments] == [11, 12, 13]


@pytest.mark.parametrize("after", ["", "\n", "\r\n", " "])
def test_common_files_take_the_fast_path(monkeypatch: pytest.MonkeyPatch, after: str) -> None:
    """The speed depends on it: a regular file never needs the per-segment loop."""
    from connectors.x12 import splitter

    general = splitter._general
    slow: list[int] = []

    def counted(*args: object, **kw: object) -> splitter.Split:
        split = general(*args, **kw)  # type: ignore[arg-type]
        slow.append(len(split.segments))
        return split

    monkeypatch.setattr(splitter, "_general", counted)
    data = render(
        interchange(group(*[po(f"{i:04d}", lines=9) for i in range(1, 400)])), after=after
    )
    assert len(data) > 100_000  # many regions
    assert sum(len(tx.segments) for tx in iter_transactions(data)) == 399 * 12
    assert sum(slow) == 0


@pytest.mark.parametrize(
    "text",
    [
        "ST*850*1~\nBEG*00*\nSA*1~\nSE*3*1~",  # a line break inside a segment
        "ST*850*1~\n  BEG*00*SA*1~\nSE*3*1~",  # indentation
        "ST*850*1~\nBEG*00*SA*Café~\nSE*3*1~",  # not ASCII
        "ST*850*1~\n~\nSE*3*1~",  # an empty segment
        "SE*3*1~\nIEA*1*1~\nISA*00*x~",  # the next interchange: its own delimiters
        "ST*850*1~\n\tBEG*00*SA*1~\nSE*3*1~",  # a tab
        "ST*850*1~\r\nBEG*00*SA*1~\nSE*3*1~",  # CR LF, then LF alone
        "SE*3*1~\n\x1aIEA*1*1~",  # a DOS EOF mark
    ],
)
def test_fast_split_declines_what_it_cannot_do(text: str) -> None:
    assert _fast(text, 0, Delimiters("*", ">", "~"), 0) is None
    assert _fast("ST*850*1~\nSE*3*1~", 0, Delimiters("*", ">", "~"), 0) is not None


def big_input(sets: int) -> Iterator[bytes]:
    """A generated interchange of `sets` 850s, as 64 KiB-ish blocks (never whole)."""
    segs = interchange(group(po("0001")))
    yield render(segs[:2])
    buf = b""
    for i in range(1, sets + 1):
        buf += render(po(f"{i:09d}", lines=10))
        if len(buf) > 65536:
            yield buf
            buf = b""
    yield buf + render([f"GE*{sets}*1", "IEA*1*000000001"])


def test_streaming_memory_is_bounded() -> None:
    sets = 6000  # 2.2 MB of X12, 60k segments (tracemalloc makes every allocation slow)
    size = sum(len(b) for b in big_input(sets))
    assert size > 2_000_000
    tracemalloc.start()
    try:
        count = 0
        for tx in iter_transactions(big_input(sets)):
            count += 1
            assert tx.issues == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == sets
    # a read block and one split region's segments (~1 MB measured, whatever the input's
    # size), not the file's: the same input held by read_document took ~50 MB
    assert peak < 3_000_000, peak


def test_same_segments_as_pyx12_on_crafted_files(tmp_path: Path) -> None:
    from pyx12.x12file import X12Reader

    for after in ("", "\n", "\r\n"):
        data = render(
            interchange(group(po("0001"), po("0002")), group(po("0003"), control="2")), after=after
        )
        path = tmp_path / "f.x12"
        path.write_bytes(data)
        with X12Reader(str(path)) as reader:
            theirs = [[s.get_seg_id(), *[e.format() for e in s.elements]] for s in reader]
        doc = read_document(data)
        ours = [
            [
                doc.interchanges[0].interchange.header.tag,
                *doc.interchanges[0].interchange.header.elements,
            ]
        ]
        for g in doc.interchanges[0].groups:
            ours.append([g.group.header.tag, *g.group.header.elements])
            for tx in g.transactions:
                assert tx.trailer is not None
                ours += [[s.tag, *s.elements] for s in [tx.header, *tx.segments, tx.trailer]]
            assert g.group.trailer is not None
            ours.append([g.group.trailer.tag, *g.group.trailer.elements])
        trailer = doc.interchanges[0].interchange.trailer
        assert trailer is not None
        ours.append([trailer.tag, *trailer.elements])
        assert ours == theirs
