"""The X12 reader's tolerances: delimiters per ISA, line noise, wrapping, BOM, encodings,
an unterminated last segment, several interchanges, junk around them; offsets and
segment numbers exact; X12Error only when nothing more can be read."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12text import group, interchange, isa, po, render, simple

from connectors.errors import FormatError
from connectors.x12 import (
    X12Error,
    iter_segments,
    iter_transactions,
    read_document,
    read_events,
)
from connectors.x12.model import Segment


def all_segments(data: bytes) -> list[Segment]:
    """Every segment the reader saw, envelope included, in file order."""
    return list(iter_segments(data))


def texts(segments: list[Segment], sep: str = "*") -> list[str]:
    return [sep.join([s.tag, *s.elements]) for s in segments]


CLEAN = interchange(group(po("0001"), po("0002")))


def test_clean_file_events_in_order() -> None:
    kinds = [type(e).__name__ for e in read_events(simple(2))]
    assert kinds == [
        "InterchangeStart",
        "GroupStart",
        "Transaction",
        "Transaction",
        "GroupEnd",
        "InterchangeEnd",
    ]
    doc = read_document(simple(2))
    assert doc.clean
    tx = next(doc.transactions())
    assert (tx.set_id, tx.control, tx.group.control, tx.group.interchange.control) == (
        "850",
        "0001",
        "1",
        "000000001",
    )
    assert [s.tag for s in tx.segments] == ["BEG", "N1", "PO1", "PO1", "CTT"]
    assert tx.segments[2].element(1) == "1" and tx.segments[2].element(7) == "SKU1"


def offsets(data: bytes, segments: list[str], sep: str = "*") -> list[int]:
    """Where each segment's text starts in `data`, searched in order."""
    found, at = [], 0
    for text in segments:
        at = data.index(text.replace("*", sep).encode(), at)
        found.append(at)
        at += len(text)
    return found


def test_offsets_and_segment_numbers_are_exact() -> None:
    data = render(CLEAN)
    segments = all_segments(data)
    assert [s.position for s in segments] == list(range(1, len(CLEAN) + 1))
    assert texts(segments) == CLEAN
    assert [s.offset for s in segments] == offsets(data, CLEAN)


DELIMITER_SETS = [
    ("*", ">", "~", "\n"),
    ("|", "^", "~", ""),
    ("+", ":", "'", "\r\n"),
    ("\x7f", ">", "\x15", ""),  # DEL and NAK
    ("*", "@", "!", "\n"),
    ("*", "{", "$", "\n"),
    ("~", ">", "}", "\r\n"),  # '~' as the ELEMENT separator
    ("*", "~", "|", "\r\n"),  # '~' as the component separator
    ("*", ">", "\n", ""),  # bare LF terminates segments
    ("*", ">", "\r", "\n"),  # CR terminates, LF is noise
    ("*", ">", "~", " "),
    ("*", ">", "\\", "\r\n"),
]


@pytest.mark.parametrize(("sep", "sub", "term", "after"), DELIMITER_SETS, ids=repr)
def test_delimiters_come_from_the_isa(sep: str, sub: str, term: str, after: str) -> None:
    segments = [isa(sub=sub), *CLEAN[1:]]
    data = render(segments, sep=sep, term=term, after=after)
    doc = read_document(data)
    assert doc.clean, doc.issues()
    d = doc.interchanges[0].interchange.delimiters
    assert (d.element, d.sub_element, d.segment) == (sep, sub, term)
    assert texts(all_segments(data), sep="*") == segments
    assert [s.offset for s in all_segments(data)] == offsets(data, segments, sep)


def test_repetition_separator_only_from_00402() -> None:
    new = render([isa(isa11="^", isa12="00501"), *CLEAN[1:]])
    old = render(CLEAN)
    assert read_document(new).interchanges[0].interchange.delimiters.repetition == "^"
    assert read_document(old).interchanges[0].interchange.delimiters.repetition is None
    odd = render([isa(isa11="U", isa12="00403"), *CLEAN[1:]])  # 'U' is no separator
    assert read_document(odd).interchanges[0].interchange.delimiters.repetition is None


def test_wrapped_at_80_columns() -> None:
    flat = render(CLEAN, after="").decode()
    wrapped = "\n".join(flat[i : i + 80] for i in range(0, len(flat), 80)).encode() + b"\n"
    segments = all_segments(wrapped)
    assert texts(segments) == CLEAN  # the ISA is wrapped too
    assert read_document(wrapped).clean
    for seg, text in zip(segments, CLEAN, strict=True):  # offset: the segment's first byte
        assert wrapped[seg.offset : seg.offset + 1] == text[:1].encode()


def test_crlf_inside_segments_and_indentation() -> None:
    data = b"".join(("  " * min(i, 3) + s + "~\r\n").encode() for i, s in enumerate(CLEAN)).replace(
        b"BEG*00", b"BEG*0\r\n0"
    )
    assert texts(all_segments(data)) == CLEAN
    assert read_document(data).clean


def test_utf8_bom_and_leading_blank_lines() -> None:
    data = b"\xef\xbb\xbf\r\n\n" + render(CLEAN)
    doc = read_document(data)
    assert doc.clean
    assert doc.interchanges[0].interchange.header.offset == 6


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_non_ascii_text_and_byte_offsets(encoding: str) -> None:
    """UTF-8 is read as such; bytes that are not UTF-8 make the reader fall back to
    latin-1. Offsets count bytes, not characters, either way."""
    segments = [*CLEAN]
    segments[4] = "N1*ST*Müller Café*92*0042"
    data = render(segments, encoding=encoding)
    found = all_segments(data)
    assert found[4].element(2) == "Müller Café"
    assert found[5].offset == data.index(b"PO1*1")
    assert read_document(data).clean


