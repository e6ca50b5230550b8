"""Write X12: segments in a partner's delimiters and whole ISA/GS/ST envelopes.

Everything a partner's translator checks before it reads a single order is computed here, never
typed by a caller: the ISA's fixed field widths, the dates in each envelope's own format, the
segment count in SE01, the counts in GE01/IEA01 and the control numbers echoed in every trailer.
A value that contains one of the interchange's delimiters would silently shift every element
after it, so it is refused with the segment and element that carry it (no escaping exists in
X12); an ISA id that does not fit its 15 characters is refused instead of being cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple, TypeAlias

from connectors.x12.model import Delimiters, Segment
from oms.errors import ConfigError, DataError

Value: TypeAlias = str | tuple[str, ...]  # a simple element, or a composite's components


@dataclass(frozen=True, slots=True)
class Repeated:
    """A repeating element (X12 >= 00402): its occurrences, joined by the repetition separator."""

    values: tuple[Value, ...]


Element: TypeAlias = Value | Repeated
SegmentInput: TypeAlias = Segment | tuple[str, Sequence[Element]]


class X12ValueError(DataError):
    """A value cannot be written: it holds a delimiter or a character outside the encoding."""

    def __init__(self, message: str, *, segment: str, field: str, value: str) -> None:
        self.segment = segment
        self.field = field
        self.value = value
        super().__init__(f"{segment}: {field}: {message}: {value!r}")


class X12EnvelopeError(ConfigError):
    """An envelope argument is wrong (an id too long, a control number, the delimiter set)."""

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class TransactionSpec(NamedTuple):
    """One transaction set to write: ST01, ST02, the body between ST and SE, and ST03."""

    set_id: str
    control: int | str
    segments: Sequence[SegmentInput]
    implementation: str = ""  # ST03, the implementation convention reference (>= 00403)


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """One functional group to write (GS01..GS08 and its transaction sets)."""

    functional_id: str
    sender: str
    receiver: str
    control: int
    version: str  # GS08, e.g. '004010' or '004010VICS'
    transactions: Sequence[TransactionSpec | tuple[str, int | str, Sequence[SegmentInput]]]


_ISA_ID_WIDTH = 15
_ISA_AUTH_WIDTH = 10


def check_delimiters(delimiters: Delimiters, version: str) -> None:
    """Refuse a delimiter set a reader could not split back: one character each, all distinct."""
    named = {
        "element separator": delimiters.element,
        "sub-element separator (ISA16)": delimiters.sub_element,
        "segment terminator": delimiters.segment,
    }
    if version >= "00402":
        if delimiters.repetition is None:
            raise X12EnvelopeError(
                f"version {version} needs a repetition separator (ISA11)", field="ISA11"
            )
        named["repetition separator (ISA11)"] = delimiters.repetition
    for name, char in named.items():
        if len(char) != 1 or char.isalnum() or char == " ":
            raise X12EnvelopeError(
                f"{name} must be one character, not a letter, digit or space: {char!r}",
                field="delimiters",
            )
    if len(set(named.values())) != len(named):
        raise X12EnvelopeError(
            f"delimiters must all differ: {sorted(named.items())!r}", field="delimiters"
        )


def _reserved(delimiters: Delimiters) -> str:
    chars = delimiters.element + delimiters.sub_element + delimiters.segment
    return chars + (delimiters.repetition or "")


@lru_cache(maxsize=64)
def _forbidden(delimiters: Delimiters) -> re.Pattern[str]:
    """Any delimiter or line break: one search per segment finds whether a value holds one."""
    return re.compile("[" + re.escape(_reserved(delimiters) + "\r\n") + "]")


def _check_value(value: str, reserved: str, where: str, field: str) -> str:
    bad = [c for c in value if c in reserved or c in "\r\n"]
    if bad:
        raise X12ValueError(
            f"contains the delimiter {bad[0]!r}", segment=where, field=field, value=value
        )
    return value


def _format_value(value: Value, delimiters: Delimiters, where: str, field: str) -> str:
    reserved = _reserved(delimiters)
    if isinstance(value, str):
        return _check_value(value, reserved, where, field)
    parts = [_check_value(c, reserved, where, f"{field}-{i:02d}") for i, c in enumerate(value, 1)]
    while parts and not parts[-1]:
        parts.pop()
    return delimiters.sub_element.join(parts)


def _format_element(element: Element, delimiters: Delimiters, where: str, field: str) -> str:
    if not isinstance(element, Repeated):
        return _format_value(element, delimiters, where, field)
    if delimiters.repetition is None:
        raise X12ValueError(
            "a repeated element needs a repetition separator (ISA12 >= 00402)",
            segment=where,
            field=field,
            value=repr(element.values),
        )
    values = [_format_value(v, delimiters, where, field) for v in element.values]
    return delimiters.repetition.join(values)


def format_segment(
    tag: str, elements: Sequence[Element], delimiters: Delimiters, *, where: str = ""
) -> str:
    """One segment's text with its terminator; trailing empty elements are dropped (X12 rule).

    `where` names the segment in errors (e.g. 'segment 5 of set 0001'); the tag is added.
    """
    if 2 <= len(tag) <= 3 and tag.isalnum() and all(type(e) is str for e in elements):
        # the common case, plain values: one search over all of them, the exact error below
        plain: list[str] = list(elements)  # type: ignore[arg-type]
        if not _forbidden(delimiters).search("".join(plain)):
            while plain and not plain[-1]:
                plain.pop()
            return delimiters.element.join([tag, *plain]) + delimiters.segment
    label = f"{where} {tag}".strip() if where else tag
    if not tag.isalnum() or not 2 <= len(tag) <= 3:
        raise X12ValueError("not a segment tag", segment=label, field="tag", value=tag)
    texts = [
        _format_element(e, delimiters, label, f"{tag}{i:02d}") for i, e in enumerate(elements, 1)
    ]
    while texts and not texts[-1]:
        texts.pop()
    return delimiters.element.join([tag, *texts]) + delimiters.segment


def elements_of(segment: Segment, source: Delimiters) -> list[Element]:
    """A read segment's elements as writer input, split by the delimiters it was read with.

    Composites and repetitions become structure, so the segment can be written again in any
    other partner's delimiters without carrying the source's separators inside a value.
    """
    out: list[Element] = []
    for text in segment.elements:
        occurrences = text.split(source.repetition) if source.repetition else [text]
        values: list[Value] = [
            tuple(o.split(source.sub_element)) if source.sub_element in o else o
            for o in occurrences
        ]
        out.append(values[0] if len(values) == 1 else Repeated(tuple(values)))
    return out


def _segment_parts(
    segment: SegmentInput, source: Delimiters | None
) -> tuple[str, Sequence[Element]]:
    if isinstance(segment, Segment):
        return segment.tag, elements_of(segment, source or Delimiters())
    return segment


def _isa_field(value: str, width: int, field: str) -> str:
    if len(value) > width:
        raise X12EnvelopeError(f"{value!r} is longer than {width} characters", field=field)
    if not value.isascii() or any(c in "\r\n" for c in value):
        raise X12EnvelopeError(f"{value!r} must be printable ASCII", field=field)
    return value.ljust(width)


def _control(value: int, digits: int, field: str) -> str:
    if not 0 < value < 10**digits:
        raise X12EnvelopeError(f"control number {value} is not 1..{10**digits - 1}", field=field)
    return str(value)


def _set_control(value: int | str) -> str:
    text = _control(value, 9, "ST02").zfill(4) if isinstance(value, int) else value
    if not 4 <= len(text) <= 9:
        raise X12EnvelopeError(f"{text!r} must be 4 to 9 characters", field="ST02")
    return text


@dataclass(frozen=True, slots=True)
class IsaSpec:
    """What an ISA says: parties as (ISA05/07 qualifier, ISA06/08 id), control, version..."""

    sender: tuple[str, str]
    receiver: tuple[str, str]
    control: int
    usage: str
    version: str
    delimiters: Delimiters
    when: datetime
    ack_requested: bool = False
    authorization: tuple[str, str] = ("00", "")
    security: tuple[str, str] = ("00", "")


def isa_segment(spec: IsaSpec) -> str:
    """The 106-character ISA (fixed widths: readers find the delimiters by position)."""
    delimiters, version, when = spec.delimiters, spec.version, spec.when
    check_delimiters(delimiters, version)
    if len(version) != 5 or not version.isdigit():
        raise X12EnvelopeError(f"{version!r} is not a 5-digit version (e.g. 00401)", field="ISA12")
    if spec.usage not in ("P", "T", "I"):
        raise X12EnvelopeError(f"{spec.usage!r} is not P, T or I", field="ISA15")
    fields = [
        _isa_field(spec.authorization[0], 2, "ISA01"),
        _isa_field(spec.authorization[1], _ISA_AUTH_WIDTH, "ISA02"),
        _isa_field(spec.security[0], 2, "ISA03"),
        _isa_field(spec.security[1], _ISA_AUTH_WIDTH, "ISA04"),
        _isa_field(spec.sender[0], 2, "ISA05"),
        _isa_field(spec.sender[1], _ISA_ID_WIDTH, "ISA06"),
        _isa_field(spec.receiver[0], 2, "ISA07"),
        _isa_field(spec.receiver[1], _ISA_ID_WIDTH, "ISA08"),
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        delimiters.repetition if version >= "00402" and delimiters.repetition else "U",
        version,
        _control(spec.control, 9, "ISA13").zfill(9),
        "1" if spec.ack_requested else "0",
        spec.usage,
        delimiters.sub_element,
    ]
    reserved = _reserved(delimiters)
    for i, value in enumerate(fields[:15], 1):
        if i != 11:  # ISA11 is the repetition separator itself
            _check_value(value, reserved, "ISA", f"ISA{i:02d}")
    return delimiters.element.join(["ISA", *fields]) + delimiters.segment


def _transaction_lines(
    spec: TransactionSpec, delimiters: Delimiters, source: Delimiters | None
) -> list[str]:
    control = _set_control(spec.control)
    where = f"set {spec.set_id} {control}"
    header: list[Element] = [spec.set_id, control]
    if spec.implementation:
        header.append(spec.implementation)
    lines = [format_segment("ST", header, delimiters, where=where)]
    for n, segment in enumerate(spec.segments, 2):
        tag, elements = _segment_parts(segment, source)
        lines.append(format_segment(tag, elements, delimiters, where=f"{where} segment {n}"))
    lines.append(format_segment("SE", [str(len(lines) + 1), control], delimiters, where=where))
    return lines


def group_lines(
    group: GroupSpec, delimiters: Delimiters, when: datetime, source: Delimiters | None = None
) -> list[str]:
    """GS, each set's ST..SE, GE: each line one segment with its terminator."""
    control = _control(group.control, 9, "GS06")
    gs: list[Element] = [
        group.functional_id,
        group.sender,
        group.receiver,
        when.strftime("%Y%m%d"),
        when.strftime("%H%M"),
        control,
        "X",
        group.version,
    ]
    lines = [format_segment("GS", gs, delimiters, where=f"group {control}")]
    for t in group.transactions:
        spec = t if isinstance(t, TransactionSpec) else TransactionSpec(*t)
        lines.extend(_transaction_lines(spec, delimiters, source))
    count = str(len(group.transactions))
    lines.append(format_segment("GE", [count, control], delimiters, where=f"group {control}"))
    return lines


