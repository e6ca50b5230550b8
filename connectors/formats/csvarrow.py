"""CSV as Arrow tables of text columns: pyarrow's parser where it agrees with the row reader.

`CsvFormat.records` (the csv module, line by line) defines what a CSV means here: its
records, BadRecords and their wording, line numbers. This reader gives the same items
as `pyarrow.Table`s, much faster: the file is read in blocks of whole rows, and a block
that passes byte-level checks (numpy, no Python loop per row) is parsed by pyarrow.
A block where the two parsers could disagree (a lone CR, a NUL byte, a BOM, a quote
the csv module would read differently, an invalid byte, a row over `max_field_bytes`,
no line end at the end) is read by the row reader itself, from its first row to the
first row boundary after it: exact by construction; the next block is fast again.
Rows with the wrong number of cells are found by counting delimiters outside quotes,
so they do not slow a block down; quotes that only occur inside unquoted fields (inch
marks) are text to both parsers.

The header is always read by the row reader. A header with a repeated or NUL-holding
name cannot be a table: such a file yields Python records; an encoding that is not
ASCII-compatible (UTF-16) is read row by row into tables.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.base import BadRecord
from connectors.errors import FormatError
from connectors.formats.common import (
    DEFAULT_ENCODING,
    decode_error_reason,
    decoded_lines,
    is_ascii_compatible,
)
from connectors.formats.csvlayout import Layout, cells_per_row, layout

if TYPE_CHECKING:
    from connectors.formats.csv import CsvFormat

#: bytes per block read (rounded up to a row end): ~70k order lines, parsed by pyarrow
#: in pieces of PARSE_BLOCK bytes on the calling thread. Not in pyarrow's thread pool: on
#: two busy cores it cost more CPU for no gain, and a process that used the pool can
#: abort at exit ("terminate called without an active exception", apache/arrow#34314;
#: seen twice here), which a task runner would take for a failed task.
BLOCK_BYTES = 8 << 20
PARSE_BLOCK = 1 << 20
#: rows per table when the row reader builds one (a slow block, or a whole slow file)
TABLE_ROWS = 10_000


def csv_pieces(
    fmt: CsvFormat, stream: BinaryIO, options: dict[str, Any], name: str
) -> Iterator[Any]:
    """The file's items for `connectors.base.iter_chunks`: tables, BadRecords, records."""
    from connectors.formats.csv import _Lines

    encoding = options.get("encoding", DEFAULT_ENCODING)
    lines = _Lines(decoded_lines(stream, encoding, name))
    reader = fmt.reader(lines, options)
    header = fmt.header(reader, lines, options, name)
    if header is None:
        return  # an empty file: zero records
    rows = fmt.rows(reader, lines, header, options, name)
    if len(set(header)) < len(header) or any("\x00" in h for h in header):
        yield from rows  # no table can hold these names: Python records
        return
    schema = pa.schema([pa.field(h, pa.string()) for h in header])
    yield schema.empty_table()
    dialect = _Dialect.of(options, encoding, header)
    if dialect is None:
        yield from as_tables(rows, schema)
        return
    yield from _BlockReader(fmt, stream, options, name, schema, dialect, lines.line + 1).pieces()


def as_tables(items: Iterator[Any], schema: pa.Schema) -> Iterator[Any]:
    """Runs of good records as tables (of at most TABLE_ROWS); BadRecords as they come.

    When the file cannot be read further, the run read before the error comes first.
    """
    run: list[Any] = []
    try:
        for item in items:
            if isinstance(item, BadRecord):
                if run:
                    yield pa.Table.from_pylist(run, schema=schema)
                    run = []
                yield item
            else:
                run.append(item)
                if len(run) >= TABLE_ROWS:
                    yield pa.Table.from_pylist(run, schema=schema)
                    run = []
    except FormatError:
        if run:
            yield pa.Table.from_pylist(run, schema=schema)
        raise
    if run:
        yield pa.Table.from_pylist(run, schema=schema)


