"""The store's bookkeeping tables: bindings, runs, batches, counts, watermarks, quarantine,
change log and EDI control numbers (the business tables are in `oms.models`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.base import Base, Id
from oms.types import UTCDateTime


class Binding(Base):
    """(system, entity, external id) -> canonical id, with what that system last sent."""

    __tablename__ = "binding"
    # The natural key is the primary key (no surrogate id: one index and one sequence call
    # less per binding written; migration 0008). external_id first: lookups are
    # `external_id IN (...)` within one system and entity, and PostgreSQL only turns that
    # into an index search when it is the leading column.
    __table_args__ = (PrimaryKeyConstraint("external_id", "entity", "system"),)
    system: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(256))
    canonical_id: Mapped[str] = mapped_column(Id, index=True)
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    bound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SyncRun(Base):
    """One run of one source (from Airflow or the CLI): a state machine (docs/operations.md).

    `running` -> `extracted` -> `success` | `partial` | `failed`, or `abandoned` when its
    process died; `heartbeat_at`, `host` and `pid` are how the next run tells.
    """

    __tablename__ = "sync_run"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(Text)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    #: why extraction stopped early, when it landed some batches first (they still load;
    #: the run then ends `failed` with this reason)
    extract_error: Mapped[str | None] = mapped_column(Text)


class RunStat(Base):
    """Counts of one landed batch's processing, per canonical entity."""

    __tablename__ = "run_stat"
    __table_args__ = (UniqueConstraint("run_id", "batch_id", "entity"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    extracted: Mapped[int] = mapped_column(Integer, default=0)
    loaded: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    #: rows (or, where parsing failed, 0 rows of entity "*") of a batch that failed
    failed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LandedBatch(Base):
    """A raw batch written once, unchanged; the manifest of what a system sent."""

    __tablename__ = "landed_batch"
    __table_args__ = (UniqueConstraint("source", "stream", "checksum"),)
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    stream: Mapped[str] = mapped_column(String(64))
    uri: Mapped[str] = mapped_column(Text)
    original_name: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int | None] = mapped_column(Integer)
    cursor_from: Mapped[str | None] = mapped_column(Text)
    cursor_to: Mapped[str | None] = mapped_column(Text)
    #: the transport's RawBatch.metadata (JSON), handed to its `finish` hook
    origin: Mapped[str | None] = mapped_column(Text)
    #: set once the transport's `finish` hook ran: archived | error
    origin_done: Mapped[str | None] = mapped_column(String(16))
    run_id: Mapped[str | None] = mapped_column(String(64))
    landed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: landed | loaded | failed | dead | discarded (docs/operations.md, batch states)
    status: Mapped[str] = mapped_column(String(16), index=True)
    loaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(Text)
    #: how often processing failed; at the source's `max_batch_attempts` it is `dead`
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: config | data | transport | internal: what kind of error failed it last
    error_kind: Mapped[str | None] = mapped_column(String(16))
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_run_id: Mapped[str | None] = mapped_column(String(64))
    discarded_by: Mapped[str | None] = mapped_column(String(128))
    discarded_reason: Mapped[str | None] = mapped_column(Text)
    discarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Watermark(Base):
    __tablename__ = "watermark"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor_value: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Quarantine(Base):
    """A source record kept out of the store, with its raw content and every reason."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    batch_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(64))
    record_index: Mapped[int] = mapped_column(Integer)
    record_key: Mapped[str | None] = mapped_column(String(256))
    mapping_name: Mapped[str] = mapped_column(String(128))
    mapping_version: Mapped[str] = mapped_column(String(32))
    raw_record: Mapped[str] = mapped_column(Text)  # JSON
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of {entity, field, rule, message}
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | replayed | dismissed
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_by_run: Mapped[str | None] = mapped_column(String(64))


class ChangeLog(Base):
    __tablename__ = "change_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    canonical_id: Mapped[str] = mapped_column(Id, index=True)
    system: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(8))  # insert | update
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EdiInterchange(Base):
    """X12 interchanges in and out per partner (`oms.edi`): envelope, file, status and
    acknowledgement state. ISA13 is unique per sender, and a partner may send from more
    than one id, so the sender id is part of the key."""

    __tablename__ = "edi_interchange"
    __table_args__ = (UniqueConstraint("partner", "direction", "sender_id", "isa_control"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    isa_control: Mapped[str] = mapped_column(String(9))
    sender_qualifier: Mapped[str | None] = mapped_column(String(2))  # ISA05
    sender_id: Mapped[str | None] = mapped_column(String(15))
    receiver_qualifier: Mapped[str | None] = mapped_column(String(2))  # ISA07
    receiver_id: Mapped[str | None] = mapped_column(String(15))
    version: Mapped[str | None] = mapped_column(String(12))
    usage: Mapped[str | None] = mapped_column(String(1))  # ISA15: T | P | I
    file_name: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    group_count: Mapped[int | None] = mapped_column(Integer)
    #: in: received | loaded | partial | failed | rejected; out: sent (or the writer's)
    status: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: none | accepted | accepted_with_errors | rejected | overdue
    ack_status: Mapped[str | None] = mapped_column(String(24))
    #: out: when the partner's 997 is due (none: no 997 expected)
    ack_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    ack_code: Mapped[str | None] = mapped_column(String(3))  # TA1 I18 / AK9 code when given
    acked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: the interchange (a row of this table) whose 997/TA1 acknowledged this one
    ack_interchange_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite")
    )


# --- EDI registry (migration 0006, `oms.edi`) -------------------------------------------

_EdiId = BigInteger().with_variant(Integer, "sqlite")


class EdiGroup(Base):
    """One functional group (GS..GE) of an interchange, and its 997 (AK9) state."""

    __tablename__ = "edi_group"
    id: Mapped[int] = mapped_column(_EdiId, primary_key=True)
    #: no unique GS06 per interchange: a partner's file may repeat one (the reader reports
    #: it, the 997 answers it), and the registry records what came
    interchange_id: Mapped[int] = mapped_column(
        _EdiId, ForeignKey("edi_interchange.id"), index=True
    )
    gs01: Mapped[str] = mapped_column(String(2))  # functional identifier, e.g. PO
    gs02: Mapped[str | None] = mapped_column(String(15))  # application sender
    gs03: Mapped[str | None] = mapped_column(String(15))  # application receiver
    gs06: Mapped[str] = mapped_column(String(9), index=True)  # group control number
    gs08: Mapped[str | None] = mapped_column(String(12))  # version, e.g. 004010VICS
    set_count: Mapped[int] = mapped_column(Integer, default=0)
    #: none | accepted | accepted_with_errors | partially_accepted | rejected | overdue
    ack_state: Mapped[str] = mapped_column(String(24), default="none")
    ack_code: Mapped[str | None] = mapped_column(String(3))  # AK9-01 (A, E, P, R...)


class EdiTransaction(Base):
    """One transaction set (ST..SE) of a group, its 997 (AK5) state and business reference."""

    __tablename__ = "edi_transaction"
    id: Mapped[int] = mapped_column(_EdiId, primary_key=True)
    #: no unique ST02 per group either: a repeated one is the partner's error, answered
    group_id: Mapped[int] = mapped_column(_EdiId, ForeignKey("edi_group.id"), index=True)
    st01: Mapped[str] = mapped_column(String(3))  # set id, e.g. 850
    st02: Mapped[str] = mapped_column(String(9))  # set control number
    #: what the document is about (a PO number), to link an order's documents later
    reference: Mapped[str | None] = mapped_column(String(80), index=True)
    #: the origin (`order_origin`) of the order an outbound set is about: a 945 answering
    #: our 940 names only the order number, this says whose order it is (migration 0007)
    order_origin: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))
    ack_state: Mapped[str] = mapped_column(String(24), default="none")
    ack_code: Mapped[str | None] = mapped_column(String(3))  # AK5-01 (A, E, R...)


class EdiControlNumber(Base):
    """The last control number allocated per partner and kind (isa | gs | st)."""

    __tablename__ = "edi_control_number"
    partner: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(3), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EdiRowOrigin(Base):
    """Which X12 set (file, ISA13/GS06/ST02) and segment a loaded store row came from,
    and each field's element and segment number (`oms.ediorigin`, migration 0007). One row
    per (store row, interchange, group, set): a re-delivery or reload updates it."""

    __tablename__ = "edi_row_origin"
    __table_args__ = (
        UniqueConstraint("entity", "row_id", "partner", "isa_control", "gs06", "st02"),
    )
    id: Mapped[int] = mapped_column(_EdiId, primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(Id, index=True)  # the store row's canonical id
    row_key: Mapped[str | None] = mapped_column(Text)  # its natural key, `a/b`, for people
    partner: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(Text)
    isa_control: Mapped[str] = mapped_column(String(9))
    gs06: Mapped[str] = mapped_column(String(9))
    st02: Mapped[str] = mapped_column(String(9))
    st01: Mapped[str] = mapped_column(String(3))
    segment: Mapped[str | None] = mapped_column(String(16))  # the row's loop: `PO1@12`
    fields: Mapped[str | None] = mapped_column(Text)  # JSON: field -> `PO102@12`
    loaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
