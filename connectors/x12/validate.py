"""Check one transaction set against its schema (and a partner overlay): what a 997 reports.

Each problem is a `SegmentProblem` (an AK3: segment tag, position in the set with ST = 1,
loop id, AK304 code) with its `ElementProblem`s (AK4: element position, AK403 code, data
element reference, bad value). The result is plain data: the acknowledgement side adapts
it to its own types, and a mapping run can quarantine with the same words.
"""

from __future__ import annotations

import calendar
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
    message: str = ""  # the segment's problem in words ('mandatory segment BEG is missing')

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
    if schema.required:
        _check_required(tx, root, schema.required, end, result.problems)
    hl_loops = [i for i in root.items if isinstance(i, Loop) and i.id == "HL"]
    for seg, element, why in hl_tree(hl_loops).problems:
        problem = ElementProblem(element, INVALID_CODE, "", seg.element(element), why)
        _add(result.problems, tx, seg, "HL", ELEMENT_ERRORS, (problem,))
    result.problems = _merged(result.problems)
    return result


def _merged(problems: list[SegmentProblem]) -> list[SegmentProblem]:
    """One problem per segment (one AK3), in set order: a segment found twice (its elements
    by the schema, a partner's required element, a broken HL pointer) keeps every element
    problem, and its structural code (not 8) when it has one."""
    by_place: dict[tuple[int, str], SegmentProblem] = {}
    for p in sorted(problems, key=lambda p: p.position):
        key = (p.position, p.tag)
        first = by_place.get(key)
        if first is None or p.code == MISSING_SEGMENT:  # each missing segment stands alone
            by_place[key if first is None else (p.position, f"{p.tag}#{len(by_place)}")] = p
            continue
        code = first.code if first.code != ELEMENT_ERRORS else p.code
        message = first.message if first.message == p.message else f"{first.message}; {p.message}"
        by_place[key] = SegmentProblem(
            first.tag, first.position, code, first.loop_id, first.elements + p.elements, message
        )
    return list(by_place.values())


def _check_required(
    tx: Transaction, root: Loop, required: tuple[str, ...], end: int, out: list[SegmentProblem]
) -> None:
    """A partner's presence requirements (`Overlay.required`): `TAG`, `TAG*QUALIFIER` (in
    the segment's first element) and `TAGnn` (the element, whenever its segment is)."""
    placed = [p.segment for p in root.segments()]
    for item in required:
        tag, _, qualifier = item.partition("*")
        if not qualifier and len(tag) >= 4 and tag[-2:].isdigit():  # tags are 2-3 characters
            _check_required_element(tx, placed, tag[:-2], int(tag[-2:]), item, out)
        elif not any(s.tag == tag and (not qualifier or s.element(1) == qualifier) for s in placed):
            message = f"{item} is missing (required by the partner)"
            out.append(SegmentProblem(tag, end, MISSING_SEGMENT, "", (), message))


def _check_required_element(
    tx: Transaction, placed: list[Segment], tag: str, n: int, item: str, out: list[SegmentProblem]
) -> None:
    candidates = [tx.header] if tag == "ST" else [s for s in placed if s.tag == tag]
    for seg in candidates:
        if not seg.element(n).strip():
            why = f"{item} is missing (required by the partner)"
            problem = ElementProblem(n, ELEMENT_MISSING, "", "", why)
            out.append(
                SegmentProblem(tag, set_position(tx, seg), ELEMENT_ERRORS, "", (problem,), why)
            )


def _add(
    out: list[SegmentProblem],
    tx: Transaction,
    seg: Segment,
    loop_id: str,
    code: str,
    elements: tuple[ElementProblem, ...] = (),
    message: str = "",
) -> None:
    words = message or _SEGMENT_WORDS.get(code, f"AK304 code {code}")
    out.append(SegmentProblem(seg.tag, set_position(tx, seg), code, loop_id, elements, words))


def _check_loop(
    tx: Transaction,
    schema: Schema,
    loop: Loop,
    entries: tuple[SegmentUse | LoopSpec, ...],
    end: int,
    out: list[SegmentProblem],
) -> None:
    """Use counts, mandatory entries, element rules of one loop instance, then its loops."""
    uses: dict[int, int] = {}
    seen: set[int] = set()
    for item in loop.items:
        if isinstance(item, Loop):
            assert item.spec is not None
            key = id(item.spec)
            uses[key] = uses.get(key, 0) + 1
            seen.add(key)
            if item.spec.max is not None and uses[key] == item.spec.max + 1:
                trigger = item.trigger
                assert trigger is not None
                _add(out, tx, trigger, item.id, LOOP_OVER_MAX)
            _check_loop(tx, schema, item, item.spec.body, end, out)
            continue
        _check_placed(tx, schema, loop.id, item, uses, out)
        if item.use is not None:
            seen.add(id(item.use))
    for entry in entries:
        if entry.req == "M" and id(entry) not in seen:
            tag = entry.seg if isinstance(entry, SegmentUse) else entry.trigger
            message = f"mandatory {'segment' if isinstance(entry, SegmentUse) else 'loop'} {tag}"
            where = _end_of(tx, loop, end)
            out.append(
                SegmentProblem(tag, where, MISSING_SEGMENT, loop.id, (), message + " is missing")
            )


