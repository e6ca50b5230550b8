"""Transaction sets to records under one stream's options: the work of the `x12` format.

Kept apart from `connectors.formats.x12` so that registering the format (every process
that lists formats, every DAG parse) does not import the X12 reader, the schemas and the
validation: they load when a file is first read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.base import BadRecord
from connectors.formats.common import checked
from connectors.formats.x12record import add_hl_levels, loop_dict
from connectors.x12.loops import Loop, group
from connectors.x12.model import Issue, Transaction
from connectors.x12.schema import (
    Schema,
    apply_overlay,
    find_schema,
    load_overlay,
    overlay_from_required,
)
from connectors.x12.validate import validate


class SetReader:
    """Turns transactions into records under one stream's options (schemas cached)."""

    def __init__(self, options: dict[str, Any], name: str) -> None:
        self.name = name
        self.sets = {str(s) for s in options.get("sets") or ()}
        self.version = str(options.get("version") or "")
        self.strict = bool(options.get("strict", False))
        overlay = options.get("overlay")
        self.overlay = load_overlay(Path(overlay)) if overlay else None
        self.required = [str(r) for r in options.get("required") or ()]
        #: whose orders the sets' order numbers are, for a stream read without the EDI
        #: registry (the inbox resolves a 945's from the 940 we sent): `_x12.order_origin`
        self.order_origin = str(options.get("order_origin") or "") or None
        #: the location of sets that name none (a partner's `default_location`)
        self.default_location = str(options.get("default_location") or "") or None
        self._schemas: dict[tuple[str, str], Schema | None] = {}

    def schema(self, tx: Transaction) -> Schema | None:
        key = (tx.set_id, self.version or tx.group.version)
        if key not in self._schemas:
            schema = find_schema(*key)
            if schema is not None and self.overlay and self.overlay.set_id == tx.set_id:
                schema = apply_overlay(schema, self.overlay)
            if schema is not None and self.required:
                schema = apply_overlay(schema, overlay_from_required(tx.set_id, self.required))
            self._schemas[key] = schema
        return self._schemas[key]

    def record(self, tx: Transaction, index: int) -> Any:
        where = f"ST {tx.control or '?'} (segment {tx.header.position})"
        if self.sets and tx.set_id not in self.sets:
            reason = f"{where}: set {tx.set_id} is not read by this stream ({sorted(self.sets)})"
            return BadRecord(raw=raw_set(tx), line=None, reason=reason, index=index)
        fatal = _fatal(tx)
        if fatal is not None:
            at = f" at segment {fatal.position}" if fatal.position else ""
            reason = f"{where}: {fatal.message}{at}"
            return BadRecord(raw=raw_set(tx), line=None, reason=reason, index=index)
        schema = self.schema(tx)
        if schema is None:
            reason = f"{where}: no X12 schema for set {tx.set_id} ({tx.group.version})"
            return BadRecord(raw=raw_set(tx), line=None, reason=reason, index=index)
        tree = group(tx.segments, schema)
        problems = [p.describe() for p in validate(tx, schema, tree).problems]
        if problems and self.strict:
            reason = f"{where}: " + "; ".join(problems[:5])
            return BadRecord(raw=raw_set(tx), line=None, reason=reason, index=index)
        record = record_of(tx, self.name, schema, tree, problems)
        if self.order_origin:
            record["_x12"]["order_origin"] = self.order_origin
        if self.default_location:
            record["_x12"]["default_location"] = self.default_location
        return checked(record, None, index)


def record_of(
    tx: Transaction, name: str, schema: Schema, tree: Loop, problems: list[str]
) -> dict[str, Any]:
    """The record of one set: its loop tree as a dict, HL levels, and `_x12` provenance
    (`problems`: the validation's findings in words). For callers that group and validate
    a set themselves (the EDI inbox) and must hand mappings the same record."""
    record = loop_dict(tree, schema)
    add_hl_levels(record, tree)
    record["_x12"] = provenance(tx, name, schema, problems)
    return record


def _fatal(tx: Transaction) -> Issue | None:
    """The first fatal issue of the set, its group or interchange (known so far)."""
    for issue in (*tx.issues, *tx.group.issues, *tx.group.interchange.issues):
        if issue.fatal:
            return issue
    return None


def provenance(tx: Transaction, name: str, schema: Schema, problems: list[str]) -> dict[str, Any]:
    """`_x12`: where a set came from (see the module docstring)."""
    group_, interchange = tx.group, tx.group.interchange
    return {
        "file": name,
        "isa13": interchange.control,
        "gs06": group_.control,
        "st02": tx.control,
        "set": tx.set_id,
        "sender": interchange.sender_id,
        "sender_qualifier": interchange.sender_qualifier,
        "receiver": interchange.receiver_id,
        "receiver_qualifier": interchange.receiver_qualifier,
        "gs_sender": group_.sender,
        "gs_receiver": group_.receiver,
        "version": group_.version,
        "sent": _sent(group_.header.element(4), group_.header.element(5)),
        "schema": f"{schema.set_id}.{schema.version}",
        "position": tx.header.position,
        "segments": [f"{s.tag}@{s.position}" for s in tx.segments],  # tag@segment number
        "problems": problems,
    }


def _sent(date: str, time: str) -> str:
    """The group's creation time (GS04, GS05) as CCYYMMDDHHMM: when the partner sent it.
    A 6-digit GS04 (YYMMDD, before 004010) gets its century as every X12 date does
    (`transforms.functions.x12_date`: a sliding window)."""
    from transforms.functions import x12_date

    return f"{x12_date(date)}{time[:4]}"


def raw_set(tx: Transaction) -> dict[str, Any]:
    """What quarantine keeps of a refused set: its envelope numbers and its segments as
    text lists (the format's bad records and the EDI inbox's refusals alike)."""
    return {
        "isa13": tx.group.interchange.control,
        "gs06": tx.group.control,
        "st02": tx.control,
        "set": tx.set_id,
        "segments": [[s.tag, *s.elements] for s in (tx.header, *tx.segments)],
    }
