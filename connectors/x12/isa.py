"""The ISA segment: where each interchange declares its delimiters, read by position.

The ISA is the one fixed-width segment (106 bytes), but real files bend it: fields one
character too wide or too short, a line break inside it (80-column wrapping), non-ASCII
padding. So its delimiters are found by counting element separators, not by fixed byte
positions: the element separator is the byte after `ISA`, ISA16 (the component separator)
follows the 16th of them, and the segment terminator is the byte after ISA16. Field widths
and values are then checked one by one and reported as `Issue`s with their TA1 note codes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from connectors.x12.errors import X12Error
from connectors.x12.model import Delimiters

ISA_LENGTH = 106
SCAN_LIMIT = 400  # bytes an ISA may span: wrapped lines, over-wide fields, UTF-8 padding
_NEWLINES = b"\r\n"

# (ISA element, width, TA1 note code, allowed values or None) for the fixed-width fields.
_FIELDS: tuple[tuple[int, int, str, frozenset[str] | None], ...] = (
    (1, 2, "010", frozenset({"00", "01", "02", "03", "04", "05", "06"})),
    (2, 10, "011", None),
    (3, 2, "012", frozenset({"00", "01"})),
    (4, 10, "013", None),
    (5, 2, "005", None),
    (6, 15, "006", None),
    (7, 2, "007", None),
    (8, 15, "008", None),
    (9, 6, "014", None),
    (10, 4, "015", None),
    (13, 9, "018", None),
    (14, 1, "019", frozenset({"0", "1"})),
    (15, 1, "020", frozenset({"P", "T", "I"})),
)


@dataclass(frozen=True, slots=True)
class IsaRead:
    """One ISA as read: its 16 elements (line breaks removed), delimiters and extent."""

    elements: list[str]
    delimiters: Delimiters
    end: int  # index just past the segment terminator
    encoding: str  # 'latin-1' when a delimiter is not ASCII, else the caller's


def _char(byte: int) -> str:
    return bytes([byte]).decode("latin-1")


def _shown(data: bytes) -> str:
    return repr(data.decode("latin-1"))


def read_isa(
    buf: bytes, start: int, *, eof: bool, encoding: str, name: str, segment: int, offset: int
) -> IsaRead:
    """Read the ISA at `buf[start:]` (which begins with b'ISA').

    `buf` must hold SCAN_LIMIT bytes from `start` unless `eof`. Raises X12Error when no
    delimiters can be had: then nothing after this point can be split into segments.
    """

    def fail(reason: str) -> X12Error:
        return X12Error(reason, name=name, segment=segment, offset=offset)

    limit = min(len(buf), start + SCAN_LIMIT)
    if start + 3 >= limit:
        raise fail("the file ends inside the ISA segment")
    sep = buf[start + 3]
    if chr(sep).isalnum() or sep in b" \r\n":
        raise fail(f"ISA element separator {_shown(bytes([sep]))} is not a delimiter")
    at, count = start + 3, 1  # the separator right after "ISA" is the first
    while count < 16:
        nxt = buf.find(sep, at + 1, limit)
        if nxt < 0:
            size = len(buf[start:limit].replace(b"\r", b"").replace(b"\n", b""))
            more = "" if eof and limit == len(buf) else f" within {SCAN_LIMIT} bytes"
            raise fail(
                f"ISA is {size} bytes, expected {ISA_LENGTH}: "
                f"{count} of 16 element separators{more}"
            )
        at, count = nxt, count + 1
    k = at + 1
    while k < limit and buf[k] in _NEWLINES:  # a wrapped line before ISA16
        k += 1
    if k + 1 >= len(buf):
        raise fail("the file ends before the ISA's segment terminator")
    sub, term = buf[k], buf[k + 1]
    if chr(term).isalnum() or term in (sep, sub):
        size = len(buf[start : k + 1].replace(b"\r", b"").replace(b"\n", b""))
        raise fail(
            f"ISA is {size} bytes, expected {ISA_LENGTH}: ISA16 is followed by "
            f"{_shown(buf[k : k + 2])}, not a component separator and a segment terminator"
        )
    enc = "latin-1" if max(sep, sub, term) >= 0x80 else encoding
    raw = buf[start : k + 1].replace(b"\r", b"").replace(b"\n", b"")
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    elements = [*text[:-1].split(_char(sep))[1:-1], text[-1]]  # ISA16 may equal the separator
    return IsaRead(elements, _delimiters(elements, sep, sub, term), k + 2, enc)


def _delimiters(elements: list[str], sep: int, sub: int, term: int) -> Delimiters:
    """ISA11 is the repetition separator from version 00402 on, when it is not a letter,
    digit or space (before 00402 it is the standards identifier 'U')."""
    version, isa11 = elements[11].strip(), elements[10]
    repetition = None
    if version >= "00402" and len(isa11) == 1 and not (isa11.isalnum() or isa11 == " "):
        repetition = isa11
    return Delimiters(_char(sep), _char(sub), _char(term), repetition)


def isa_problems(elements: list[str], delimiters: Delimiters) -> list[tuple[str, str]]:
    """Every ISA field whose width or value is wrong, as (TA1 note code, message)."""
    found: list[tuple[str, str]] = []
    for n, width, code, allowed in _FIELDS:
        value = elements[n - 1]
        if len(value) != width:
            found.append((code, f"ISA{n:02d} {value!r} is {len(value)} characters, not {width}"))
        elif allowed is not None and value not in allowed:
            found.append((code, f"ISA{n:02d} {value!r} is not one of {sorted(allowed)}"))
    found += _value_problems(elements, delimiters)
    return found


def _value_problems(elements: list[str], delimiters: Delimiters) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    date, time, control = elements[8], elements[9], elements[12]
    if len(date) == 6 and not _parses(date, "%y%m%d"):
        found.append(("014", f"ISA09 {date!r} is not a date (YYMMDD)"))
    if len(time) == 4 and not _parses(time, "%H%M"):
        found.append(("015", f"ISA10 {time!r} is not a time (HHMM)"))
    if len(control) == 9 and not _digits(control):
        found.append(("018", f"ISA13 {control!r} is not 9 digits"))
    version, isa11 = elements[11], elements[10]
    if not (len(version) == 5 and _digits(version) and "00200" <= version < "00900"):
        found.append(("017", f"ISA12 {version!r} is not an X12 version (00200 to 00801)"))
    elif version < "00402" and isa11 != "U":
        found.append(("016", f"ISA11 {isa11!r} should be 'U' in version {version}"))
    elif version >= "00402" and len(isa11) != 1:
        found.append(("016", f"ISA11 {isa11!r} is not one repetition separator"))
    if delimiters.sub_element.isalnum() or delimiters.sub_element == delimiters.element:
        found.append(("027", f"ISA16 {delimiters.sub_element!r} is not a component separator"))
    return found


def _parses(value: str, pattern: str) -> bool:
    if not _digits(value):
        return False
    try:
        dt.datetime.strptime(value, pattern)
    except ValueError:
        return False
    return True


def _digits(value: str) -> bool:
    """ASCII digits only ('²' is a digit to `str.isdigit`, not to `int` or a date)."""
    return value.isascii() and value.isdigit()
