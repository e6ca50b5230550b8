"""scoped identity: order origin, carrier, RMA issuer and customer key in natural keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 02:00:00

Canonical ids are uuid5 of entity + natural key (oms/ids.py), and SQL has no portable
uuid5, so the data step runs in Python over the rows: it fills the new key columns, then
recomputes every id and every reference id from them exactly as the loader does, and
repoints `binding` and `change_log`. Rules for existing rows (docs/architecture.md):
- a sales order's `order_origin` is the system of its binding from an order-originating
  source (kind channel or pos in config/sources), else the one origin of the other orders
  of its `channel` (an ERP replica of a web order whose web record was never loaded), else
  its `source_system`; its lines,
  shipments and returns take the origin of the order they point at (a reference to an
  order not in the store: the only order-originating system, else the row's system);
- carriers become lower-case codes (config/codes/carrier.yaml), a missing one `unknown`;
  shipment lines, tracking events and rate quotes take their shipment's carrier;
- an RMA's issuer is the system that wrote it; `customer_key` is the lower-cased email.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
import yaml
from alembic import op

import oms.types
from oms.ids import canonical_id

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ORIGIN_KINDS = {"channel", "pos", "marketplace"}
S64 = sa.String(length=64)

NEW_COLUMNS: dict[str, list[tuple[str, sa.types.TypeEngine[Any]]]] = {
    "customer": [("customer_key", sa.String(length=320))],
    "sales_order": [
        ("order_origin", S64),
        ("customer_external_id", sa.String(length=256)),
        ("customer_key", sa.String(length=320)),
    ],
    "order_line": [("order_origin", S64)],
    "shipment": [("order_origin", S64)],
    "shipment_line": [("carrier", S64), ("order_origin", S64)],
    "tracking_event": [("carrier", S64)],
    "rate_quote": [("shipment_carrier", S64)],
    "return_order": [("rma_issuer", S64), ("order_origin", S64)],
    "return_line": [("rma_issuer", S64), ("order_origin", S64)],
}
#: table -> (old unique constraint, new unique columns, columns made NOT NULL)
UNIQUES: dict[str, tuple[str, list[str], list[str]]] = {
    "customer": ("uq_customer_email", ["customer_key"], ["customer_key"]),
    "sales_order": (
        "uq_sales_order_order_number",
        ["order_origin", "order_number"],
        ["order_origin"],
    ),
    "order_line": (
        "uq_order_line_order_number_line_no",
        ["order_origin", "order_number", "line_no"],
        ["order_origin"],
    ),
    "shipment": ("uq_shipment_tracking_number", ["carrier", "tracking_number"], ["carrier"]),
    "shipment_line": (
        "uq_shipment_line_tracking_number_line_no",
        ["carrier", "tracking_number", "line_no"],
        ["carrier"],
    ),
    "tracking_event": (
        "uq_tracking_event_tracking_number_occurred_at_code",
        ["carrier", "tracking_number", "occurred_at", "code"],
        ["carrier"],
    ),
    "rate_quote": (
        "uq_rate_quote_tracking_number_carrier_service",
        ["shipment_carrier", "tracking_number", "carrier", "service"],
        ["shipment_carrier"],
    ),
    "return_order": ("uq_return_order_rma_number", ["rma_issuer", "rma_number"], ["rma_issuer"]),
    "return_line": (
        "uq_return_line_rma_number_line_no",
        ["rma_issuer", "rma_number", "line_no"],
        ["rma_issuer"],
    ),
}
#: table -> column that became indexed once it left its unique constraint
NEW_INDEXES = {
    "customer": "email",
    "sales_order": "order_number",
    "shipment": "tracking_number",
    "return_order": "rma_number",
}


def _origin_systems() -> set[str]:
    """Systems of order-originating sources (kind channel/pos) in the project's config."""
    from oms.db import project_home

    out: set[str] = set()
    for path in sorted((project_home() / "config" / "sources").glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # a broken source file says nothing about origins
        if isinstance(data, dict) and data.get("kind") in ORIGIN_KINDS and data.get("system"):
            out.add(str(data["system"]))
    return out


def _t(name: str, *cols: str, **typed: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(
        name, *(sa.column(c) for c in cols), *(sa.column(c, t) for c, t in typed.items())
    )


def _rows(conn: sa.Connection, t: sa.TableClause) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.select(t)).mappings()]


