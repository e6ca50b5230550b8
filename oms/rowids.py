"""Which rows a mapped chunk may write, as canonical ids: what `oms.locks.lock_rows` locks.

A batch locks every row bucket it may write before its first write (`lock_tables`), in
one global order, so two batches of different sources never deadlock; the ids are the
loader's own (`oms.load.prepare`), so a locked row is exactly a written row. The pandas
form (`batch_row_ids`) serves the per-row reference loader and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from oms.entities import ENTITIES, EntitySpec
from oms.locks import lock_rows
from oms.locks import targets as row_targets

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from oms.load.prepare import Prepared


def _inputs(spec: EntitySpec | None, targets: list[tuple[str, tuple[str, ...]]]) -> set[str]:
    """The columns the ids depend on: keys, and what `EntitySpec.identify` reads."""
    from oms.loader import EXTERNAL_ID

    out = {c for _, key in targets for c in key} | {EXTERNAL_ID}
    if spec is not None:
        out |= {c for s in spec.scopes for c in (s.column, s.of)}
        ck = spec.customer_key
        if ck is not None:
            out |= {ck.column, ck.email, ck.external_id or EXTERNAL_ID}
    return out


def batch_row_ids(frames: Mapping[str, pd.DataFrame], system: str) -> dict[str, list[str]]:
    """Canonical ids of every row a batch's (good) frames may write, for `lock_rows`.

    `system` is the loading system: identity columns a mapping leaves to the store (the
    order origin of a channel's own orders, customer keys) are filled as the loader fills
    them (`EntitySpec.identify`), so these are the ids the loader will write.
    """
    from oms.ids import canonical_id
    from oms.loader import META, frame_records

    out: dict[str, set[str]] = {}
    for entity, frame in frames.items():
        targets = row_targets(entity)
        if frame.empty or not targets:
            continue
        spec = ENTITIES.get(entity)
        rows = frame_records(frame[[c for c in frame.columns if c in _inputs(spec, targets)]])
        if spec is not None:
            spec.identify(rows, [c for c in frame.columns if c not in META], system)
        for target, key in targets:
            ids = out.setdefault(target, set())
            ids.update(canonical_id(target, [r.get(k) for k in key]) for r in rows)
    return {e: sorted(ids) for e, ids in out.items()}


def table_row_ids(
    tables: Mapping[str, pa.Table],
    system: str,
    prepared: Mapping[str, Prepared] | None = None,
) -> dict[str, list[str]]:
    """`batch_row_ids` of a mapped chunk's Arrow tables (`oms.arrow`), computed column-wise.

    Every target a table writes is covered: the entity's own rows, the positions its
    movements or snapshots move, the order lines its shipment and return lines derive.
    `prepared` (`oms.load.prepare.prepare` of some of the tables) supplies the entity's
    own ids already computed, so the chunk's ids are hashed once, not twice.
    """
    out = _row_id_arrays(tables, system, prepared)
    return {e: sorted({i for a in arrays for i in a.to_pylist()}) for e, arrays in out.items()}


def _row_id_arrays(
    tables: Mapping[str, pa.Table], system: str, prepared: Mapping[str, Prepared] | None
) -> dict[str, list[pa.Array]]:
    from oms.load.prepare import target_ids

    out: dict[str, list[pa.Array]] = {}
    for entity, tbl in tables.items():
        targets = row_targets(entity)
        if tbl.num_rows == 0 or not targets:
            continue
        done = prepared.get(entity) if prepared else None
        if done is not None:  # prepared rows: one per id
            out.setdefault(entity, []).append(done.table.column("id"))
            targets = [t for t in targets if t[0] != entity]
        if not targets:
            continue
        for target, ids in target_ids(entity, tbl, system, targets).items():
            out.setdefault(target, []).append(ids)
    return out


def lock_tables(
    conn: Connection,
    tables: Mapping[str, pa.Table],
    system: str,
    prepared: Mapping[str, Prepared] | None = None,
) -> int:
    """Lock, before any write, every row bucket a mapped chunk may write (`lock_rows`).

    Call it once per chunk right after the batch's transaction opens (instead of
    `lock_rows(conn, batch_row_ids(...))`): one statement, one global order, so two
    batches never deadlock. SQLite: a no-op (and no ids computed). `prepared`: as in
    `table_row_ids`.
    """
    if conn.dialect.name != "postgresql":
        return 0
    import pyarrow as pa_

    arrays = _row_id_arrays(tables, system, prepared)
    chunks = {e: [c for a in arr for c in _chunks(a)] for e, arr in arrays.items()}
    return lock_rows(conn, {e: pa_.chunked_array(c, pa_.string()) for e, c in chunks.items()})


def _chunks(ids: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(ids.chunks) if hasattr(ids, "chunks") else [ids]
