"""EDI registry: interchanges, groups and transaction sets per partner, control numbers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:00:00

- `edi_interchange` gains what the inbox and the writer record: both sides' ISA
  qualifiers, usage indicator, file name, group count, status and message, when it was
  sent, when its 997 is due, the acknowledgement's code and time and which interchange
  carried it. Its key becomes (partner, direction, sender id, ISA13): ISA13 is unique per
  sender, and one partner may send from more than one id. `ack_status` widens to hold
  `accepted_with_errors`.
- `edi_group` (GS..GE) and `edi_transaction` (ST..SE): control numbers, version, set
  counts, acknowledgement state and code, and each set's business reference. GS06 and
  ST02 are indexed, not unique: a partner's file may repeat one (the reader reports it,
  the 997 answers it) and the registry records what came.
- `edi_control_number`: the last ISA13 / GS06 / ST02 allocated per partner.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import oms.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OLD_KEY = ("partner", "direction", "isa_control")
_NEW_KEY = ("partner", "direction", "sender_id", "isa_control")


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, oms.types.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("edi_interchange") as b:
        b.drop_constraint(op.f("uq_edi_interchange_partner_direction_isa_control"), "unique")
        b.create_unique_constraint(
            op.f("uq_edi_interchange_partner_direction_sender_id_isa_control"), list(_NEW_KEY)
        )
        b.alter_column("ack_status", type_=sa.String(length=24), existing_type=sa.String(16))
        b.add_column(sa.Column("sender_qualifier", sa.String(length=2), nullable=True))
        b.add_column(sa.Column("receiver_qualifier", sa.String(length=2), nullable=True))
        b.add_column(sa.Column("usage", sa.String(length=1), nullable=True))
        b.add_column(sa.Column("file_name", sa.Text(), nullable=True))
        b.add_column(sa.Column("group_count", sa.Integer(), nullable=True))
        b.add_column(sa.Column("status", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("message", sa.Text(), nullable=True))
        b.add_column(_time("sent_at"))
        b.add_column(_time("ack_due_at"))
        b.add_column(sa.Column("ack_code", sa.String(length=3), nullable=True))
        b.add_column(_time("acked_at"))
        b.add_column(sa.Column("ack_interchange_id", _ID, nullable=True))
        b.create_index(op.f("ix_edi_interchange_ack_due_at"), ["ack_due_at"])
    op.create_table(
        "edi_group",
        sa.Column("id", _ID, nullable=False),
        sa.Column("interchange_id", _ID, nullable=False),
        sa.Column("gs01", sa.String(length=2), nullable=False),
        sa.Column("gs02", sa.String(length=15), nullable=True),
        sa.Column("gs03", sa.String(length=15), nullable=True),
        sa.Column("gs06", sa.String(length=9), nullable=False),
        sa.Column("gs08", sa.String(length=12), nullable=True),
        sa.Column("set_count", sa.Integer(), nullable=False),
        sa.Column("ack_state", sa.String(length=24), nullable=False),
        sa.Column("ack_code", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["interchange_id"],
            ["edi_interchange.id"],
            name=op.f("fk_edi_group_interchange_id_edi_interchange"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_group")),
    )
    op.create_index(op.f("ix_edi_group_gs06"), "edi_group", ["gs06"])
    op.create_index(op.f("ix_edi_group_interchange_id"), "edi_group", ["interchange_id"])
    op.create_table(
        "edi_transaction",
        sa.Column("id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("st01", sa.String(length=3), nullable=False),
        sa.Column("st02", sa.String(length=9), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("ack_state", sa.String(length=24), nullable=False),
        sa.Column("ack_code", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["edi_group.id"], name=op.f("fk_edi_transaction_group_id_edi_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_transaction")),
    )
    op.create_index(op.f("ix_edi_transaction_reference"), "edi_transaction", ["reference"])
    op.create_index(op.f("ix_edi_transaction_group_id"), "edi_transaction", ["group_id"])
    op.create_table(
        "edi_control_number",
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=3), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("partner", "kind", name=op.f("pk_edi_control_number")),
    )


def downgrade() -> None:
    """Back to 0005's `edi_interchange`. The old key fails to build (and the downgrade
    rolls back on PostgreSQL) while one (partner, direction, ISA13) is stored under two
    sender ids."""
    op.drop_table("edi_control_number")
    op.drop_index(op.f("ix_edi_transaction_group_id"), table_name="edi_transaction")
    op.drop_index(op.f("ix_edi_transaction_reference"), table_name="edi_transaction")
    op.drop_table("edi_transaction")
    op.drop_index(op.f("ix_edi_group_interchange_id"), table_name="edi_group")
    op.drop_index(op.f("ix_edi_group_gs06"), table_name="edi_group")
    op.drop_table("edi_group")
    with op.batch_alter_table("edi_interchange") as b:
        b.drop_index(op.f("ix_edi_interchange_ack_due_at"))
        for name in (
            "ack_interchange_id",
            "acked_at",
            "ack_code",
            "ack_due_at",
            "sent_at",
            "message",
            "status",
            "group_count",
            "file_name",
            "usage",
            "receiver_qualifier",
            "sender_qualifier",
        ):
            b.drop_column(name)
        b.alter_column("ack_status", type_=sa.String(length=16), existing_type=sa.String(24))
        b.drop_constraint(
            op.f("uq_edi_interchange_partner_direction_sender_id_isa_control"), "unique"
        )
        b.create_unique_constraint(
            op.f("uq_edi_interchange_partner_direction_isa_control"), list(_OLD_KEY)
        )
