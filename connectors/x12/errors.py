"""The one error the X12 reader raises: input that cannot be read any further.

Envelope problems (wrong counts, missing trailers, odd ISA fields) are not errors: they are
`model.Issue`s on the structure that has them, so the good transaction sets around them
still load and the acknowledgement can name them. `X12Error` is for the rest: no ISA at
all, an ISA that yields no delimiters, bytes that are not X12.
"""

from __future__ import annotations

from connectors.errors import FormatError


class X12Error(FormatError):
    """Nothing more can be read from this X12 input.

    The message names the file, the segment number (1-based, kept as `line` like every
    `FormatError`) and the byte offset: `po.x12: segment 12 (byte 480): ISA is 96 bytes,
    expected 106`. `reason` is the message without the location.
    """

    def __init__(
        self,
        reason: str,
        *,
        name: str | None = None,
        segment: int | None = None,
        offset: int | None = None,
    ) -> None:
        where = [name or "<x12>"]
        place = []
        if segment is not None:
            place.append(f"segment {segment}")
        if offset is not None:
            place.append(f"(byte {offset})" if place else f"byte {offset}")
        if place:
            where.append(" ".join(place))
        # FormatError's own `name:line:` prefix does not fit a segment and a byte offset:
        # build the message here and keep its attributes' meaning.
        Exception.__init__(self, f"{': '.join(where)}: {reason}")
        self.name = name
        self.line = segment
        self.record = None
        self.reason = reason
        self.segment = segment
        self.offset = offset