@dataclass(frozen=True)
class _Dialect:
    """What the fast path needs to know; None from `of` when it cannot apply."""

    delimiter: int
    quote: int
    codec: str  # the encoding of every line after the first
    utf8: bool
    limit: int
    parse: Callable[[bytes, str], tuple[pa.Table, int]]

    @classmethod
    def of(cls, options: dict[str, Any], encoding: str, header: list[str]) -> _Dialect | None:
        from connectors.formats.csv import _limit

        delimiter = options.get("delimiter", ",")
        quote = options.get("quotechar", '"')
        singles = [c for c in (delimiter, quote) if isinstance(c, str) and len(c) == 1]
        if len(singles) < 2 or delimiter == quote or not all(ord(c) < 128 for c in singles):
            return None
        if any(c in "\r\n" for c in singles) or not is_ascii_compatible(encoding):
            return None
        codec = codecs.lookup(encoding).name
        codec = "utf-8" if codec == "utf-8-sig" else codec
        parse = _parser(header, delimiter, quote)
        return cls(ord(delimiter), ord(quote), codec, codec == "utf-8", _limit(options), parse)


def _parser(header: list[str], delimiter: str, quote: str) -> Callable[[bytes, str], Any]:
    """pyarrow's CSV parse of a block of whole rows: (table, rows it found bad).

    `quoting` is the block's `Layout.quoting`: "none" (no quote at all), "fields"
    (quoted fields, maybe holding line ends) or "text" (quotes only inside unquoted
    fields: text, as the csv module reads them).
    """
    types = {h: pa.string() for h in header}
    convert = pacsv.ConvertOptions(
        column_types=types,
        null_values=[""],  # an empty cell is None, quoted or not, as the row reader says
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        check_utf8=False,  # the block was decoded strictly before
    )

    def parse(data: bytes, quoting: str) -> tuple[pa.Table, int]:
        bad: list[Any] = []

        def skip(row: Any) -> str:
            bad.append(row)
            return "skip"

        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=header, block_size=PARSE_BLOCK, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=False if quoting == "text" else quote,
                double_quote=True,
                escape_char=False,
                newlines_in_values=quoting == "fields",
                ignore_empty_lines=True,
                invalid_row_handler=skip,
            ),
            convert_options=convert,
        )
        return table, len(bad)

    return parse


