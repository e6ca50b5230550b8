"""Lean write keys: no natural-key index the UUIDv5 id already is; bindings keyed naturally

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:30:00

Every row of the store is written with an id that is the UUIDv5 of its entity and natural
key (`oms.ids.canonical_id`, computed by every writer from the row's key columns), so the
primary key on `id` already allows one row per natural key. A first load of 1M order lines
spent most of the database's CPU maintaining indexes (bench/RESULTS.md, "The store's write
floor"); this removes the two that the id makes redundant on the tables a load of orders
writes most, and the surrogate key of the largest table:

- `sales_order`: the unique (order_origin, order_number) constraint goes; look-ups by
  order number keep `ix_sales_order_order_number`;
- `order_line`: the unique (order_origin, order_number, line_no) constraint goes; an
  order's lines are found through `ix_order_line_order_id`;
- `binding`: the surrogate `id` (a bigserial nothing refers to) goes, and the unique
  (external_id, entity, system) becomes the primary key: one index and one sequence call
  less per binding written.

On PostgreSQL the three tables also leave 10% of each page free (`fillfactor` 90), so a
re-run that changes a row's unindexed fields (quantities, status, provenance, a binding's
hash) can write the new version on the same page without new index entries (a HOT
update): an UPDATE of 10% of 1M order lines took 9.4 s instead of 17.1 s (79% HOT), the
first insert of those lines 7% longer (38.4 s against 35.9 s; same server, busy machine).

Rows are kept as they are; the downgrade restores the constraints (it fails, as it
should, if two rows of one natural key were written meanwhile) and numbers the bindings
anew.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: table -> its natural key, whose unique constraint the UUIDv5 id makes redundant
NATURAL_KEYS = {
    "sales_order": ("order_origin", "order_number"),
    "order_line": ("order_origin", "order_number", "line_no"),
}
BINDING_KEY = ("external_id", "entity", "system")
#: PostgreSQL: tables whose pages keep room for HOT updates (the re-run's writes)
FILLFACTOR = {"sales_order": 90, "order_line": 90, "binding": 90}


def _uq(table: str, cols: tuple[str, ...]) -> str:
    return f"uq_{table}_{'_'.join(cols)}"


def upgrade() -> None:
    for table, cols in NATURAL_KEYS.items():
        with op.batch_alter_table(table) as b:
            b.drop_constraint(op.f(_uq(table, cols)), type_="unique")
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
    for table, cols in NATURAL_KEYS.items():
        with op.batch_alter_table(table) as b:
            b.create_unique_constraint(op.f(_uq(table, cols)), list(cols))