def _cid(entity: str, key: Iterable[Any]) -> str | None:
    key = tuple(key)
    return None if any(v is None for v in key) else canonical_id(entity, key)


def _carrier(value: Any) -> str:
    text = "" if value is None else str(value).strip().lower().replace(" ", "")
    return text or "unknown"


class _Remap:
    """Old id -> new id per entity; written back to rows, bindings and the change log."""

    def __init__(self, conn: sa.Connection, origins: set[str]) -> None:
        self.conn, self.origins = conn, origins
        self.ids: dict[str, dict[str, str]] = {}
        only = sorted(origins)
        self.single_origin = only[0] if len(only) == 1 else None

    def fallback_origin(self, system: str | None) -> str | None:
        return self.single_origin or system

    def write(self, table: str, rows: list[dict[str, Any]], cols: list[str]) -> None:
        """Rows carry `_old` (their current id) and the new values of `cols` (incl. id)."""
        self.ids[table] = {r["_old"]: r["id"] for r in rows}
        if not rows:
            return
        t = _t(table, *cols)
        stmt = (
            sa.update(t)
            .where(sa.column("id") == sa.bindparam("_old"))
            .values({c: sa.bindparam(f"v_{c}") for c in cols})
        )
        params = [{"_old": r["_old"], **{f"v_{c}": r[c] for c in cols}} for r in rows]
        for i in range(0, len(params), 500):
            self.conn.execute(stmt, params[i : i + 500])

    def repoint(self) -> None:
        for bookkeeping in ("binding", "change_log"):
            t = _t(bookkeeping, "entity", "canonical_id")
            stmt = (
                sa.update(t)
                .where(t.c.entity == sa.bindparam("e"), t.c.canonical_id == sa.bindparam("o"))
                .values(canonical_id=sa.bindparam("n"))
            )
            params = [
                {"e": e, "o": o, "n": n}
                for e, m in self.ids.items()
                for o, n in m.items()
                if o != n
            ]
            for i in range(0, len(params), 500):
                self.conn.execute(stmt, params[i : i + 500])


def _binding_origins(conn: sa.Connection, entity: str, origins: set[str]) -> dict[str, str]:
    """canonical id -> the origin system among its bindings (earliest bound, then name)."""
    b = _t("binding", "system", "entity", "canonical_id", "bound_at", "id")
    out: dict[str, str] = {}
    rows = conn.execute(
        sa.select(b.c.canonical_id, b.c.system)
        .where(b.c.entity == entity)
        .order_by(b.c.bound_at, b.c.system, b.c.id)
    )
    for cid, system in rows:
        if system in origins:
            out.setdefault(cid, system)
    return out


def _orders(conn: sa.Connection, remap: _Remap) -> tuple[dict[str, str], dict[str, str]]:
    """Scope sales orders and their lines; old order id -> origin, old line id -> origin."""
    origins = _binding_origins(conn, "sales_order", remap.origins)
    so = _rows(
        conn, _t("sales_order", "id", "order_number", "channel", "customer_email", "source_system")
    )
    by_channel: dict[Any, set[str]] = {}
    for r in so:
        if r["id"] in origins:
            by_channel.setdefault(r["channel"], set()).add(origins[r["id"]])
    origin_of: dict[str, str] = {}
    for r in so:
        r["_old"] = r["id"]
        # no binding from an origin system (its channel record was never loaded): the one
        # origin of the other orders of its channel, else the system that wrote it
        same_channel = sorted(by_channel.get(r["channel"], ()))
        r["order_origin"] = (
            origins.get(r["id"])
            or (same_channel[0] if len(same_channel) == 1 else None)
            or r["source_system"]
            or "unknown"
        )
        email = r["customer_email"]
        r["customer_key"] = email.strip().lower() if email and email.strip() else None
        r["customer_id"] = _cid("customer", [r["customer_key"]])
        r["id"] = canonical_id("sales_order", [r["order_origin"], r["order_number"]])
        origin_of[r["_old"]] = r["order_origin"]
    remap.write("sales_order", so, ["id", "order_origin", "customer_key", "customer_id"])
    line_origins = _binding_origins(conn, "order_line", remap.origins)
    lines = _rows(
        conn, _t("order_line", "id", "order_id", "order_number", "line_no", "source_system")
    )
    for r in lines:
        r["_old"] = r["id"]
        r["order_origin"] = (
            origin_of.get(r["order_id"])
            or line_origins.get(r["id"])
            or r["source_system"]
            or "unknown"
        )
        key = (r["order_origin"], r["order_number"])
        r["order_id"] = canonical_id("sales_order", key)
        r["id"] = canonical_id("order_line", [*key, r["line_no"]])
    remap.write("order_line", lines, ["id", "order_origin", "order_id"])
    return origin_of, {r["_old"]: r["order_origin"] for r in lines}