class _BlockReader:
    """Reads the data rows after the header, block by block (see the module docstring)."""

    def __init__(
        self,
        fmt: CsvFormat,
        stream: BinaryIO,
        options: dict[str, Any],
        name: str,
        schema: pa.Schema,
        dialect: _Dialect,
        line: int,
    ) -> None:
        self.fmt, self.stream, self.options, self.name = fmt, stream, options, name
        self.schema, self.dialect = schema, dialect
        self.line = line  # line number of the next unread line
        self.index = 0  # items (good and bad) so far: the next item's index in the file
        self.lines_read = 0  # lines in the last block read fast

    def pieces(self) -> Iterator[Any]:
        while block := self._read_block():
            cut = block.rfind(b"\n") + 1  # no line end at the end of the file: a tail
            head, tail = block[:cut], block[cut:]
            self.lines_read = 0
            fast = self._fast(head) if head else []
            if fast is None:
                yield from self._slow(block)
                continue
            yield from fast
            self.index += sum(p.num_rows if isinstance(p, pa.Table) else 1 for p in fast)
            self.line += self.lines_read
            if tail:
                yield from self._slow(tail)

    def _read_block(self) -> bytes:
        """About BLOCK_BYTES of whole lines; more lines while a quoted value is open."""
        block = self.stream.read(BLOCK_BYTES)
        if not block:
            return block
        parts = [block]
        if not block.endswith(b"\n"):
            parts.append(self.stream.readline())
        quote = bytes([self.dialect.quote])
        size = sum(map(len, parts))
        odd = sum(p.count(quote) for p in parts if quote in p) % 2
        while odd and size < BLOCK_BYTES + self.dialect.limit:
            more = self.stream.readline()
            if not more:
                break
            parts.append(more)
            size += len(more)
            odd ^= more.count(quote) % 2
        return b"".join(parts)

    def _fast(self, head: bytes) -> list[Any] | None:
        """The block's items through pyarrow, or None when the row reader must read it."""
        try:  # strictly, as the row reader decodes: an invalid byte is its error to name
            text = head.decode(self.dialect.codec)
        except UnicodeDecodeError:
            return None
        data = head if self.dialect.utf8 else text.encode("utf-8")
        del text
        if b"\x00" in data or data.startswith(codecs.BOM_UTF8):
            return None
        rows = layout(data, self.dialect)
        if rows is None:
            return None
        self.lines_read = len(rows.newlines)
        try:
            table, bad = self.dialect.parse(data, rows.quoting)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if not bad:
            return [table] if table.num_rows == len(rows.starts) else None
        return self._with_bad_rows(table, bad, rows)

    def _with_bad_rows(self, table: pa.Table, bad: int, rows: Layout) -> list[Any] | None:
        """Good rows as table slices, each row with the wrong cell count as a BadRecord."""
        cells = cells_per_row(rows, self.dialect.delimiter)
        wrong = np.flatnonzero(cells != len(self.schema))
        if len(wrong) != bad or table.num_rows != len(rows.starts) - bad:
            return None  # pyarrow and the count disagree: the row reader decides
        out: list[Any] = []
        done = 0  # table rows handed out
        for k, row in enumerate(wrong.tolist()):
            good = row - k - done  # good rows before this bad one, not yet handed out
            if good:
                out.append(table.slice(done, good))
                done += good
            out.append(self._bad_row(rows, row, int(cells[row])))
        if done < table.num_rows:
            out.append(table.slice(done))
        return out

    def _bad_row(self, rows: Layout, row: int, cells: int) -> BadRecord:
        start, end = int(rows.starts[row]), int(rows.ends[row])
        raw = rows.data[start:end].tobytes().decode("utf-8").rstrip("\r\n")
        line = self.line + int(np.searchsorted(rows.newlines, start))
        reason = f"row has {cells} cells, header has {len(self.schema)}"
        index = self.index + row  # every row before it in the block is one item
        return BadRecord(raw=raw, line=line, reason=reason, index=index)

    def _slow(self, block: bytes) -> Iterator[Any]:
        """The row reader over `block`, then on into the stream up to a row boundary."""
        from connectors.formats.csv import _Lines

        segment = _Segment(block, self.stream, self.line, self.dialect.codec, self.name)
        lines = _Lines(iter(segment), self.line - 1)
        reader = self.fmt.reader(lines, self.options)
        header = self.schema.names
        items = self.fmt.rows(
            reader, lines, header, self.options, self.name, self.index, stop=segment.done
        )
        for item in as_tables(items, self.schema):
            self.index += item.num_rows if isinstance(item, pa.Table) else 1
            yield item
        self.line = segment.next_line


class _Segment:
    """Numbered, decoded lines of a block and then of the stream; knows when the block is done.

    The row reader stops between rows once every line of the block has been read, so it
    ends exactly at a row boundary: the stream is positioned at the next row.
    """

    def __init__(self, block: bytes, stream: BinaryIO, line: int, codec: str, name: str) -> None:
        parts = block.split(b"\n")
        self.lines = [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        self.stream, self.codec, self.name = stream, codec, name
        self.next_line = line
        self.left = len(self.lines)

    def done(self) -> bool:
        return self.left <= 0

    def __iter__(self) -> Iterator[tuple[int, str | BadRecord]]:
        for raw in self.lines:
            self.left -= 1
            yield self._decoded(raw)
        for raw in iter(self.stream.readline, b""):
            yield self._decoded(raw)

    def _decoded(self, raw: bytes) -> tuple[int, str]:
        n = self.next_line
        self.next_line += 1
        try:
            return n, raw.decode(self.codec)
        except UnicodeDecodeError as e:
            raise FormatError(decode_error_reason(e, self.codec), name=self.name, line=n) from e
