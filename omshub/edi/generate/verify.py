"""Check a generated document the way the partner's translator will, before it is queued.

The document is written in the partner's envelope (its delimiters, ISA/GS versions and
ids, with placeholder control numbers), read back with the X12 reader, and validated
against the set's schema with the partner's `required:` list as an overlay
(`connectors.x12.schema.overlay_from_required`): exactly what a 997 from the partner
would report. Any problem refuses the document, naming the set, its key and each
problem with its segment position, and the partner file when a requirement is missing.
"""

from __future__ import annotations

from connectors.x12 import Delimiters, read_document
from connectors.x12.schema import apply_overlay, find_schema, overlay_from_required
from connectors.x12.validate import validate
from connectors.x12.writer import GroupSpec, TransactionSpec, build_interchange
from omshub.edi.generate.base import Context, GenerateError, implementation_of
from omshub.edi.outbox import Document


def written(ctx: Context, doc: Document) -> bytes:
    """The document as the partner would receive it (control numbers 1)."""
    p, out = ctx.partner, ctx.partner.outbound
    d = out.delimiters
    spec = TransactionSpec(doc.set_id, 1, doc.body, implementation_of(doc))
    group = GroupSpec(
        p.functional_id(doc.set_id), p.us.application_code, p.them.application_code, 1,
        out.gs_version, [spec],
    )  # fmt: skip
    return build_interchange(
        sender=(p.us.qualifier, p.us.id),
        receiver=(p.them.qualifier, p.them.id),
        control=1,
        usage=p.usage,
        version=out.isa_version,
        delimiters=Delimiters(d.element, d.sub_element, d.segment, d.repetition),
        groups=[group],
        when=ctx.now,
    )


def verify(ctx: Context, doc: Document, key: str) -> None:
    """Refuse `doc` (a `GenerateError`) when the partner would find a problem in it (a
    set without a schema is checked for its envelope only)."""
    partner = ctx.partner
    read = read_document(written(ctx, doc))
    [tx] = read.interchanges[0].groups[0].transactions
    schema = find_schema(doc.set_id, partner.outbound.gs_version)
    if tx.issues or read.error is not None:
        raise GenerateError(f"{doc.set_id} for {key}: written wrong: {tx.issues or read.error}")
    if schema is None:
        return
    required = partner.required.get(doc.set_id, [])
    if required:
        schema = apply_overlay(schema, overlay_from_required(doc.set_id, required, partner.id))
    problems = [p.describe() for p in validate(tx, schema).problems]
    if problems:
        where = f" ({partner.file} required.{doc.set_id})" if required else ""
        raise GenerateError(f"{doc.set_id} for {key} to {partner.id}{where}: {'; '.join(problems)}")
