"""Check one transaction set against its schema (and a partner overlay): what a 997 reports.

Each problem is a `SegmentProblem` (an AK3: segment tag, position in the set with ST = 1,
loop id, AK304 code) with its `ElementProblem`s (AK4: element position, AK403 code, data
element reference, bad value). The result is plain data: the acknowledgement side adapts
it to its own types, and a mapping run can quarantine with the same words.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from connectors.x12.loops import (
    UNEXPECTED,
    UNRECOGNIZED,
    Loop,
    Placed,
    group,
    hl_tree,
    set_position,
)
from connectors.x12.model import Segment, Transaction
from connectors.x12.schema import ElementSpec, LoopSpec, Schema, SegmentUse

# AK304 (720) segment syntax error codes
MISSING_SEGMENT = "3"
LOOP_OVER_MAX = "4"
SEGMENT_OVER_MAX = "5"
ELEMENT_ERRORS = "8"
# AK403 (723) data element syntax error codes
ELEMENT_MISSING = "1"
TOO_MANY_ELEMENTS = "3"
TOO_SHORT = "4"
TOO_LONG = "5"
INVALID_CHARACTER = "6"
INVALID_CODE = "7"
INVALID_DATE = "8"
INVALID_TIME = "9"

_SEGMENT_WORDS = {
    UNRECOGNIZED: "unrecognized segment",
    UNEXPECTED: "unexpected segment (not allowed here)",
    MISSING_SEGMENT: "mandatory segment missing",
    LOOP_OVER_MAX: "loop occurs over its maximum",
    SEGMENT_OVER_MAX: "segment exceeds its maximum use",
    ELEMENT_ERRORS: "segment has data element errors",
}


@dataclass(frozen=True, slots=True)
class ElementProblem:
    """One bad element (an AK4)."""

    position: int  # AK401: BEG03 -> 3
    code: str  # AK403
    reference: str = ""  # AK402: data element number, e.g. '324'
    bad_value: str = ""  # AK404
    message: str = ""


@dataclass(frozen=True, slots=True)
class SegmentProblem:
    """One bad segment (an AK3), with its element problems."""

    tag: str  # AK301
    position: int  # AK302: position in the set, ST = 1
    code: str  # AK304
    loop_id: str = ""  # AK303
    elements: tuple[ElementProblem, ...] = ()
    message: str = ""

    def describe(self) -> str:
        """'segment 4 BEG (loop -): BEG02 invalid code value 'XX'' style text."""
        parts = [f"segment {self.position} {self.tag}"]
        if self.loop_id:
            parts.append(f"in loop {self.loop_id}")
        text = " ".join(parts) + f": {self.message or _SEGMENT_WORDS.get(self.code, '')}"
        for e in self.elements:
            text += f"; {self.tag}{e.position:02d}: {e.message}"
        return text


@dataclass(slots=True)
class Validation:
    """Everything found in one set; `ok` when nothing was."""

    set_id: str
    control: str
    schema: str  # the schema file used
    problems: list[SegmentProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(tx: Transaction, schema: Schema, tree: Loop | None = None) -> Validation:
    """Check `tx`; `schema` already has any partner overlay applied (`apply_overlay`).

    `tree` is the set's loop tree when the caller grouped it already.
    """
    root = tree if tree is not None else group(tx.segments, schema)
    result = Validation(tx.set_id, tx.control, schema.file)
    end = set_position(tx, tx.trailer) if tx.trailer else len(tx.segments) + 2
    _check_loop(tx, schema, root, schema.body, end, result.problems)
    hl_loops = [i for i in root.items if isinstance(i, Loop) and i.id == "HL"]
    for seg, element, why in hl_tree(hl_loops).problems:
        problem = ElementProblem(element, INVALID_CODE, "", seg.element(element), why)
        _add(result.problems, tx, seg, "HL", ELEMENT_ERRORS, (problem,))
    result.problems.sort(key=lambda p: p.position)
    return result


def _add(
    out: list[SegmentProblem],
    tx: Transaction,
    seg: Segment,
    loop_id: str,
    code: str,
    elements: tuple[ElementProblem, ...] = (),
    message: str = "",
) -> None:
    out.append(SegmentProblem(seg.tag, set_position(tx, seg), code, loop_id, elements, message))


def _check_loop(
    tx: Transaction,
    schema: Schema,
    loop: Loop,
    entries: tuple[SegmentUse | LoopSpec, ...],
    end: int,
    out: list[SegmentProblem],
) -> None:
    """Use counts, mandatory entries, element rules of one loop instance, then its loops."""
    uses: Counter[int] = Counter()
    seen: set[int] = set()
    for item in loop.items:
        if isinstance(item, Loop):
            assert item.spec is not None
            key = id(item.spec)
            uses[key] += 1
            seen.add(key)
            if item.spec.max is not None and uses[key] == item.spec.max + 1:
                trigger = item.trigger
                assert trigger is not None
                _add(out, tx, trigger, item.id, LOOP_OVER_MAX)
            _check_loop(tx, schema, item, item.spec.body, _end_of(tx, loop, item, end), out)
            continue
        _check_placed(tx, schema, loop.id, item, uses, out)
        if item.use is not None:
            seen.add(id(item.use))
    for entry in entries:
        if entry.req == "M" and id(entry) not in seen:
            tag = entry.seg if isinstance(entry, SegmentUse) else entry.trigger
            message = f"mandatory {'segment' if isinstance(entry, SegmentUse) else 'loop'} {tag}"
            out.append(
                SegmentProblem(tag, end, MISSING_SEGMENT, loop.id, (), message + " is missing")
            )


def _end_of(tx: Transaction, outer: Loop, inner: Loop, end: int) -> int:
    """The set position just after `inner`: where a segment it misses was expected."""
    last = None
    for placed in inner.segments():
        last = placed.segment
    return set_position(tx, last) + 1 if last is not None else end


def _check_placed(
    tx: Transaction,
    schema: Schema,
    loop_id: str,
    item: Placed,
    uses: Counter[int],
    out: list[SegmentProblem],
) -> None:
    seg = item.segment
    code = item.problem
    if item.use is not None:
        key = id(item.use)
        uses[key] += 1
        if not code and item.use.max is not None and uses[key] > item.use.max:
            code = SEGMENT_OVER_MAX
    spec = schema.segment(seg.tag) if item.use is not None else None
    elements = check_elements(seg, spec.elements) if spec is not None else ()
    if code or elements:
        _add(out, tx, seg, loop_id, code or ELEMENT_ERRORS, elements)


def check_elements(
    seg: Segment, specs: tuple[ElementSpec | None, ...]
) -> tuple[ElementProblem, ...]:
    """The element problems of one segment under its element definitions."""
    found: list[ElementProblem] = []
    for n, spec in enumerate(specs, 1):
        if spec is None:
            continue
        value = seg.element(n)
        problem = _check_value(value, spec)
        if problem is not None:
            code, why = problem
            ref = str(spec.ref) if spec.ref is not None else ""
            found.append(ElementProblem(n, code, ref, value, why))
    if len(seg.elements) > len(specs) and any(seg.elements[len(specs) :]):
        extra = len(specs) + 1
        found.append(
            ElementProblem(
                extra, TOO_MANY_ELEMENTS, "", seg.element(extra), f"{seg.tag} has too many elements"
            )
        )
    return tuple(found)


def _check_value(value: str, spec: ElementSpec) -> tuple[str, str] | None:
    if not value.strip():
        if spec.req == "M":
            return ELEMENT_MISSING, "mandatory element missing"
        return None
    if spec.type == "C":
        return None  # composites: their components are not described here
    size = _length(value, spec.type)
    if size > spec.max:
        return TOO_LONG, f"{value!r} is longer than {spec.max}"
    if size < spec.min:
        return TOO_SHORT, f"{value!r} is shorter than {spec.min}"
    if spec.type in ("N", "N0", "N1", "N2", "N3", "N4", "R") and not _numeric(value, spec.type):
        return INVALID_CHARACTER, f"{value!r} is not a number"
    if spec.type == "DT" and not _date(value):
        return INVALID_DATE, f"{value!r} is not a date (CCYYMMDD)"
    if spec.type == "TM" and not _time(value):
        return INVALID_TIME, f"{value!r} is not a time (HHMM[SS])"
    if spec.codes is not None and value not in spec.codes:
        return INVALID_CODE, f"{value!r} is not a valid code"
    return None


def _length(value: str, kind: str) -> int:
    """X12 lengths: a numeric's sign and decimal point do not count."""
    if kind in ("R", "N", "N0", "N1", "N2", "N3", "N4"):
        return len(value.lstrip("-+").replace(".", ""))
    return len(value)


def _numeric(value: str, kind: str) -> bool:
    body = value[1:] if value[:1] == "-" else value
    if kind == "R":
        whole, _, frac = body.partition(".")
        return bool(whole or frac) and (whole + frac).isdigit() and body.count(".") <= 1
    return body.isdigit()


def _date(value: str) -> bool:
    shape = {8: "%Y%m%d", 6: "%y%m%d"}.get(len(value))
    if shape is None or not value.isdigit():
        return False
    try:
        dt.datetime.strptime(value, shape)
    except ValueError:
        return False
    return True


def _time(value: str) -> bool:
    if not value.isdigit() or len(value) < 4:
        return False
    hh, mm, ss = int(value[:2]), int(value[2:4]), int(value[4:6] or 0)
    return hh < 24 and mm < 60 and ss < 60
