"""Lean write keys: bindings keyed naturally, room for in-place updates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:30:00

A first load of 1M order lines spends most of the database's CPU maintaining indexes
(bench/RESULTS.md, "The store's write floor"). This removes the one index nothing needs:

- `binding`: the surrogate `id` (a bigserial nothing refers to) goes, and the unique
  (external_id, entity, system) becomes the primary key: one index and one sequence call
  less per binding written.

The natural-key unique constraints of `sales_order` and `order_line` stay, although the
UUIDv5 id (`oms.ids.canonical_id`) already encodes that key: they cost ~12% of the
server's CPU on a first load (measured), and in return the database itself refuses a
second row of one key whatever a writer computes as its id (a changed key normalisation,
a hand-written fix-up), and serve look-ups by order number.

On PostgreSQL the three tables also leave 10% of each page free (`fillfactor` 90), so a
re-run that changes a row's unindexed fields (quantities, status, provenance, a binding's
hash) can write the new version on the same page without new index entries (a HOT
update): an UPDATE of 10% of 1M order lines took 9.4 s instead of 17.1 s (79% HOT), the
first insert of those lines 7% longer (38.4 s against 35.9 s; same server, busy machine).

Rows are kept as they are; the downgrade restores the surrogate id and numbers the
bindings anew.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BINDING_KEY = ("external_id", "entity", "system")
#: PostgreSQL: tables whose pages keep room for HOT updates (the re-run's writes)
FILLFACTOR = {"sales_order": 90, "order_line": 90, "binding": 90}


def _uq(table: str, cols: tuple[str, ...]) -> str:
    return f"uq_{table}_{'_'.join(cols)}"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("binding", recreate="always" if sqlite else "auto") as b:
        if not sqlite:  # batch mode rebuilds the table on SQLite without them
            b.drop_constraint(op.f("pk_binding"), type_="primary")
        b.drop_constraint(op.f(_uq("binding", BINDING_KEY)), type_="unique")
        b.drop_column("id")
        b.create_primary_key(op.f("pk_binding"), list(BINDING_KEY))
    if not sqlite:
        for table, fill in FILLFACTOR.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {int(fill)})")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        for table in FILLFACTOR:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    with op.batch_alter_table("binding", recreate="always" if sqlite else "auto") as b:
        b.drop_constraint(op.f("pk_binding"), type_="primary")
        if sqlite:  # `id INTEGER PRIMARY KEY` in the rebuilt table: SQLite numbers the rows
            b.add_column(sa.Column("id", _ID, nullable=False))
            b.create_primary_key(op.f("pk_binding"), ["id"])
        b.create_unique_constraint(op.f(_uq("binding", BINDING_KEY)), list(BINDING_KEY))
    if not sqlite:
        op.execute("ALTER TABLE binding ADD COLUMN id BIGSERIAL NOT NULL")
        op.create_primary_key(op.f("pk_binding"), "binding", ["id"])
