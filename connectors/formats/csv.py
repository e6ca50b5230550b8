"""Delimited text, read line by line. Every value stays text: typing is the mapping's job.

A row with fewer or more cells than the header, or a last row without its line end (the
file was cut short while being written), is a BadRecord for that line, never a row with
shifted or truncated values. A field over `max_field_bytes` (default 1 MiB) stops the
file with a FormatError naming the line.

`records` (the csv module, line by line) is the reference; `columnar` gives the same
items as Arrow tables of text columns, parsed by pyarrow wherever the two agree
(`connectors.formats.csvarrow`), for `connectors.base.iter_chunks`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, ClassVar

from connectors.base import BadRecord
from connectors.errors import FormatError
from connectors.formats.common import DEFAULT_ENCODING, checked, decoded_lines, read_all

MAX_FIELD_BYTES = 1 << 20


def _limit(options: dict[str, Any]) -> int:
    return int(options.get("max_field_bytes", MAX_FIELD_BYTES))


class _Lines:
    """Feeds csv.reader decoded lines and remembers where the current row started."""

    def __init__(self, lines: Iterator[tuple[int, str | BadRecord]], line: int = 0) -> None:
        self.lines = lines
        self.line = line  # last line handed to csv
        self.row: list[str] = []  # raw text of the row being read
        self.last_text = "\n"

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        self.line, text = next(self.lines)
        assert isinstance(text, str)  # bad_lines is off: decoding errors raise
        self.row.append(text)
        self.last_text = text
        return text


class CsvFormat:
    """Options: `delimiter`, `quotechar`, `encoding`, `max_field_bytes`,
    `allow_unterminated_last_row` (default false: a last row without a line end is refused
    as cut short; set it for systems that never end their files with a newline)."""

    kind: ClassVar[str] = "csv"

    def records(self, stream: BinaryIO, options: dict[str, Any], name: str = "") -> Iterator[Any]:
        lines = _Lines(decoded_lines(stream, options.get("encoding", DEFAULT_ENCODING), name))
        reader = self.reader(lines, options)
        header = self.header(reader, lines, options, name)
        if header is None:
            return  # an empty file: zero records
        yield from self.rows(reader, lines, header, options, name)

    def columnar(self, stream: BinaryIO, options: dict[str, Any], name: str = "") -> Iterator[Any]:
        """The records as Arrow tables of text columns (see `connectors.formats.csvarrow`)."""
        from connectors.formats.csvarrow import csv_pieces

        return csv_pieces(self, stream, options, name)

    @staticmethod
    def reader(lines: _Lines, options: dict[str, Any]) -> Any:
        csv.field_size_limit(_limit(options))  # process-wide in the csv module; set per file
        return csv.reader(
            lines,
            delimiter=options.get("delimiter", ","),
            quotechar=options.get("quotechar", '"'),
            strict=True,  # an unterminated quote at the end is a cut-short file, not a value
        )

    def header(
        self, reader: Any, lines: _Lines, options: dict[str, Any], name: str
    ) -> list[str] | None:
        """The header row (blank lines before it skipped); None for an empty file."""
        header = self._next(reader, lines, name, _limit(options))
        while header == []:  # blank lines before the header
            header = self._next(reader, lines, name, _limit(options))
        if isinstance(header, BadRecord):
            raise FormatError(f"bad header row: {header.reason}", name=name, line=header.line)
        return header

    def rows(
        self,
        reader: Any,
        lines: _Lines,
        header: list[str],
        options: dict[str, Any],
        name: str,
        index: int = 0,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[Any]:
        """Records and BadRecords after the header, `index` counting from the given one.

        `stop` is asked after every row (blank ones too): the columnar reader uses it to
        read just a segment of the file this way and resume at the row boundary after it.
        """
        limit = _limit(options)
        allow_cut = bool(options.get("allow_unterminated_last_row", False))
        while stop is None or not stop():
            lines.row = []
            cells = self._next(reader, lines, name, limit)
            if cells is None:
                return
            if isinstance(cells, BadRecord):
                yield BadRecord(cells.raw, cells.line, cells.reason, index)
            elif cells:  # blank lines are skipped, as DictReader does
                first = lines.line - len(lines.row) + 1
                yield self._record(header, cells, lines, first, index, allow_cut)
            else:
                continue
            index += 1

    @staticmethod
    def _next(reader: Any, lines: _Lines, name: str, limit: int) -> list[str] | BadRecord | None:
        """The next row's cells; None at the end; a BadRecord for a line csv cannot split.

        After such an error csv starts afresh on the next line, so the file goes on; but a
        too large field may span lines whose rest would be misread: that stops the file.
        """
        try:
            return next(reader)  # type: ignore[no-any-return]
        except StopIteration:
            return None
        except csv.Error as e:
            if "field larger than field limit" in str(e):
                raise FormatError(
                    f"a field is larger than max_field_bytes ({limit})", name=name, line=lines.line
                ) from e
            first = lines.line - len(lines.row) + 1
            raw = "".join(lines.row).rstrip("\r\n")
            reason = (
                "file ends inside a quoted field: cut short"
                if "end of data" in str(e)
                else f"invalid CSV: {e}"
            )
            return BadRecord(raw=raw, line=first, reason=reason)

    @staticmethod
    def _record(
        header: list[str], cells: list[str], lines: _Lines, line: int, index: int, allow_cut: bool
    ) -> Any:
        raw = "".join(lines.row).rstrip("\r\n")
        if len(cells) != len(header):
            reason = f"row has {len(cells)} cells, header has {len(header)}"
            return BadRecord(raw=raw, line=line, reason=reason, index=index)
        if not allow_cut and not lines.last_text.endswith(("\n", "\r")):
            reason = "last row has no line end: the file looks cut short"
            return BadRecord(raw=raw, line=line, reason=reason, index=index)
        record = {k: (v if v != "" else None) for k, v in zip(header, cells, strict=True)}
        return checked(record, line, index, raw)

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        return read_all(self.records, content, options, name)
