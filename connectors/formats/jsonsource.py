"""A byte source for ijson that validates the encoding and can say where a parse failed.

ijson's fast C backend (yajl) reports errors without a position, only a snippet of the
chunk it was parsing. This wrapper decodes every chunk strictly (so an invalid byte is
named by line at once), hands ijson UTF-8, and keeps the last chunk and the number of
lines before it, so a parse error can be turned into a line number.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

import numpy as np

from connectors.errors import FormatError
from connectors.formats.common import MAX_DEPTH

#: yajl prints the error position at this column of its snippet line (yajl_parser.c)
_CARET_COLUMN = 40
_NON_FINITE = re.compile(rb"-?(NaN|Infinity)")
#: a document nested deeper than this is refused before ijson sees it: ijson builds one
#: prefix string per level for every event, so memory grows with the square of the depth
MAX_DOCUMENT_DEPTH = MAX_DEPTH + 56
_OPEN = np.zeros(256, np.int32)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1
_NOT_MARKS = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_STRING = re.compile(rb'"[^"]*"')


class Utf8Source:
    """A `read(n)` object over `stream`, re-encoded to UTF-8, that tracks lines."""

    def __init__(self, stream: BinaryIO, encoding: str, name: str) -> None:
        self.stream = stream
        self.encoding = encoding
        self.name = name
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self.lines_before = 0  # newlines in everything handed out before `last`
        self.last = b""
        self.depth = 0  # nesting depth at the end of `last`
        self.in_string = 0  # 1 when `last` ended inside a string
        self.escapes = b""  # backslashes ending `last` (their run continues in the next chunk)
        self.utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
        self.first = True

    def read(self, size: int = -1) -> bytes:
        raw = self.stream.read(size)
        try:
            text = self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as e:
            line = self.lines_before + self.last.count(b"\n") + 1
            line += e.object[: e.start].count(b"\n")
            shown = "utf-8" if self.utf8 else self.encoding
            raise FormatError(f"not {shown}: {e.reason}", name=self.name, line=line) from e
        self.lines_before += self.last.count(b"\n")
        if self.utf8:  # validated above; hand ijson the bytes as read (minus a BOM)
            self.last = raw[3:] if self.first and raw.startswith(codecs.BOM_UTF8) else raw
        else:
            self.last = text.encode("utf-8")
        self.first = self.first and not raw  # ijson may first read(0) to probe the type
        self._check_depth(self.last)
        return self.last

    def _check_depth(self, chunk: bytes) -> None:
        """Track bracket depth outside strings; refuse a file nested too deep.

        Only quotes and brackets matter, so the chunk is first cut down to them (C speed),
        strings are removed with a regex, and the running depth is summed with numpy.
        """
        data = self.escapes + chunk
        kept = data.rstrip(b"\\")
        self.escapes = data[len(kept) :]
        if b"\\" in kept:  # drop escape pairs: what stays before a quote escapes it
            kept = kept.replace(b"\\\\", b"").replace(b'\\"', b"")
        marks = (b'"' if self.in_string else b"") + kept.translate(None, _NOT_MARKS)
        outside = _STRING.sub(b"", marks)
        open_quote = outside.find(b'"')  # an unclosed string runs on into the next chunk
        in_string = int(open_quote >= 0)
        outside = outside[:open_quote] if in_string else outside
        if outside:
            depth = np.cumsum(_OPEN[np.frombuffer(outside, np.uint8)]) + self.depth
            if int(depth.max()) > MAX_DOCUMENT_DEPTH:
                raise FormatError(
                    f"JSON nested deeper than {MAX_DOCUMENT_DEPTH} levels",
                    name=self.name,
                    line=self._deep_line(kept),
                )
            self.depth = int(depth[-1])
        self.in_string = in_string

    def _deep_line(self, kept: bytes) -> int:
        """The line where the depth limit is crossed (the slow, exact scan: errors only)."""
        arr = np.frombuffer(kept, np.uint8)
        quotes = np.cumsum(arr == ord('"')) + self.in_string
        depth = np.cumsum(np.where(quotes % 2 == 0, _OPEN[arr], 0)) + self.depth
        at = int(np.argmax(depth > MAX_DOCUMENT_DEPTH))
        return self.lines_before + kept[:at].count(b"\n") + 1

    def end_line(self) -> int:
        return self.lines_before + self.last.count(b"\n") + 1

    def locate(self, message: str | bytes) -> tuple[int | None, str | None]:
        """(line, specific reason) of a yajl error, from its snippet; None where unknown."""
        text = message if isinstance(message, bytes) else message.encode("utf-8", "replace")
        parts = text.split(b"\n")
        if len(parts) < 3 or b"^" not in parts[2]:
            return None, None
        snippet, caret = parts[1], parts[2].index(b"^")
        after = snippet[caret:]
        before = snippet[:caret].lstrip(b" ")
        if not before and not after:  # premature end of the file
            return self.end_line(), None
        flat = self.last.replace(b"\n", b" ").replace(b"\r", b" ").replace(b"\t", b" ")
        pos = flat.find(before + after)
        if pos < 0:
            return None, None
        offset = pos + len(before)
        line = self.lines_before + self.last[: max(offset - 1, 0)].count(b"\n") + 1
        start = max(offset - 10, 0)
        for found in _NON_FINITE.finditer(self.last[start : offset + 10]):
            if start + found.start() < offset <= start + found.end():  # the token it choked on
                return line, f"{found.group().decode()} is not valid JSON"
        return line, None