def test_unterminated_last_segment_is_kept() -> None:
    data = render(CLEAN)[: -len("~\n")]
    assert data.endswith(b"IEA*1*000000001")
    doc = read_document(data)
    assert doc.clean
    assert doc.interchanges[0].interchange.trailer is not None


def test_several_interchanges_each_with_its_delimiters() -> None:
    first = render(interchange(group(po("0001")), control="000000001"), term="\x15", after="")
    second = render(
        [isa(sub="^", isa13="000000002"), *interchange(group(po("0002")), control="000000002")[1:]],
        sep="|",
        term="'",
        after="\r\n",
    )
    doc = read_document(first + second + b"\x1a")
    assert doc.clean, doc.issues()
    assert [n.interchange.control for n in doc.interchanges] == ["000000001", "000000002"]
    assert [n.interchange.delimiters.segment for n in doc.interchanges] == ["\x15", "'"]
    assert [tx.control for tx in doc.transactions()] == ["0001", "0002"]
    assert doc.interchanges[1].interchange.header.offset == len(first)


def test_junk_before_and_after_is_an_issue_not_an_error() -> None:
    data = b"// exported by tool\n" + render(CLEAN) + b"trailing garbage~more~"
    doc = read_document(data)
    assert doc.error is None
    issues = doc.interchanges[0].interchange.issues
    assert [(i.code, i.fatal) for i in issues] == [("024", False), ("024", False)]
    assert issues[0].offset == 0 and "// exported by tool" in issues[0].message
    assert issues[1].position == len(CLEAN) + 1 and "after the IEA" in issues[1].message
    assert "and 1 more" in issues[1].message
    assert len(list(doc.transactions())) == 2


def test_sources_bytes_path_file_and_blocks_agree(tmp_path: Path) -> None:
    data = render(interchange(group(*[po(f"{i:04d}", lines=5) for i in range(1, 40)])))
    path = tmp_path / "po.x12"
    path.write_bytes(data)
    expected = texts(all_segments(data))
    for source in (path, str(path), io.BytesIO(data)):
        got = [tx.control for tx in iter_transactions(source)]
        assert got == [f"{i:04d}" for i in range(1, 40)]
    for size in (1, 7, 100, 4096):  # segments and terminators cut across blocks
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert texts(all_segments_from(chunks)) == expected


def all_segments_from(chunks: list[bytes]) -> list[Segment]:
    joined = b"".join(chunks)
    got = [tx for tx in iter_transactions(iter(chunks))]
    assert [t.control for t in got] == [t.control for t in iter_transactions(joined)]
    return all_segments(joined)


def test_block_boundaries_keep_offsets() -> None:
    data = render(CLEAN, after="\r\n")
    chunks = [data[i : i + 5] for i in range(0, len(data), 5)]
    by_blocks = [
        (s.offset, s.tag)
        for tx in iter_transactions(iter(chunks))
        for s in [tx.header, *tx.segments]
    ]
    whole = [(s.offset, s.tag) for tx in iter_transactions(data) for s in [tx.header, *tx.segments]]
    assert by_blocks == whole


def test_text_mode_file_is_refused() -> None:
    with pytest.raises(TypeError, match="binary"):
        list(read_events(io.StringIO(render(CLEAN).decode())))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no ISA segment"),
        (b"hello world\n" * 50, "no ISA segment"),
        (render(CLEAN)[:96], "ISA is 96 bytes, expected 106"),
        (render(CLEAN).replace(b">~", b">G", 1), "ISA16 is followed by"),
        (render(CLEAN).replace(b"ISA*", b"ISAA", 1), "no ISA segment"),
    ],
)
def test_unreadable_input_raises_x12error(data: bytes, reason: str) -> None:
    with pytest.raises(X12Error, match=reason) as caught:
        list(read_events(data, name="po.x12"))
    e = caught.value
    assert isinstance(e, FormatError)
    assert str(e).startswith("po.x12: ")
    assert e.reason in str(e) and e.name == "po.x12"
    if e.segment is not None:
        assert e.line == e.segment == 1 and e.offset == 0
        assert str(e).startswith("po.x12: segment 1 (byte 0): ")


def test_x12error_after_good_interchanges_keeps_them() -> None:
    data = render(CLEAN) + b"ISA*00*short~"
    doc = read_document(data, name="two.x12")
    assert [tx.control for tx in doc.transactions()] == ["0001", "0002"]
    assert doc.error is not None
    assert str(doc.error).startswith(
        f"two.x12: segment {len(CLEAN) + 1} (byte {len(render(CLEAN))}): "
    )


def test_isa_letters_inside_data_are_not_an_isa() -> None:
    segments = [*CLEAN]
    segments[4] = "ISAAC*ST*VISA CARD"  # a (made-up) segment whose tag starts with ISA
    data = b"VISA batch export\n" + render(segments)
    doc = read_document(data)
    assert doc.error is None
    assert [i.code for i in doc.issues()] == ["024"]  # the text before the real ISA
    tx = next(doc.transactions())
    assert tx.segments[1].tag == "ISAAC" and tx.issues == []
