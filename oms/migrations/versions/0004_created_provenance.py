"""created provenance: the run and batch that inserted each business row

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:30:00

The set-based loader (`oms.load.upsert`) no longer writes one `change_log` row per
inserted row (a backfill tripled its writes with them): a row names the run and landed
batch that created it, and its later `update` log rows hold its earlier values, so the
history of every value stays answerable. The data step fills the new columns from the
existing `insert` log rows, which are kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = (
    "customer",
    "product",
    "product_alias",
    "location",
    "sales_order",
    "order_line",
    "inventory_movement",
    "inventory_position",
    "shipment",
    "shipment_line",
    "tracking_event",
    "rate_quote",
    "return_order",
    "return_line",
)


def upgrade() -> None:
    for t in TABLES:
        op.add_column(t, sa.Column("created_run_id", sa.String(length=64)))
        op.add_column(t, sa.Column("created_batch_id", sa.String(length=64)))
        first_insert = (
            "SELECT {col} FROM change_log c WHERE c.entity = '{t}' AND c.canonical_id = {t}.id"
            " AND c.operation = 'insert' ORDER BY c.id LIMIT 1"
        )
        op.execute(
            f"UPDATE {t} SET created_run_id = ({first_insert.format(col='run_id', t=t)}),"
            f" created_batch_id = ({first_insert.format(col='batch_id', t=t)})"
        )


def downgrade() -> None:
    for t in TABLES:
        with op.batch_alter_table(t, schema=None) as b:
            b.drop_column("created_batch_id")
            b.drop_column("created_run_id")
