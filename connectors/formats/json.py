"""JSON documents (records under a path) and NDJSON (one record per line), streamed.

A JSON array is read record by record with ijson (constant memory for any file size);
numbers come out as json.loads gives them (int or float). `NaN`, `Infinity` and NUL bytes
are refused: in NDJSON as a bad record for that line (the next lines are still read),
in a JSON document as a FormatError naming the line, since the parser cannot go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

import ijson

from connectors.base import REFUSED_KEY, BadRecord
from connectors.errors import FormatError
from connectors.formats.common import (
    DEFAULT_ENCODING,
    MAX_DEPTH,
    NonFiniteError,
    checked,
    decoded_lines,
    read_all,
    refuse_constant,
    seekable,
)
from connectors.formats.jsonsource import Utf8Source

_SCALARS = {"string", "number", "boolean", "null"}


class _LineDecoder:
    """One JSON decoder for every line of a file (json.loads builds one per call) that
    notes whether a number overflowed to inf, the one problem its text cannot show."""

    def __init__(self) -> None:
        self.overflow = False
        self.decoder = json.JSONDecoder(parse_constant=refuse_constant, parse_float=self._float)

    def _float(self, text: str) -> float:
        value = float(text)
        if value - value != 0:  # inf - inf is nan
            self.overflow = True
        return value

    def decode(self, raw: str) -> Any:
        self.overflow = False
        if raw.startswith("\ufeff"):  # json.loads names a BOM; the decoder alone does not
            return json.loads(raw, parse_constant=refuse_constant)
        return self.decoder.decode(raw)

    def surely_safe(self, raw: str) -> bool:
        """Whether the line rules out all that `record_problem` refuses, so its walk over
        every value can be skipped: a NUL can only be written `\\u0000` (a raw one is
        invalid JSON); nesting deeper than MAX_DEPTH needs more brackets than that; an
        overflow was noted. Brackets inside strings just take the full check."""
        return (
            not self.overflow
            and "\\u0000" not in raw
            and "\x00" not in raw
            and raw.count("[") + raw.count("{") <= MAX_DEPTH
            and REFUSED_KEY not in raw
        )


def _is_blank(stream: BinaryIO) -> bool:
    """True when the rest of the stream is only whitespace or a BOM (an empty file)."""
    start = stream.tell()
    while chunk := stream.read(65536):
        if chunk.replace(b"\xef\xbb\xbf", b"").strip():
            stream.seek(start)
            return False
    return True


class JsonFormat:
    """Options: `records_path` (dotted keys to the record list, e.g. `data.orders`), `encoding`."""

    kind: ClassVar[str] = "json"

    def records(self, stream: BinaryIO, options: dict[str, Any], name: str = "") -> Iterator[Any]:
        stream = seekable(stream)
        if _is_blank(stream):
            return
        encoding = options.get("encoding", DEFAULT_ENCODING)
        path = options.get("records_path") or ""
        prefix = ".".join(p for p in path.split(".") if p)
        start = stream.tell()
        kind = self._kind_at(Utf8Source(stream, encoding, name), prefix, path, name)
        stream.seek(start)
        source = Utf8Source(stream, encoding, name)
        target = prefix if kind == "map" else (f"{prefix}.item" if prefix else "item")
        done = 0  # records read so far: an error is in record `done + 1`
        try:
            for rec in ijson.items(source, target):
                yield checked(rec, None, done)
                done += 1
        except ijson.JSONError as e:
            raise _syntax_error(e, source, name, done + 1) from None

    def _kind_at(self, source: Utf8Source, prefix: str, path: str, name: str) -> str:
        """`map` or `array`: what sits at the records path (a first, shallow pass)."""
        parts = prefix.split(".") if prefix else []
        matched = 0
        try:
            for at, event, value in ijson.parse(source):
                if at == prefix and event in ("start_map", "start_array"):
                    return "map" if event == "start_map" else "array"
                if at == prefix and event in _SCALARS:
                    raise FormatError(f"records_path {path!r} is not a list or object", name=name)
                if event == "map_key" and at == ".".join(parts[:matched]) and matched < len(parts):
                    matched += value == parts[matched]
        except ijson.JSONError as e:
            raise _syntax_error(e, source, name, None) from None
        raise FormatError(f"records_path {path!r}: key {parts[matched]!r} not found", name=name)

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        return read_all(self.records, content, options, name)


def _syntax_error(
    e: ijson.JSONError, source: Utf8Source, name: str, record: int | None
) -> FormatError:
    message = e.args[0] if e.args else str(e)
    line, reason = source.locate(message)
    if reason is None:
        first = message if isinstance(message, str) else message.decode("utf-8", "replace")
        reason = "invalid JSON: " + first.split("\n", 1)[0]
    if record is not None:
        reason += f" (in record {record})"
    return FormatError(reason, name=name, line=line, record=record)


class NdjsonFormat:
    """One JSON value per line; blank lines are skipped. Options: `encoding`.

    Every line is its own record, so a bad line (invalid JSON, an invalid byte, NaN, a NUL
    byte, too deep) is a BadRecord for that line and the next lines are still read.
    """

    kind: ClassVar[str] = "ndjson"

    def records(self, stream: BinaryIO, options: dict[str, Any], name: str = "") -> Iterator[Any]:
        index = 0
        encoding = options.get("encoding", DEFAULT_ENCODING)
        decoder = _LineDecoder()
        for n, line in decoded_lines(stream, encoding, name, bad_lines=True):
            if isinstance(line, BadRecord):
                yield BadRecord(line.raw, n, line.reason, index)
            elif line.strip():
                yield self._parse(line, n, index, decoder)
            else:
                continue
            index += 1

    @staticmethod
    def _parse(line: str, n: int, index: int, decoder: _LineDecoder) -> Any:
        raw = line.rstrip("\r\n")
        try:
            value = decoder.decode(raw)
        except NonFiniteError as e:
            return BadRecord(raw=raw, line=n, reason=str(e), index=index)
        except json.JSONDecodeError as e:
            return BadRecord(raw=raw, line=n, reason=f"invalid JSON: {e.msg}", index=index)
        except RecursionError:
            return BadRecord(raw=raw, line=n, reason="JSON nested too deeply", index=index)
        if decoder.surely_safe(raw):
            return value  # what `checked` would return, without walking every value
        return checked(value, n, index, raw)

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        return read_all(self.records, content, options, name)
