"""What the loader needs to know about each canonical entity: identity and references.

Identity is scoped (DESIGN.md §3, docs/architecture.md): a natural key is unique only
within its scope. An order number is unique within its originating system
(`order_origin`), a tracking number within its carrier, an RMA within its issuer
(`rma_issuer`). A scope column a mapping does not write defaults to the loading system
(a channel's own orders are its own scope); a system quoting another system's key says
so in its mapping (`order_origin: {const: shopify}`), so nothing merges by coincidence of
values. Customers are keyed by `customer_key`: the normalised email, else
`<system>:<the system's customer id>` (guest and POS sales).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Table

from oms.models import BUSINESS_TABLES, table


@dataclass(frozen=True)
class Ref:
    """`id_column` holds the id of `entity` whose natural key is `key_columns` of this row."""

    id_column: str
    entity: str
    key_columns: tuple[str, ...]


@dataclass(frozen=True)
class Scope:
    """`column` names the system `of` is unique in; unmapped, it is the loading system.

    The default applies only to rows whose mapping writes `of`: a carrier's tracker that
    does not know the order leaves the shipment's order reference (and its scope) alone.
    """

    column: str
    of: str


@dataclass(frozen=True)
class CustomerKey:
    """`column` = normalised `email`, else `<system>:<customer id>`.

    `external_id` names the column with the system's customer id; None means the row's
    own external id (a customer record).
    """

    column: str
    email: str
    external_id: str | None = None

    def value(self, row: dict[str, Any], system: str, own_external_id: Any) -> str | None:
        email = row.get(self.email)
        if isinstance(email, str) and email.strip():
            return email.strip().lower()
        ext = own_external_id if self.external_id is None else row.get(self.external_id)
        if ext is None or str(ext).strip() == "":
            return None
        return f"{system}:{str(ext).strip()}"


#: how a load applies an entity's rows: `row` upserts them into the entity's own table;
#: `snapshot` reads them as "the quantity is N as of T" and writes the movements that
#: explain the difference plus the positions they move (`oms.load.stock`)
Kind = Literal["row", "snapshot"]


@dataclass(frozen=True)
class EntitySpec:
    name: str
    natural_key: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    #: columns the loader computes; mappings may not write them
    derived: tuple[str, ...] = field(default=())
    scopes: tuple[Scope, ...] = ()
    customer_key: CustomerKey | None = None
    kind: Kind = "row"
    #: the business table whose columns type this entity (default: its own, same name)
    target: str | None = None
    #: the columns a mapping may write, when not all of the target's (a snapshot)
    columns: tuple[str, ...] | None = None
    #: validation (transforms.validation): columns that must not be negative / be missing
    non_negative: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    @property
    def table(self) -> Table:
        """The table this entity's columns come from (and a row-kind load writes)."""
        return table(BUSINESS_TABLES[self.target or self.name])

    @property
    def data_columns(self) -> list[str]:
        """Columns a mapping may fill (everything but provenance, ids and derived)."""
        if self.columns is not None:
            return list(self.columns)
        skip = set(PROVENANCE_COLUMNS) | {r.id_column for r in self.refs} | set(self.derived)
        if self.customer_key is not None:
            skip.add(self.customer_key.column)
        return [c.name for c in self.table.columns if c.name not in skip]

    def identify(self, rows: list[dict[str, Any]], columns: list[str], system: str) -> list[str]:
        """Fill the identity columns a mapping left to the store; return the columns added.

        An unmapped scope is `system` (the loading system) on rows that carry the key it
        scopes; a customer key follows `CustomerKey`. Rows are the loader's own dicts.
        """
        added: list[str] = []
        for s in self.scopes:
            if s.column not in columns and s.of in columns:
                for r in rows:
                    r[s.column] = None if r.get(s.of) is None else system
                added.append(s.column)
        ck = self.customer_key
        if (
            ck is not None
            and ck.column not in columns
            and (ck.external_id is None or ck.email in columns or ck.external_id in columns)
        ):
            for r in rows:
                r[ck.column] = ck.value(r, system, r.get(EXTERNAL_ID))
            added.append(ck.column)
        return added

    @property
    def implicit_key(self) -> tuple[str, ...]:
        """Natural-key columns a mapping need not write (defaulted scope, derived key)."""
        own = {s.column for s in self.scopes}
        if self.customer_key is not None:
            own.add(self.customer_key.column)
        return tuple(k for k in self.natural_key if k in own)


#: the binding key column of a mapped frame (transforms.compiler, oms.loader)
EXTERNAL_ID = "_external_id"

