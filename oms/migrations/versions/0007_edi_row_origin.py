"""EDI row provenance and the origin of the orders our outbound sets name

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:00:00

- `edi_row_origin`: per loaded store row and X12 set, the file, ISA13/GS06/ST02, the
  segment of the loop the row came from and each field's element and segment number.
  Unique per (entity, row id, partner, ISA13, GS06, ST02): a reload upserts.
- `edi_transaction.order_origin`: whose order an outbound set (a 940) is about, so the
  945 answering it, which quotes the order number only, loads against the right order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oms.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KEY = ["entity", "row_id", "partner", "isa_control", "gs06", "st02"]


def upgrade() -> None:
    with op.batch_alter_table("edi_transaction") as b:
        b.add_column(sa.Column("order_origin", sa.String(length=64), nullable=True))
    op.create_table(
        "edi_row_origin",
        sa.Column("id", _ID, nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=True),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("isa_control", sa.String(length=9), nullable=False),
        sa.Column("gs06", sa.String(length=9), nullable=False),
        sa.Column("st02", sa.String(length=9), nullable=False),
        sa.Column("st01", sa.String(length=3), nullable=False),
        sa.Column("segment", sa.String(length=16), nullable=True),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("loaded_at", oms.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_row_origin")),
        sa.UniqueConstraint(
            *_KEY, name=op.f("uq_edi_row_origin_entity_row_id_partner_isa_control_gs06_st02")
        ),
    )
    op.create_index(op.f("ix_edi_row_origin_row_id"), "edi_row_origin", ["row_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_edi_row_origin_row_id"), table_name="edi_row_origin")
    op.drop_table("edi_row_origin")
    with op.batch_alter_table("edi_transaction") as b:
        b.drop_column("order_origin")
