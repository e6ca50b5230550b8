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
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import delitem, itemgetter

from connectors.x12.model import Delimiters, Segment

NOISE = " \t\r\n\x1a"  # between segments: line ends, indentation, DOS EOF mark
_TAG = re.compile(r"[A-Z0-9]{2,3}")
_first = itemgetter(0)
_DECLINE = (" ", "\t", "\x1a", "ISA")  # after a terminator: what only _general handles
_consume = deque[object](maxlen=0).extend


def is_separator(char: str) -> bool:
    """Could `char` (after 'ISA') be an element separator? ('ISAAC*...' is no ISA.)"""
    return len(char) == 1 and not (char.isalnum() or char in NOISE)


@dataclass(slots=True)
class Split:
    """The segments of one block, their tags, and where an ISA interrupts it (or None)."""

    segments: list[Segment]
    tags: list[str]
    isa_at: int | None = None


def split_text(
    text: str, base: int, delims: Delimiters, seq: int, known: set[str], encoding: str
) -> Split:
    """Segments of `text` (starting at file offset `base`), numbered after `seq`.

    `known` caches the tags already seen to be valid (the general path's shortcut), and
    any piece starting with 'ISA' ends the split there.
    """
    fast = _fast(text, base, delims, seq)
    return fast if fast is not None else _general(text, base, delims, seq, known, encoding)


def _suffix(text: str, term: str) -> str:
    """The noise after the first terminator (what every terminator is expected to carry)."""
    at = text.find(term) + 1
    end = at
    while end < len(text) and text[end] in "\r\n ":
        end += 1
    return text[at:end]


def _fast(text: str, base: int, delims: Delimiters, seq: int) -> Split | None:
    term, sep = delims.segment, delims.element
    if not text.endswith(term) or not text.isascii():
        return None
    if text[:1] in NOISE:  # what followed the previous block's last terminator
        body = text.lstrip(NOISE)
        base, text = base + len(text) - len(body), body
        if not text:
            return Split([], [])
    if len(text) == len(term) or text.startswith("ISA"):
        return None
    suffix = _suffix(text, term)
    cut = term + suffix
    terms = text.count(term)
    joins = text.count(cut) if suffix else terms
    if joins < terms - 1:
        return None  # some terminator carries other noise
    for ch in "\r\n":
        if ch == term:
            continue
        if ch in suffix and text.count(ch) != joins * suffix.count(ch):
            return None  # a line break inside a segment
        if ch not in suffix and ch in text:  # (a search, not a count: much faster)
            return None
    if cut + term in text or any(cut + c in text for c in _DECLINE):
        return None  # an indented or empty segment, a DOS EOF mark, an ISA: see _general
    pieces = text[: len(text) - len(term)].split(cut) if suffix else text[:-1].split(term)
    parts = list(map(str.split, pieces, repeat(sep)))
    tags = list(map(_first, parts))
    _consume(map(delitem, parts, repeat(0)))  # parts become the elements, in place
    step, first = len(cut), seq + 1
    offsets = accumulate(map(step.__add__, map(len, pieces)), initial=base)
    positions = range(first, first + len(pieces))
    segments = list(map(Segment, tags, parts, positions, offsets))
    return Split(segments, tags)


def _general(
    text: str, base: int, delims: Delimiters, seq: int, known: set[str], encoding: str
) -> Split:
    term, sep = delims.segment, delims.element
    breaks = any(c != term and c in text for c in "\r\n")
    out = Split([], [])
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
                return out
            if _TAG.fullmatch(tag):
                known.add(tag)
        seq += 1
        append(Segment(tag, parts[1:], seq, start))
        tags(tag)
        off += size + 1
    return out
