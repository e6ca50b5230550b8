"""Source records a mapping's root `path:` read nothing from: quarantined, never dropped.

A mapping with a root `path:` (`path: variants`) maps the items under that path of each
record; a record where the path is absent, null or an empty list yields no row and no
error, so without this guard it vanished: not in the store, not in the quarantine, the
batch reported loaded. The mapper lists such records (`MappedBatch.unread`, both engines);
here the mapping's own choice decides whether that is loss or intent:

- a root `filter:` skips records on purpose (counted as filtered): nothing is flagged;
- `on_empty: skip` says an empty record is fine (a product without variants);
- otherwise (`on_empty: quarantine`, the default) each is a quarantine entry.

The EDI inbox (`omshub.edi.batch`) asks the same question and words its own reason
(segment, set, control number) for its 997.
"""

from __future__ import annotations

from connectors.base import RecordChunk
from omshub.quarantine import BadEntry
from transforms.batch import MappedBatch, Reason
from transforms.compiler import CompiledMapping


def unread_records(mapping: CompiledMapping, mapped: MappedBatch) -> list[int]:
    """The chunk indices of records the mapping read nothing from and did not refuse
    either, when the mapping says that is a loss (see module); [] for a mapping without
    a root `path:` (nothing is computed for it: the mapper leaves `unread` empty)."""
    if not mapped.unread or mapping.root.filter is not None:
        return []
    if mapping.spec.on_empty == "skip":
        return []
    bad = mapped.bad_records()
    return [j for j in mapped.unread if j not in bad]


def read_nothing(path: str | None, mapping: str) -> str:
    """Why a record is kept: which mapping read nothing from it, and through which path
    (also the EDI inbox's reason for such a set, `omshub.edi.sets.mapped_nothing`)."""
    read = f"path {path}" if path else "the record"
    return f"the mapping {mapping} read no record ({read}): nothing loaded"


def unread_entries(
    mapping: CompiledMapping, mapped: MappedBatch, chunk: RecordChunk, name: str
) -> list[BadEntry]:
    """A quarantine entry per unread record of `chunk`, its reason naming the file,
    the record (1-based, as a format error names it), the mapping file and its path."""
    out = []
    for j in unread_records(mapping, mapped):
        position = chunk.positions[j]
        why = read_nothing(mapping.root.path, mapping.file)
        reason = Reason(mapping.root.entity, "", "path", f"{name}: record {position + 1}: {why}")
        out.append(BadEntry(position, chunk.raw(j), [reason]))
    return out