def _end_of(tx: Transaction, loop: Loop, end: int) -> int:
    """Where a segment `loop` misses was expected at the latest: just after its last
    segment (the SE's position, `end`, for the set body)."""
    if loop.spec is None:
        return end
    last = None
    for placed in loop.segments():
        last = placed.segment
    return set_position(tx, last) + 1 if last is not None else end


def _check_placed(
    tx: Transaction,
    schema: Schema,
    loop_id: str,
    item: Placed,
    uses: dict[int, int],
    out: list[SegmentProblem],
) -> None:
    seg = item.segment
    code = item.problem
    if item.use is not None:
        key = id(item.use)
        uses[key] = uses.get(key, 0) + 1
        if not code and item.use.max is not None and uses[key] > item.use.max:
            code = SEGMENT_OVER_MAX
    spec = schema.segment(seg.tag) if item.use is not None else None
    short = tx.group.version[:6] < "004010"  # dates were YYMMDD before 004010
    elements = check_elements(seg, spec.elements, short) if spec is not None else ()
    if code or elements:
        _add(out, tx, seg, loop_id, code or ELEMENT_ERRORS, elements)


def check_elements(
    seg: Segment, specs: tuple[ElementSpec | None, ...], short_dates: bool = False
) -> tuple[ElementProblem, ...]:
    """The element problems of one segment under its element definitions.

    Only the elements present are checked one by one; the absent tail is checked for
    mandatory elements only (a PO1 has 25 definitions and usually 9 values).
    `short_dates`: a 6-digit YYMMDD date is valid (sets older than 004010)."""
    found: list[ElementProblem] = []
    values = seg.elements
    for n, value in enumerate(values[: len(specs)], 1):
        spec = specs[n - 1]
        if spec is not None:
            problem = _check_value(value, spec, short_dates)
            if problem is not None:
                found.append(_element_problem(n, spec, value, problem))
    for n in _mandatory(specs):
        if n > len(values):
            spec = specs[n - 1]
            assert spec is not None
            found.append(
                _element_problem(n, spec, "", (ELEMENT_MISSING, "mandatory element missing"))
            )
    if len(values) > len(specs) and any(values[len(specs) :]):
        extra = len(specs) + 1
        found.append(
            ElementProblem(
                extra, TOO_MANY_ELEMENTS, "", seg.element(extra), f"{seg.tag} has too many elements"
            )
        )
    return tuple(found)


def _element_problem(
    n: int, spec: ElementSpec, value: str, problem: tuple[str, str]
) -> ElementProblem:
    ref = str(spec.ref) if spec.ref is not None else ""
    return ElementProblem(n, problem[0], ref, value, problem[1])


_MANDATORY: dict[int, tuple[tuple[ElementSpec | None, ...], tuple[int, ...]]] = {}


def _mandatory(specs: tuple[ElementSpec | None, ...]) -> tuple[int, ...]:
    """Positions of the mandatory elements (cached per definition)."""
    found = _MANDATORY.get(id(specs))
    if found is None or found[0] is not specs:
        positions = tuple(n for n, e in enumerate(specs, 1) if e is not None and e.req == "M")
        found = _MANDATORY[id(specs)] = (specs, positions)
    return found[1]


_NUMERIC = frozenset(("N", "N0", "N1", "N2", "N3", "N4", "R"))


def _check_value(value: str, spec: ElementSpec, short_dates: bool) -> tuple[str, str] | None:
    if not value or value.isspace():
        if spec.req == "M":
            return ELEMENT_MISSING, "mandatory element missing"
        return None
    kind = spec.type
    if kind == "C":
        return None  # composites: their components are not described here
    numeric = kind in _NUMERIC
    if kind == "DT" and short_dates and len(value) == 6:
        return None if _date(value) else (INVALID_DATE, f"{value!r} is not a date (YYMMDD)")
    size = len(value.lstrip("-+").replace(".", "")) if numeric else len(value)
    if size > spec.max:
        return TOO_LONG, f"{value!r} is longer than {spec.max}"
    if size < spec.min:
        return TOO_SHORT, f"{value!r} is shorter than {spec.min}"
    if numeric and not _numeric(value, kind):
        return INVALID_CHARACTER, f"{value!r} is not a number"
    if kind == "DT" and not _date(value):
        return INVALID_DATE, f"{value!r} is not a date (CCYYMMDD)"
    if kind == "TM" and not _time(value):
        return INVALID_TIME, f"{value!r} is not a time (HHMM[SS])"
    if spec.codes is not None and value not in spec.codes:
        return INVALID_CODE, f"{value!r} is not a valid code"
    return None


def _numeric(value: str, kind: str) -> bool:
    body = value[1:] if value[:1] == "-" else value
    if kind == "R":
        whole, _, frac = body.partition(".")
        return bool(whole or frac) and (whole + frac).isdigit() and body.count(".") <= 1
    return body.isdigit()


def _date(value: str) -> bool:
    """CCYYMMDD, or YYMMDD (6-digit dates of older versions), a real calendar day."""
    if len(value) not in (6, 8) or not value.isdigit():
        return False
    year = int(value[:-4]) if len(value) == 8 else 2000 + int(value[:2])
    month, day = int(value[-4:-2]), int(value[-2:])
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _time(value: str) -> bool:
    if not value.isdigit() or len(value) < 4:
        return False
    hh, mm, ss = int(value[:2]), int(value[2:4]), int(value[4:6] or 0)
    return hh < 24 and mm < 60 and ss < 60
