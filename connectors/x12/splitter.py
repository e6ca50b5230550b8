"""Decoded text to `Segment`s: the reader's hot loop, kept in C as far as CPython allows.

Two paths give the same segments (a test holds them to it):

- `_fast`, for the common shape of a block: ASCII, every terminator followed by the same
  noise (nothing, a newline, CR LF, a space), no other line breaks, no empty segments.
  The block is split on terminator+noise, the pieces on the element separator, offsets
  summed with `itertools.accumulate`, and the `Segment`s built by `map`: no Python loop
  runs per segment, only `Segment.__init__`.
- `_general`, one Python step per segment, for everything else: leading and trailing
  noise, CR/LF inside segments (80-column wrapping), non-ASCII text, stray empties.

Both stop at a segment starting with 'ISA' and a separator, and return its file offset:
the lexer then reads that ISA, whose delimiters may differ, and splits on from there.

The fast path exists twice: `_py_fast` here, and the same decisions in C
(`connectors/x12/_speedups.c`, built when a compiler is there at install, ~2x faster
reading). `TOKENIZER` says which one runs: "c" when the module imports and
OMSHUB_X12_PURE is not "1", else "python". Tests hold the two to identical results.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import delitem, itemgetter

from connectors.x12.model import Delimiters, Segment

NOISE = " \t\r\n\x1a"  # between segments: line ends, indentation, DOS EOF mark
_TAG = re.compile(r"[A-Z0-9]{2,3}")
_first = itemgetter(0)
_EDGE = "\x00"  # between the tags of a block in one string, searched in C
# in those joined tags: an empty segment, indentation, a DOS EOF mark, an ISA (its own
# delimiters): what only _general handles
_SUSPECT = tuple(_EDGE + s for s in (_EDGE, " ", "\t", "\x1a", "ISA"))
ENVELOPE = ("ISA", "IEA", "GS", "GE", "ST", "SE")
_MARKS = tuple((tag, f"{_EDGE}{tag}{_EDGE}") for tag in ENVELOPE)
_consume = deque[object](maxlen=0).extend
_new = tuple.__new__  # Segment(*row) built in C: no Python __init__ per segment
SplitResult = tuple[list[Segment], list[str], list[int]]  # what _speedups.split returns


def is_separator(char: str) -> bool:
    """Could `char` (after 'ISA') be an element separator? ('ISAAC*...' is no ISA.)"""
    return len(char) == 1 and not (char.isalnum() or char in NOISE)


@dataclass(slots=True)
class Split:
    """The segments of one block, their tags, the indexes of the envelope segments
    among them (ISA, GS, ST, SE, GE, IEA, in order), and where an ISA interrupts the
    block (or None)."""

    segments: list[Segment]
    tags: list[str]
    marks: list[int]
    isa_at: int | None = None


def split_text(
    text: str, base: int, delims: Delimiters, seq: int, known: set[str], encoding: str
) -> Split:
    """Segments of `text` (starting at file offset `base`), numbered after `seq`.

    `known` caches the tags already seen to be valid (the general path's shortcut), and
    any piece starting with 'ISA' ends the split there.
    """
    fast = _fast(text, base, delims, seq)  # the C or the Python one, see TOKENIZER
    return fast if fast is not None else _general(text, base, delims, seq, known, encoding)


def envelope_marks(tags: list[str], joined: str) -> list[int]:
    """Indexes of the envelope segments among `tags`, in order.

    `joined` is the tags between _EDGEs: one C search of it per envelope tag says
    whether to look for that tag at all (usually only ST and SE are there), and a search
    can only find too much (a tag holding _EDGE), never too little.
    """
    marks: list[int] = []
    for tag, needle in _MARKS:
        if needle in joined:
            at = -1
            try:
                while True:
                    at = tags.index(tag, at + 1)
                    marks.append(at)
            except ValueError:
                pass
    marks.sort()
    return marks


def _joined(tags: list[str]) -> str:
    return f"{_EDGE}{_EDGE.join(tags)}{_EDGE}"


def _suffix(text: str, term: str) -> str:
    """The noise after the first terminator (what every terminator is expected to carry)."""
    at = text.find(term) + 1
    end = at
    while end < len(text) and text[end] in "\r\n ":
        end += 1
    return text[at:end]


def _regular(text: str, term: str, suffix: str, pieces: int) -> bool:
    """Every terminator of `text` (split on term+suffix into `pieces`) carries the suffix,
    and no CR or LF stands anywhere else. Counts of single characters: the cheapest
    full scans (a substring search per shape cost more than the split, measured)."""
    if suffix and text.count(term) != pieces:
        return False  # some terminator carries other noise, or none
    for ch in "\r\n":
        if ch == term:
            continue
        per = suffix.count(ch)
        if per and text.count(ch) != (pieces - 1) * per:
            return False  # a line break inside a segment
        if not per and ch in text:
            return False
    return True


def _py_fast(text: str, base: int, delims: Delimiters, seq: int) -> Split | None:
    term, sep = delims.segment, delims.element
    if not text.endswith(term) or not text.isascii():
        return None
    if text[:1] in NOISE:  # what followed the previous block's last terminator
        body = text.lstrip(NOISE)
        base, text = base + len(text) - len(body), body
        if not text:
            return Split([], [], [])
    if len(text) == len(term) or text.startswith("ISA"):
        return None
    suffix = _suffix(text, term)
    cut = term + suffix
    pieces = text[: len(text) - len(term)].split(cut)
    if not _regular(text, term, suffix, len(pieces)):
        return None
    parts = list(map(str.split, pieces, repeat(sep)))
    tags = list(map(_first, parts))
    joined = _joined(tags)
    if any(suspect in joined for suspect in _SUSPECT):
        return None  # an empty or indented segment, a DOS EOF mark, an ISA: see _general
    _consume(map(delitem, parts, repeat(0)))  # parts become the elements, in place
    step, first = len(cut), seq + 1
    offsets = accumulate(map(step.__add__, map(len, pieces)), initial=base)
    # offsets holds one more (the end of the block): strict=False is what stops it
    rows = zip(tags, parts, range(first, first + len(pieces)), offsets, strict=False)
    segments = list(map(_new, repeat(Segment), rows))
    return Split(segments, tags, envelope_marks(tags, joined))


def _c_fast(text: str, base: int, delims: Delimiters, seq: int) -> Split | None:
    """`_py_fast` in C: the same Split or None, decision for decision."""
    out = _split(text, base, delims.segment, delims.element, seq, Segment)
    return None if out is None else Split(*out)


CSplit = Callable[[str, int, str, str, int, type[Segment]], SplitResult | None]


def _compiled() -> CSplit | None:
    """The C splitter, unless OMSHUB_X12_PURE=1 or it was not built (no compiler)."""
    if os.environ.get("OMSHUB_X12_PURE") == "1":
        return None
    try:
        from connectors.x12._speedups import split
    except ImportError:
        return None
    return split


def _not_built(*args: object) -> SplitResult | None:
    raise RuntimeError("connectors.x12._speedups is not built (or OMSHUB_X12_PURE=1)")


_built = _compiled()
_split: CSplit = _built or _not_built
TOKENIZER = "python" if _built is None else "c"
_fast = _py_fast if _built is None else _c_fast


def _general(
    text: str, base: int, delims: Delimiters, seq: int, known: set[str], encoding: str
) -> Split:
    term, sep = delims.segment, delims.element
    breaks = any(c != term and c in text for c in "\r\n")
    out = Split([], [], [])
    append, tags, off = out.segments.append, out.tags.append, base
    for piece in text.split(term):
        size = len(piece) if piece.isascii() else len(piece.encode(encoding))
        body = piece.lstrip(NOISE)
        if not body:  # nothing but noise: line ends, indentation, a trailing EOF mark
            off += size + 1
            continue
        start = off + len(piece) - len(body)  # the noise stripped is ASCII: 1 byte each
        if breaks:
            body = body.replace("\r", "").replace("\n", "")
        parts = body.split(sep)
        tag = parts[0]
        if tag not in known:
            if body.startswith("ISA") and is_separator(body[3:4]):
                out.isa_at = start
                break
            if _TAG.fullmatch(tag):
                known.add(tag)
        seq += 1
        append(Segment(tag, parts[1:], seq, start))
        tags(tag)
        off += size + 1
    out.marks = envelope_marks(out.tags, _joined(out.tags))
    return out
