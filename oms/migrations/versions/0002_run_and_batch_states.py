"""run and batch state machines: attempts, discard audit, heartbeats, failed counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oms.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as b:
        b.add_column(sa.Column("heartbeat_at", oms.types.UTCDateTime(timezone=True)))
        b.add_column(sa.Column("host", sa.String(length=255)))
        b.add_column(sa.Column("pid", sa.Integer()))
    with op.batch_alter_table("run_stat", schema=None) as b:
        b.add_column(sa.Column("failed", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("landed_batch", schema=None) as b:
        b.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("error_kind", sa.String(length=16)))
        b.add_column(sa.Column("failed_at", oms.types.UTCDateTime(timezone=True)))
        b.add_column(sa.Column("last_run_id", sa.String(length=64)))
        b.add_column(sa.Column("discarded_by", sa.String(length=128)))
        b.add_column(sa.Column("discarded_reason", sa.Text()))
        b.add_column(sa.Column("discarded_at", oms.types.UTCDateTime(timezone=True)))
        b.create_index(b.f("ix_landed_batch_status"), ["status"], unique=False)
    # batches that failed before attempts were counted have failed once
    op.execute("UPDATE landed_batch SET attempts = 1 WHERE status = 'failed'")


def downgrade() -> None:
    with op.batch_alter_table("landed_batch", schema=None) as b:
        b.drop_index(b.f("ix_landed_batch_status"))
        for c in (
            "discarded_at",
            "discarded_reason",
            "discarded_by",
            "last_run_id",
            "failed_at",
            "error_kind",
            "attempts",
        ):
            b.drop_column(c)
    with op.batch_alter_table("run_stat", schema=None) as b:
        b.drop_column("failed")
    with op.batch_alter_table("sync_run", schema=None) as b:
        for c in ("pid", "host", "heartbeat_at"):
            b.drop_column(c)
