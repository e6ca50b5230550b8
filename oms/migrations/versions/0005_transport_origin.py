"""transports: where a landed batch came from, and room for a transport's own cursor

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:30:00

- `landed_batch.origin`: the transport's `RawBatch.metadata` as JSON (a remote path, a
  URL without credentials), handed back to the transport's `finish` hook once the batch
  is done, so an SFTP or folder drop is archived (or moved to `error/`) after it loaded,
  from whichever worker processed it. `origin_done` records that the hook ran.
- `sync_run.extract_error`: a transport that failed half-way still hands over the batches
  it landed (they load, the watermark moves with them, the next run resumes from it); the
  run ends `failed` with this reason.
- `watermark.cursor_value`, `landed_batch.cursor_from` / `cursor_to` become text: a SQL
  source's cursor is its watermark value plus a tiebreak key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("landed_batch") as b:
        b.add_column(sa.Column("origin", sa.Text()))
        b.add_column(sa.Column("origin_done", sa.String(length=16)))
        b.alter_column("cursor_from", type_=sa.Text(), existing_type=sa.String(length=64))
        b.alter_column("cursor_to", type_=sa.Text(), existing_type=sa.String(length=64))
    with op.batch_alter_table("watermark") as b:
        b.alter_column("cursor_value", type_=sa.Text(), existing_type=sa.String(length=64))
    with op.batch_alter_table("sync_run") as b:
        b.add_column(sa.Column("extract_error", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("sync_run") as b:
        b.drop_column("extract_error")
    with op.batch_alter_table("watermark") as b:
        b.alter_column("cursor_value", type_=sa.String(length=64), existing_type=sa.Text())
    with op.batch_alter_table("landed_batch") as b:
        b.alter_column("cursor_to", type_=sa.String(length=64), existing_type=sa.Text())
        b.alter_column("cursor_from", type_=sa.String(length=64), existing_type=sa.Text())
        b.drop_column("origin_done")
        b.drop_column("origin")
