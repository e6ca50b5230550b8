"""The `x12` format: one record per transaction set, grouped by its schema's loops.

Streams with the X12 reader (one set in memory at a time). Each record is the set as a
nested dict (`connectors.formats.x12record` describes the shape) plus `_x12`, where it came
from: file, ISA13, GS06, ST02, set id, sender and receiver ids, version, when the group
was sent (GS04+GS05, `sent`: CCYYMMDDHHMM), the schema used,
each body segment's tag and file position, and what the validation found.

A set with a fatal envelope issue (SE count or control wrong, no SE, a group or
interchange refused), a set of a kind the stream does not read (option `sets`), or, with
`strict: true`, a set with validation problems, is a `BadRecord` naming the segment: the
sets around it still load. An `X12Error` (input that cannot be read any further) ends the
file, after the sets read before it.

Options: `sets` (set ids this stream reads, e.g. [850]; default all), `version` (schema
version family to use whatever GS08 says), `overlay` (path of a partner overlay YAML),
`required` (a partner's presence requirements: `[ST03, "REF*IA", TD5]`),
`strict` (reject sets that fail validation; default false: they load, `_x12.problems`
lists the findings), `order_origin` (whose orders the sets' order numbers are, as
`_x12.order_origin`, for sets read without the EDI inbox), `default_location` (the
location of sets that name none, as `_x12.default_location`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from connectors.formats.common import read_all, seekable


class X12Format:
    """ANSI X12 EDI: records are transaction sets (see the module docstring)."""

    kind: ClassVar[str] = "x12"

    def records(self, stream: BinaryIO, options: dict[str, Any], name: str = "") -> Iterator[Any]:
        stream = seekable(stream)
        start = stream.tell()
        if not stream.read(4096).replace(b"\xef\xbb\xbf", b"").strip():
            return  # an empty file: zero records (the reader would say "no ISA")
        stream.seek(start)
        from connectors.formats.x12sets import SetReader
        from connectors.x12.reader import iter_transactions

        reader = SetReader(options, name)
        for index, tx in enumerate(iter_transactions(stream, name=name or None)):
            yield reader.record(tx, index)

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        return read_all(self.records, content, options, name)


def __getattr__(name: str) -> Any:
    """`record_of` and `provenance` (and the `_provenance` name the EDI inbox imported
    first) live in `connectors.formats.x12sets`; reached here, they load it."""
    if name in ("record_of", "provenance", "_provenance"):
        from connectors.formats import x12sets

        return getattr(x12sets, name.lstrip("_"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
