"""Where the rows of a CSV block are, as the csv module would split them: numpy, no loop.

The columnar reader (`connectors.formats.csvarrow`) hands a block to pyarrow only when
this says the two parsers cannot disagree about it; `layout` returns None otherwise.
Quote state comes from quote positions alone: with the checks of `_quotes_agree`, the
k-th quote opens a quoted field when k is even, so a byte is inside a value when an odd
number of quotes come before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

LF, CR = 10, 13


class Dialect(Protocol):
    @property
    def delimiter(self) -> int: ...
    @property
    def quote(self) -> int: ...
    @property
    def limit(self) -> int: ...


@dataclass
class Layout:
    """Where the rows of a block are: byte spans of its non-blank rows, and lines."""

    data: np.ndarray  # the block's bytes
    newlines: np.ndarray  # every LF, for line numbers
    starts: np.ndarray  # first byte of each non-blank row
    ends: np.ndarray  # its row-ending LF
    quotes: np.ndarray | None  # every quote of quoted fields; the k-th opens when k is even
    quoting: str = "none"  # "fields": quoted fields; "text": quotes only as text

    def outside(self, at: np.ndarray) -> np.ndarray:
        """Which of the byte offsets `at` lie outside quoted values (an even count before)."""
        if self.quotes is None:
            return np.ones(len(at), bool)
        return (np.searchsorted(self.quotes, at) & 1) == 0


def layout(block: bytes, dialect: Dialect) -> Layout | None:
    """The rows of `block` as the row reader splits them, or None when unsure."""
    data = np.frombuffer(block, np.uint8)
    newlines = np.flatnonzero(data == LF)
    if b"\r" in block:  # only as part of CRLF: the csv module and pyarrow split a lone CR apart
        crlf = np.count_nonzero(data[newlines[newlines > 0] - 1] == CR)
        if block.count(b"\r") != crlf:
            return None
    quotes = None
    quoting = "none"
    ends = newlines
    if bytes([dialect.quote]) in block:
        quotes = np.flatnonzero(data == dialect.quote)
        if not _opens_a_field(data, quotes, dialect):
            quotes, quoting = None, "text"  # inch marks and the like: text to the csv module
        elif len(quotes) % 2 or not _quotes_agree(data, quotes, dialect):
            return None
        else:
            quoting = "fields"
            ends = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]  # else in a value
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts
    if int(lengths.max()) > dialect.limit:  # a field may be over the limit: row reader
        return None
    blank = (lengths == 0) | ((lengths == 1) & (data[ends - 1] == CR))
    keep = ~blank
    return Layout(data, newlines, starts[keep], ends[keep], quotes, quoting)


def _opens_a_field(data: np.ndarray, quotes: np.ndarray, dialect: Dialect) -> bool:
    """Whether any quote starts a field (the block start, or after a delimiter or LF)."""
    if quotes[0] == 0:
        return True
    before = data[quotes - 1]
    return bool(np.any((before == dialect.delimiter) | (before == LF)))


def _quotes_agree(data: np.ndarray, quotes: np.ndarray, dialect: Dialect) -> bool:
    """Whether counting quotes tells inside from outside exactly as the csv module does.

    It does when every quote that opens (an even number of quotes before it) starts a
    field (after a delimiter, a line end, the block start, or a quote that closed: a
    doubled quote) and every quote that closes is followed by a delimiter, a line end or
    another quote. A quote inside an unquoted field, or text after a closing quote (an
    error for the csv module, text for pyarrow), fails the check and sends the block to
    the row reader. (The block ends with a LF, so no quote is its last byte.)
    """
    opening, closing = quotes[0::2], quotes[1::2]
    may_precede = np.zeros(256, bool)
    may_precede[[dialect.delimiter, LF, dialect.quote]] = True
    may_follow = np.zeros(256, bool)
    may_follow[[dialect.delimiter, LF, CR, dialect.quote]] = True
    if opening[0] == 0:
        opening = opening[1:]
    return bool(may_precede[data[opening - 1]].all() and may_follow[data[closing + 1]].all())


def cells_per_row(rows: Layout, delimiter: int) -> np.ndarray:
    """Cells of each non-blank row: delimiters outside quotes, plus one."""
    at = np.flatnonzero(rows.data == delimiter)
    at = at[rows.outside(at)]
    return np.searchsorted(at, rows.ends) - np.searchsorted(at, rows.starts) + 1