PROVENANCE_COLUMNS = (
    "id",
    "source_system",
    "source_updated_at",
    "mapping_name",
    "mapping_version",
    "last_run_id",
    "last_batch_id",
    "field_sources",
    "created_at",
    "updated_at",
    "created_run_id",
    "created_batch_id",
)

ORDER = ("order_origin", "order_number")
ORDER_SCOPE = Scope("order_origin", "order_number")
RMA = ("rma_issuer", "rma_number")
RMA_SCOPE = Scope("rma_issuer", "rma_number")

ENTITIES: dict[str, EntitySpec] = {
    s.name: s
    for s in (
        EntitySpec(
            "customer", ("customer_key",), customer_key=CustomerKey("customer_key", "email")
        ),
        EntitySpec("product", ("sku",), non_negative=("list_price", "weight")),
        EntitySpec("product_alias", ("system", "alias"), (Ref("product_id", "product", ("sku",)),)),
        EntitySpec("location", ("code",)),
        EntitySpec(
            "sales_order",
            ORDER,
            (Ref("customer_id", "customer", ("customer_key",)),),
            scopes=(ORDER_SCOPE,),
            customer_key=CustomerKey("customer_key", "customer_email", "customer_external_id"),
            non_negative=("subtotal", "tax_total", "shipping_total", "grand_total"),
        ),
        EntitySpec(
            "order_line",
            (*ORDER, "line_no"),
            (Ref("order_id", "sales_order", ORDER),),
            derived=("status", "qty_shipped", "qty_returned"),
            scopes=(ORDER_SCOPE,),
            non_negative=("qty_ordered", "qty_allocated", "qty_cancelled", "unit_price"),
            required=("sku", "qty_ordered"),
        ),
        EntitySpec("inventory_movement", ("movement_key",)),
        EntitySpec("inventory_position", ("sku", "location_code")),
        EntitySpec(
            "shipment",
            ("carrier", "tracking_number"),
            (Ref("order_id", "sales_order", ORDER),),
            scopes=(ORDER_SCOPE,),
            non_negative=("cost",),
        ),
        EntitySpec(
            "shipment_line",
            ("carrier", "tracking_number", "line_no"),
            (
                Ref("shipment_id", "shipment", ("carrier", "tracking_number")),
                Ref("order_line_id", "order_line", (*ORDER, "line_no")),
            ),
            scopes=(ORDER_SCOPE,),
            non_negative=("qty",),
            required=("qty",),
        ),
        EntitySpec(
            "tracking_event",
            ("carrier", "tracking_number", "occurred_at", "code"),
            (Ref("shipment_id", "shipment", ("carrier", "tracking_number")),),
        ),
        EntitySpec(
            "rate_quote",
            ("shipment_carrier", "tracking_number", "carrier", "service"),
            (Ref("shipment_id", "shipment", ("shipment_carrier", "tracking_number")),),
            non_negative=("amount",),
        ),
        EntitySpec(
            "return_order",
            RMA,
            (Ref("order_id", "sales_order", ORDER),),
            scopes=(RMA_SCOPE, ORDER_SCOPE),
        ),
        EntitySpec(
            "return_line",
            (*RMA, "line_no"),
            (
                Ref("return_id", "return_order", RMA),
                Ref("order_line_id", "order_line", (*ORDER, "line_no")),
            ),
            scopes=(RMA_SCOPE, ORDER_SCOPE),
            non_negative=("qty", "refund_amount"),
            required=("qty",),
        ),
    )
}

#: a WMS/POS stock snapshot ("on hand is N at T" per sku x location): loaded by
#: `oms.load.stock.load_snapshot` into the movements that explain it and the positions
SNAPSHOT_ENTITY = "inventory_snapshot"
SNAPSHOT_COLUMNS = ("sku", "location_code", "on_hand", "allocated", "as_of")
SNAPSHOT = EntitySpec(
    SNAPSHOT_ENTITY,
    ("sku", "location_code"),
    kind="snapshot",
    target="inventory_position",
    columns=SNAPSHOT_COLUMNS,
    non_negative=("on_hand", "allocated"),
    required=("on_hand",),
)

#: every entity a mapping may name, of every kind; `ENTITIES` holds the row kind only
#: (what the upsert loads), so code that walks it never meets a snapshot by surprise
REGISTRY: dict[str, EntitySpec] = {**ENTITIES, SNAPSHOT.name: SNAPSHOT}

CANONICAL_ENTITIES = tuple(REGISTRY)


def entity_spec(entity: str) -> EntitySpec:
    """The spec of any canonical entity, of any kind (KeyError names the known ones)."""
    try:
        return REGISTRY[entity]
    except KeyError:
        raise KeyError(
            f"unknown canonical entity {entity!r} (known: {', '.join(REGISTRY)})"
        ) from None
