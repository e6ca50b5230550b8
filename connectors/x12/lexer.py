"""Bytes to segments, region by region, with each interchange's own delimiters.

Input is read in blocks; each ~8 KiB region of it, cut after a segment terminator, is
decoded and handed to `splitter` (the hot loop). A segment never straddles two regions and
a multi-byte character is never split (terminators are single bytes). At each ISA the
delimiters are read again (`isa.read_isa`) and splitting goes on with them.

Tolerated without a word: a UTF-8 byte-order mark; CR, LF, spaces, tabs and a DOS end-of-
file mark (0x1A) between segments; CR/LF inside segments when they are not the
terminator (files wrapped at 80 columns); an unterminated last segment (kept). Recorded
for the envelope to report: bytes before the first ISA (`leading_junk`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from connectors.x12.errors import X12Error
from connectors.x12.isa import SCAN_LIMIT, read_isa
from connectors.x12.model import Delimiters, Segment
from connectors.x12.splitter import NOISE, Split, is_separator, split_text

BOM = b"\xef\xbb\xbf"
MAX_SEGMENT = 16 * 1024 * 1024  # no terminator in this many bytes: not X12
REGION = 1 << 13  # bytes split at a time (see `_body`)


@dataclass(frozen=True, slots=True)
class Junk:
    """Bytes before the first ISA that are not a BOM or whitespace."""

    offset: int
    size: int
    preview: str


class Lexer:
    """Segments of one X12 input, in batches (see `batches`).

    `delimiters` are those of the ISA most recently yielded; `encoding` is 'utf-8' until
    a region is not valid UTF-8, then 'latin-1' for the rest of the input.
    """

    def __init__(self, blocks: Iterator[bytes], name: str) -> None:
        self._blocks = blocks
        self.name = name
        self._buf = b""
        self._base = 0  # file offset of _buf[0]
        self._pos = 0  # index in _buf of the next unread byte
        self._eof = False
        self.seq = 0  # segments numbered so far
        self.encoding = "utf-8"
        self.delimiters = Delimiters()
        self.isa_encoding = "utf-8"
        self.leading_junk: Junk | None = None
        self._known: set[str] = set()

    def _fill(self) -> bool:
        """Read one more block onto the buffer; False at the end of the input."""
        if self._eof:
            return False
        for block in self._blocks:
            if block:
                self._buf = self._buf[self._pos :] + block
                self._base += self._pos
                self._pos = 0
                return True
        self._eof = True
        return False

    def batches(self) -> Iterator[Split]:
        """Segments in file order, a region at a time. An ISA is always alone in its batch,
        and `self.delimiters` is its delimiters while the consumer handles that batch."""
        if not self._find_first_isa():
            raise X12Error("no ISA segment: this is not an X12 interchange", name=self.name)
        while True:
            isa = self._isa()
            yield Split([isa], [isa.tag], [0])
            yield from self._body()
            if self._pos >= len(self._buf) and not self._fill():
                return

    def _find_first_isa(self) -> bool:
        """Skip to the first b'ISA'; what came before (not BOM or blanks) is leading junk."""
        start, head, size, junky = self._base + self._pos, b"", 0, False
        while True:
            at = self._next_isa()
            stop = at if at >= 0 else max(self._pos, len(self._buf) - 3)
            chunk = self._buf[self._pos : stop]
            if not size and chunk.startswith(BOM):
                chunk, start = chunk[3:], start + 3
            junky = junky or bool(chunk.strip(NOISE.encode()))
            head += chunk[: max(0, 64 - len(head))]
            size += len(chunk)
            self._pos = stop
            if at >= 0:
                break
            if not self._fill():
                return False
        if junky:
            preview = head.strip()[:40].decode("latin-1")
            self.leading_junk = Junk(start, size, preview)
        return True

    def _next_isa(self) -> int:
        """Index of the next b'ISA' followed by a possible separator in the buffer, or -1."""
        at = self._buf.find(b"ISA", self._pos)
        while at >= 0 and at + 3 < len(self._buf):
            if is_separator(self._buf[at + 3 : at + 4].decode("latin-1")):
                return at
            at = self._buf.find(b"ISA", at + 1)
        return -1

    def _isa(self) -> Segment:
        while len(self._buf) - self._pos < SCAN_LIMIT and self._fill():
            pass
        self.seq += 1
        offset = self._base + self._pos
        read = read_isa(
            self._buf,
            self._pos,
            eof=self._eof,
            encoding=self.encoding,
            name=self.name,
            segment=self.seq,
            offset=offset,
        )
        self._pos = read.end
        self.delimiters = read.delimiters
        self.isa_encoding = read.encoding
        return Segment("ISA", read.elements, self.seq, offset)

    def _body(self) -> Iterator[Split]:
        """Batches up to the next ISA (left unread at `_pos`) or the end of the input.

        A batch is at most ~REGION bytes (cut after a terminator): its text and segments
        stay in the CPU cache while they are built, which made the reader twice as fast
        as 256 KiB batches (measured); a longer segment makes a longer batch.
        """
        term = self.delimiters.segment.encode("latin-1")
        while True:
            end = self._buf.rfind(term, self._pos, self._pos + REGION) + 1
            if end == 0:
                end = self._buf.rfind(term, self._pos) + 1
            if end == 0:
                if not self._eof:
                    self._check_size()
                    self._fill()
                    continue
                if self._pos >= len(self._buf):
                    return
                end = len(self._buf)  # the tail after the last terminator: kept
            split = self._split(self._buf[self._pos : end], self._base + self._pos)
            if split.segments:
                yield split
            if split.isa_at is not None:
                self._pos = split.isa_at - self._base
                return
            self._pos = end

    def _check_size(self) -> None:
        if len(self._buf) - self._pos > MAX_SEGMENT:
            raise X12Error(
                f"no segment terminator {self.delimiters.segment!r} in {MAX_SEGMENT} bytes",
                name=self.name,
                segment=self.seq + 1,
                offset=self._base + self._pos,
            )

    def _split(self, region: bytes, base: int) -> Split:
        """Decode (see the class docstring) and split one region; count its segments."""
        encoding = "latin-1" if self.isa_encoding == "latin-1" else self.encoding
        try:
            text = region.decode(encoding)
        except UnicodeDecodeError:
            self.encoding = encoding = "latin-1"
            text = region.decode(encoding)
        split = split_text(text, base, self.delimiters, self.seq, self._known, encoding)
        self.seq += len(split.segments)
        return split