def _order_ref(r: dict[str, Any], origin_of: dict[str, str], remap: _Remap) -> None:
    """Fill `order_origin` and `order_id` of a row quoting an order number."""
    if r["order_number"] is None:
        r["order_origin"], r["order_id"] = None, None
        return
    r["order_origin"] = origin_of.get(r["order_id"]) or remap.fallback_origin(r["source_system"])
    r["order_id"] = _cid("sales_order", [r["order_origin"], r["order_number"]])


def _line_ref(r: dict[str, Any], line_origin: dict[str, str], remap: _Remap) -> None:
    if r["order_number"] is None:
        r["order_origin"], r["order_line_id"] = None, None
        return
    r["order_origin"] = line_origin.get(r["order_line_id"]) or remap.fallback_origin(
        r["source_system"]
    )
    r["order_line_id"] = _cid("order_line", [r["order_origin"], r["order_number"], r["line_no"]])


def _shipments(
    conn: sa.Connection, remap: _Remap, origin_of: dict[str, str], line_origin: dict[str, str]
) -> None:
    ship = _rows(
        conn,
        _t(
            "shipment",
            "id",
            "carrier",
            "tracking_number",
            "order_number",
            "order_id",
            "source_system",
        ),
    )
    carrier_of: dict[str, str] = {}
    for r in ship:
        r["_old"] = r["id"]
        r["carrier"] = _carrier(r["carrier"])
        _order_ref(r, origin_of, remap)
        r["id"] = canonical_id("shipment", [r["carrier"], r["tracking_number"]])
        carrier_of[r["_old"]] = r["carrier"]
    remap.write("shipment", ship, ["id", "carrier", "order_origin", "order_id"])
    sl = _rows(
        conn,
        _t(
            "shipment_line",
            "id",
            "shipment_id",
            "tracking_number",
            "line_no",
            "order_number",
            "order_line_id",
            "source_system",
        ),
    )
    for r in sl:
        r["_old"] = r["id"]
        r["carrier"] = carrier_of.get(r["shipment_id"], "unknown")
        r["shipment_id"] = canonical_id("shipment", [r["carrier"], r["tracking_number"]])
        _line_ref(r, line_origin, remap)
        r["id"] = canonical_id("shipment_line", [r["carrier"], r["tracking_number"], r["line_no"]])
    remap.write(
        "shipment_line", sl, ["id", "carrier", "shipment_id", "order_origin", "order_line_id"]
    )
    _shipment_children(conn, remap, carrier_of)


def _shipment_children(conn: sa.Connection, remap: _Remap, carrier_of: dict[str, str]) -> None:
    te = _rows(
        conn,
        _t(
            "tracking_event",
            "id",
            "shipment_id",
            "tracking_number",
            "code",
            occurred_at=oms.types.UTCDateTime(),
        ),
    )
    rekey: list[dict[str, str]] = []
    for r in te:
        r["_old"] = r["id"]
        r["carrier"] = carrier_of.get(r["shipment_id"], "unknown")
        r["shipment_id"] = canonical_id("shipment", [r["carrier"], r["tracking_number"]])
        old_key = [r["tracking_number"], r["occurred_at"], r["code"]]
        r["id"] = canonical_id("tracking_event", [r["carrier"], *old_key])
        # a binding whose external id is the default (the natural key) follows the key
        rekey.append(
            {
                "o": "|".join(map(str, old_key)),
                "n": "|".join(map(str, [r["carrier"], *old_key])),
                "c": r["_old"],
            }
        )
    remap.write("tracking_event", te, ["id", "carrier", "shipment_id"])
    b = _t("binding", "entity", "external_id", "canonical_id")
    stmt = (
        sa.update(b)
        .where(
            b.c.entity == "tracking_event",
            b.c.external_id == sa.bindparam("o"),
            b.c.canonical_id == sa.bindparam("c"),
        )
        .values(external_id=sa.bindparam("n"))
    )
    for i in range(0, len(rekey), 500):
        conn.execute(stmt, rekey[i : i + 500])
    rq = _rows(conn, _t("rate_quote", "id", "shipment_id", "tracking_number", "carrier", "service"))
    for r in rq:
        r["_old"] = r["id"]
        r["shipment_carrier"] = carrier_of.get(r["shipment_id"], "unknown")
        r["carrier"] = _carrier(r["carrier"])
        r["shipment_id"] = canonical_id("shipment", [r["shipment_carrier"], r["tracking_number"]])
        r["id"] = canonical_id(
            "rate_quote", [r["shipment_carrier"], r["tracking_number"], r["carrier"], r["service"]]
        )
    remap.write("rate_quote", rq, ["id", "shipment_carrier", "carrier", "shipment_id"])


