"""One inbound transaction set's verdict: refused here (and why), or routed to a mapping.

The same judgement feeds the 997 (AK5 status and codes, AK3/AK4 from the schema check)
and the quarantine (a refused set keeps its segments and the reason naming the segment),
so what the partner is told and what the store kept never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.formats.x12sets import raw_set, record_of
from connectors.x12 import Transaction
from connectors.x12.loops import group
from connectors.x12.schema import apply_overlay, find_schema, overlay_from_required
from connectors.x12.validate import SegmentProblem, validate
from omshub.edi.acks import ElementError, SegmentError, TransactionResult
from omshub.edi.partners import PartnerConfig
from omshub.quarantine import BadEntry
from omshub.unread import read_nothing
from transforms.batch import Reason

#: AK304 codes that make a set unusable (mandatory segment missing, loop or use exceeded)
FATAL_SEGMENT_CODES = frozenset({"3", "4", "5"})
#: AK403 codes that make a set unusable (mandatory element missing)
FATAL_ELEMENT_CODES = frozenset({"1"})
NOT_SUPPORTED = "1"  # AK502: transaction set not supported


@dataclass
class Routed:
    """A set that passed the envelope and schema checks, on its way to `mapping`."""

    mapping: str
    position: int  # its position in the batch (the quarantine's record index)
    record: dict[str, Any]
    result: TransactionResult


@dataclass
class Verdict:
    result: TransactionResult
    routed: Routed | None = None
    bad: BadEntry | None = None


def _errors(problems: list[SegmentProblem]) -> tuple[list[SegmentError], bool]:
    out, fatal = [], False
    for p in problems:
        elements = tuple(
            ElementError(e.position, e.code, e.reference, e.bad_value) for e in p.elements
        )
        out.append(SegmentError(p.tag, p.position, p.code, p.loop_id[:4], elements))
        fatal |= p.code in FATAL_SEGMENT_CODES
        fatal |= any(e.code in FATAL_ELEMENT_CODES for e in p.elements)
    return out, fatal


def _refused(tx: Transaction, position: int, result: TransactionResult, why: str) -> Verdict:
    reason = Reason(entity=f"x12_{tx.set_id}", field=f"ST02 {tx.control}", rule="x12", message=why)
    judged_by = (f"x12:{tx.set_id}", tx.group.version or "-")  # no mapping saw it
    return Verdict(result, bad=BadEntry(position, raw_set(tx), [reason], judged_by))


def judge(
    tx: Transaction,
    partner: PartnerConfig,
    routes: dict[str, str | None],
    name: str,
    position: int,
) -> Verdict:
    """Refuse the set (envelope error, set not agreed with the partner, schema error that
    makes it unusable) or route it to its mapping (`routes`: set id -> mapping, the
    partner's inbound sets for its inbox source)."""
    where = f"{name}: segment {tx.header.position}: {tx.set_id} {tx.control}"
    fatal_issues = [i for i in tx.issues if i.fatal]
    if fatal_issues:
        result = TransactionResult.of(tx, rejected=True)
        return _refused(tx, position, result, f"{where}: {fatal_issues[0].message}")
    if tx.set_id not in routes:
        result = TransactionResult.of(tx, rejected=True)
        agreed = ", ".join(sorted(routes)) or "none"
        why = f"{where}: partner {partner.id} does not send {tx.set_id} (agreed: {agreed})"
        return _refused(tx, position, _unsupported(result), why)
    schema = find_schema(tx.set_id, tx.group.version)
    required = partner.required.get(tx.set_id)
    if schema is not None and required:  # the partner's guide, beyond the standard
        schema = apply_overlay(schema, overlay_from_required(tx.set_id, required, partner.id))
    errors: list[SegmentError] = []
    record: dict[str, Any] | None = None
    if schema is not None:
        tree = group(tx.segments, schema)
        problems = validate(tx, schema, tree).problems
        errors, fatal = _errors(problems)
        if fatal:
            result = TransactionResult.of(tx, errors, rejected=True)
            first = next((p for p in problems if p.code in FATAL_SEGMENT_CODES), problems[0])
            detail = first.message or f"AK304 code {first.code}"
            why = f"{where}: {first.tag} at position {first.position} in the set: {detail}"
            return _refused(tx, position, result, why)
        record = record_of(tx, name, schema, tree, [p.describe() for p in problems])
    result = TransactionResult.of(tx, errors)
    mapping = routes[tx.set_id]
    if mapping is None or record is None:
        return Verdict(result)  # agreed, acknowledged, kept in the landed file: not mapped
    return Verdict(result, routed=Routed(mapping, position, record, result))


def _unsupported(result: TransactionResult) -> TransactionResult:
    from connectors.x12 import Issue

    issue = Issue("transaction", NOT_SUPPORTED, "transaction set not supported")
    result.issues = [*result.issues, issue]
    return result


def _kept(routed: Routed, where: str, why: str) -> BadEntry:
    """The quarantine entry of a routed set (its record as mapped), with why."""
    set_id, control = routed.result.set_id, routed.result.control
    message = f"{where}: {why}"
    reason = Reason(entity=f"x12_{set_id}", field=f"ST02 {control}", rule="x12", message=message)
    return BadEntry(routed.position, routed.record, [reason], (f"x12:{set_id}", "-"))


def refused_with(routed: Routed, name: str, why: str) -> BadEntry:
    """A set that passed its own checks but whose group or interchange was refused."""
    x12 = routed.record.get("_x12", {})
    return _kept(routed, f"{name}: {x12.get('set', '')} {routed.result.control}", why)


def mapped_nothing(routed: Routed, name: str, mapping: str, path: str | None) -> BadEntry:
    """A set its mapping neither loaded a row from nor refused: quarantined, never dropped.

    A mapping reads the items under its root `path:` (the 944's LX loops); a set whose
    detail sits elsewhere (a 944's W07s outside any LX) yields no row and no error, and
    would otherwise be acknowledged as accepted with nothing of it in the store. The
    caller marks the set rejected, so the 997 says R for the very set quarantine keeps.
    """
    x12 = routed.record.get("_x12", {})
    where = f"{name}: segment {x12.get('position', '?')}: {x12.get('set', '')} "
    return _kept(routed, where + routed.result.control, read_nothing(path, mapping))
