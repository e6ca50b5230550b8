"""A landed X12 batch through the common load path, in one transaction with its 997s.

`omshub.process` hands every batch of an `x12` stream here. The file's sets are judged
and routed by `omshub.edi.inbound`; the routed records of each group are mapped,
validated and loaded by the same functions as any other chunk (`omshub.process`), under
the batch's source lock; the batch then ends like any other (`finish_batch`). Outbound
acknowledgements queued in the transaction are sent after it committed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine

from connectors.base import RecordChunk
from connectors.x12 import read_events
from oms.load import LoadContext
from omshub.config import get_source, mapping_entities
from omshub.edi.inbound import Inbox
from omshub.edi.partners import PartnerConfig
from omshub.edi.sets import Routed, mapped_nothing
from omshub.edi.sources import inbox_partner
from omshub.landing import open_landed
from omshub.mappings import get_mapping
from omshub.quarantine import BadEntry
from omshub.runs import now
from omshub.unread import unread_records

log = logging.getLogger("omshub.edi")


class _Loader:
    """Maps and loads the routed sets of one group, a chunk per mapping."""

    def __init__(
        self, conn: Connection, ctx: LoadContext, name: str, progress: Any, mappings: list[str]
    ) -> None:
        self.conn, self.ctx, self.name, self.progress = conn, ctx, name, progress
        self.mappings, self.locked = mappings, False

    def _lock(self) -> None:
        """A file can hold several groups and sets: lock every entity the stream's
        mappings write once, before the first load, in the global order, as a batch of
        several chunks does (so no later chunk deadlocks with another batch)."""
        from oms.locks import lock_entities

        if not self.locked:  # read from the YAML: one broken mapping fails only its sets
            entities = {e for m in self.mappings for e in mapping_entities(m)}
            lock_entities(self.conn, sorted(entities))
            self.locked = True

    def __call__(
        self, partner: PartnerConfig, mapping_name: str, routed: list[Routed]
    ) -> list[Routed]:
        """Load `routed` with `mapping_name`; the sets its mapping or validation refused."""
        from omshub.process import map_and_load

        self._lock()
        mapping = get_mapping(mapping_name)
        chunk = RecordChunk(
            start=routed[0].position,
            positions=[r.position for r in routed],
            table=None,
            records=[r.record for r in routed],
            bad=[],
        )
        ctx = replace(self.ctx, mapping_name=mapping.name, mapping_version=mapping.version)
        before = len(self.progress.bad)
        ready = map_and_load(self.conn, mapping, chunk, ctx, self.name, self.progress)
        judged = (mapping.name, mapping.version)
        new = self.progress.bad[before:]
        empty = [routed[j] for j in unread_records(mapping, ready.mapped)]
        new += [mapped_nothing(r, self.name, mapping_name, mapping.root.path) for r in empty]
        self.progress.bad[before:] = [BadEntry(b.index, b.raw, b.reasons, judged) for b in new]
        refused = {b.index for b in new}
        self._record_origins(partner, mapping, ready, routed, refused)
        return [r for r in routed if r.position in refused]

    def _record_origins(
        self,
        partner: PartnerConfig,
        mapping: Any,
        ready: Any,
        routed: list[Routed],
        refused: set[int],
    ) -> None:
        """Each loaded row's file, ISA13/GS06/ST02 and segments (`oms.ediorigin`), in
        the load's transaction: refused sets left no rows, so they get no origin."""
        from oms.ediorigin import record
        from omshub.edi.origins import origins

        loaded = {j for j, r in enumerate(routed) if r.position not in refused}
        found = origins(
            mapping,
            [r.record for r in routed],
            ready.mapped.tables,
            loaded,
            partner.id,
            self.ctx.batch_id,
            self.ctx.system,
            self.ctx.now,
        )
        record(self.conn, found)


def process_x12(engine: Engine, row: dict[str, Any], run_id: str, progress: Any) -> str | None:
    """Judge, route, load and acknowledge one landed X12 file, all in one transaction;
    returns what an operator should know (skipped duplicates, acknowledgements received),
    also kept as the landed batch's message."""
    from oms.locks import source_xact_lock, write_transaction
    from omshub.process import finish_batch

    source = get_source(row["source"])
    stream = source.stream(row["stream"])
    name = row["original_name"] or row["batch_id"]
    ctx = LoadContext(source.system, source.kind, run_id, row["batch_id"], "x12", "-", now())
    expected = inbox_partner(source)
    with open_landed(row["uri"], row["checksum"]) as fh, write_transaction(engine) as conn:
        source_xact_lock(conn, source.name)
        load = _Loader(conn, ctx, name, progress, stream.mapping_files())
        inbox = Inbox(conn, name, row["batch_id"], expected, dict(stream.routes), ctx, load)
        inbox.run(read_events(fh, name=name))
        progress.records = inbox.position  # every set read, routed or refused
        progress.bad.extend(inbox.bad)
        message = "; ".join(inbox.notes) or None
        finish_batch(conn, source, stream.name, row, run_id, ctx, progress, None, message)
    if message:
        log.warning("%s/%s %s: %s", source.name, stream.name, name, message)
    for partner in inbox.partners.values():
        deliver_pending(engine, source, partner, run_id)
    return message


def deliver_pending(engine: Engine, source: Any, partner: PartnerConfig, run_id: str) -> None:
    """Send the partner's queued 997s/TA1s now that they are committed. A transport
    failure fails the run (never a silent success) but not the loaded batch: the files
    stay pending and the next run sends them."""
    from oms.errors import OmshubError
    from omshub.edi.outbox import send_pending
    from omshub.extract import open_transport
    from omshub.runs import add_run_error

    transport = None
    try:
        transport = open_transport(source)
        send_pending(engine, transport, partner)
    except (OmshubError, OSError) as e:
        message = f"{partner.id}: outbound files not delivered ({e}); they stay pending"
        log.error("%s/%s: %s", source.name, run_id, message)
        add_run_error(engine, run_id, message)
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()


def after_run(engine: Engine, source: Any, run_id: str) -> None:
    """The after-run hook of `edi` sources (`omshub.runhooks`): what every run of a
    partner's inbox does last, files or not: send what is still pending (an earlier
    delivery failed), and mark what we sent that is past its 997 deadline as overdue
    (logged; `omshub edi overdue` lists them). Other edi sources: nothing."""
    import datetime as dt

    from oms.edi import overdue
    from omshub.edi.outbox import pending
    from omshub.edi.partners import get_partner

    partner_id = inbox_partner(source)
    if partner_id is None:
        return
    partner = get_partner(partner_id)
    with engine.connect() as conn:
        waiting = pending(conn, partner.id)
    if waiting:
        deliver_pending(engine, source, partner, run_id)
    with engine.begin() as conn:
        late = [o for o in overdue(conn, dt.datetime.now(dt.UTC)) if o.partner == partner.id]
    for o in late:
        log.warning(
            "%s: no 997 for %s (ISA13 %s), due %s",
            partner.id,
            o.file_name,
            o.isa_control,
            o.ack_due_at,
        )