def _returns(
    conn: sa.Connection, remap: _Remap, origin_of: dict[str, str], line_origin: dict[str, str]
) -> None:
    ro = _rows(
        conn, _t("return_order", "id", "rma_number", "order_number", "order_id", "source_system")
    )
    issuer_of: dict[str, str] = {}
    for r in ro:
        r["_old"] = r["id"]
        r["rma_issuer"] = r["source_system"] or "unknown"
        _order_ref(r, origin_of, remap)
        r["id"] = canonical_id("return_order", [r["rma_issuer"], r["rma_number"]])
        issuer_of[r["_old"]] = r["rma_issuer"]
    remap.write("return_order", ro, ["id", "rma_issuer", "order_origin", "order_id"])
    rl = _rows(
        conn,
        _t(
            "return_line",
            "id",
            "return_id",
            "rma_number",
            "line_no",
            "order_number",
            "order_line_id",
            "source_system",
        ),
    )
    for r in rl:
        r["_old"] = r["id"]
        r["rma_issuer"] = issuer_of.get(r["return_id"]) or r["source_system"] or "unknown"
        r["return_id"] = canonical_id("return_order", [r["rma_issuer"], r["rma_number"]])
        _line_ref(r, line_origin, remap)
        r["id"] = canonical_id("return_line", [r["rma_issuer"], r["rma_number"], r["line_no"]])
    remap.write(
        "return_line", rl, ["id", "rma_issuer", "return_id", "order_origin", "order_line_id"]
    )


def _customers(conn: sa.Connection, remap: _Remap) -> None:
    cu = _rows(conn, _t("customer", "id", "email"))
    for r in cu:
        r["_old"] = r["id"]
        r["customer_key"] = r["email"].strip().lower()
        r["id"] = canonical_id("customer", [r["customer_key"]])
    remap.write("customer", cu, ["id", "customer_key"])


def _migrate_rows() -> None:
    conn = op.get_bind()
    remap = _Remap(conn, _origin_systems())
    _customers(conn, remap)
    origin_of, line_origin = _orders(conn, remap)
    _shipments(conn, remap, origin_of, line_origin)
    _returns(conn, remap, origin_of, line_origin)
    remap.repoint()


def upgrade() -> None:
    for table, cols in NEW_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as b:
            for name, type_ in cols:
                b.add_column(sa.Column(name, type_, nullable=True))
    _migrate_rows()
    for table, (old_uq, new_uq, not_null) in UNIQUES.items():
        with op.batch_alter_table(table, schema=None) as b:
            b.drop_constraint(old_uq, type_="unique")
            for col in not_null:
                b.alter_column(col, existing_type=_type(table, col), nullable=False)
            if table == "customer":
                b.alter_column("email", existing_type=sa.String(length=254), nullable=True)
            b.create_unique_constraint(b.f(f"uq_{table}_{'_'.join(new_uq)}"), new_uq)
            if table in NEW_INDEXES:
                col = NEW_INDEXES[table]
                b.create_index(b.f(f"ix_{table}_{col}"), [col], unique=False)


def _type(table: str, col: str) -> sa.types.TypeEngine[Any]:
    return dict(NEW_COLUMNS.get(table, [])).get(col, S64)


def downgrade() -> None:
    from oms.errors import FatalError

    raise FatalError(
        "revision 0003 (scoped identity) cannot be downgraded: orders of two origins may "
        "share a number, which the old schema cannot hold; restore a backup taken before "
        "the upgrade instead"
    )
