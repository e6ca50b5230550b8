"""What the loader needs to know about each canonical entity: natural key and references."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Table

from oms.models import BUSINESS_TABLES, table


@dataclass(frozen=True)
class Ref:
    """`id_column` holds the id of `entity` whose natural key is `key_columns` of this row."""

    id_column: str
    entity: str
    key_columns: tuple[str, ...]


@dataclass(frozen=True)
class EntitySpec:
    name: str
    natural_key: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    #: columns the loader computes; mappings may not write them
    derived: tuple[str, ...] = field(default=())

    @property
    def table(self) -> Table:
        return table(BUSINESS_TABLES[self.name])

    @property
    def data_columns(self) -> list[str]:
        """Columns a mapping may fill (everything but provenance, ids and derived)."""
        skip = set(PROVENANCE_COLUMNS) | {r.id_column for r in self.refs} | set(self.derived)
        return [c.name for c in self.table.columns if c.name not in skip]


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
)

ENTITIES: dict[str, EntitySpec] = {
    s.name: s
    for s in (
        EntitySpec("customer", ("email",)),
        EntitySpec("product", ("sku",)),
        EntitySpec("product_alias", ("system", "alias"), (Ref("product_id", "product", ("sku",)),)),
        EntitySpec("location", ("code",)),
        EntitySpec(
            "sales_order", ("order_number",), (Ref("customer_id", "customer", ("customer_email",)),)
        ),
        EntitySpec(
            "order_line",
            ("order_number", "line_no"),
            (Ref("order_id", "sales_order", ("order_number",)),),
            derived=("status", "qty_shipped", "qty_returned"),
        ),
        EntitySpec("inventory_movement", ("movement_key",)),
        EntitySpec("inventory_position", ("sku", "location_code")),
        EntitySpec(
            "shipment", ("tracking_number",), (Ref("order_id", "sales_order", ("order_number",)),)
        ),
        EntitySpec(
            "shipment_line",
            ("tracking_number", "line_no"),
            (
                Ref("shipment_id", "shipment", ("tracking_number",)),
                Ref("order_line_id", "order_line", ("order_number", "line_no")),
            ),
        ),
        EntitySpec(
            "tracking_event",
            ("tracking_number", "occurred_at", "code"),
            (Ref("shipment_id", "shipment", ("tracking_number",)),),
        ),
        EntitySpec(
            "rate_quote",
            ("tracking_number", "carrier", "service"),
            (Ref("shipment_id", "shipment", ("tracking_number",)),),
        ),
        EntitySpec(
            "return_order", ("rma_number",), (Ref("order_id", "sales_order", ("order_number",)),)
        ),
        EntitySpec(
            "return_line",
            ("rma_number", "line_no"),
            (
                Ref("return_id", "return_order", ("rma_number",)),
                Ref("order_line_id", "order_line", ("order_number", "line_no")),
            ),
        ),
    )
}

#: pseudo-entity: a WMS/POS stock snapshot, turned into ledger movements by `oms.inventory`
SNAPSHOT_ENTITY = "inventory_snapshot"
SNAPSHOT_COLUMNS = ("sku", "location_code", "on_hand", "allocated", "as_of")

CANONICAL_ENTITIES = (*ENTITIES, SNAPSHOT_ENTITY)