def build_interchange(
    *,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    control: int,
    usage: str,
    version: str,
    delimiters: Delimiters,
    groups: Sequence[GroupSpec],
    when: datetime,
    ack_requested: bool = False,
    leading: Iterable[SegmentInput] = (),
    line_end: str = "",
    encoding: str = "ascii",
    source: Delimiters | None = None,
) -> bytes:
    """One interchange ISA..IEA as bytes.

    `sender`/`receiver` are (ISA05/07 qualifier, ISA06/08 id); `leading` are segments between
    ISA and the first GS (a TA1). `line_end` ('\\n', '\\r\\n') follows every terminator for
    partners who want one segment per line. `source` is the delimiter set that read
    `model.Segment` inputs were split with (composites are re-delimited for this partner).
    """
    isa = IsaSpec(sender, receiver, control, usage, version, delimiters, when, ack_requested)
    lines = [isa_segment(isa)]
    for n, segment in enumerate(leading, 2):
        tag, elements = _segment_parts(segment, source)
        lines.append(format_segment(tag, elements, delimiters, where=f"segment {n}"))
    for group in groups:
        lines.extend(group_lines(group, delimiters, when, source))
    iea = [str(len(groups)), str(control).zfill(9)]
    lines.append(format_segment("IEA", iea, delimiters, where="interchange"))
    return _encode(lines, line_end, encoding)


def _encode(lines: list[str], line_end: str, encoding: str) -> bytes:
    if line_end not in ("", "\n", "\r\n"):
        raise X12EnvelopeError(f"{line_end!r} is not '', '\\n' or '\\r\\n'", field="line_end")
    text = line_end.join(lines) + line_end
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        at = exc.start
        for n, line in enumerate(lines, 1):  # which segment, and where in it
            if at < len(line) + len(line_end):
                raise X12ValueError(
                    f"character {line[at]!r} is not {encoding}",
                    segment=f"segment {n}",
                    field=f"character {at + 1}",
                    value=line,
                ) from None
            at -= len(line) + len(line_end)
        raise
