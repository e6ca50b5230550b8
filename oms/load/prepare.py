"""Column-wise preparation of a mapped Arrow table for the set-based upsert.

Everything the store cannot compute portably in SQL happens here, vectorised over the
table, never per field: identity columns a mapping leaves to the store
(`EntitySpec.identify`), canonical and reference ids (uuid5, `oms.ids`), the newest row
per natural key, which row of a shared external id holds its binding, and the payload
hash a binding keeps to tell an unchanged row without reading it.

The fold rules are the per-row loader's (`oms.loader`): walking the rows in order, a row
replaces the one kept so far unless both carry an update time and it is older. With no
missing times that is "newest wins, ties to the later row"; a row without a time resets
the walk (it replaces whatever was kept, and the next row replaces it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oms.arrow import EXTERNAL_ID, RECORD, UPDATED_AT, entity_schema
from oms.entities import CustomerKey, EntitySpec, Ref
from oms.ids import NAMESPACE
from oms.ownership import Ownership

META = (RECORD, EXTERNAL_ID, UPDATED_AT)
_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
_DASH = np.frombuffer(b"-", dtype="S1")
#: payload hashes of this loader start with it; an old per-row hash never equals one
HASH_PREFIX = "a1"


@dataclass
class Prepared:
    """The rows to decide on, one per canonical id, in the order their keys first appear."""

    table: pa.Table  # id, written columns, _ext, _upd, _hash, _own, _n
    data_cols: list[str]  # what the mapping wrote plus identity columns filled here
    ref_cols: list[str]  # reference ids computed from the rows' own key columns
    partial_refs: list[Ref]  # references whose key is partly in the store's row only
    duplicates: int


def conform(entity: str, tbl: pa.Table) -> pa.Table:
    """Cast every column to the entity's Arrow type (`oms.arrow`); unknown columns fail."""
    schema = entity_schema(entity)
    out = {}
    for name in tbl.column_names:
        idx = schema.get_field_index(name)
        if idx < 0:
            raise ValueError(f"{entity}: column {name!r} is not a column of the entity")
        want = schema.field(idx).type
        col = tbl.column(name)
        out[name] = col if col.type == want else col.cast(want)
    return pa.table(out)


def _key_text(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """`str(value)` as the per-row id code writes it, with None as ''."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = col
    elif pa.types.is_integer(col.type):
        text = pc.cast(col, pa.string())
    else:  # times, decimals: Python's str() is the definition
        text = pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())
    return pc.fill_null(text, "")


def canonical_ids(entity: str, keys: list[pa.Array]) -> pa.Array:
    """`oms.ids.canonical_id` for every row of the key columns, each distinct key once."""
    parts = [_key_text(k) for k in keys]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    enc = pc.dictionary_encode(joined)
    prefix = NAMESPACE.bytes + f"{entity}\x1e".encode()
    sha1 = hashlib.sha1
    values = pc.cast(enc.dictionary, pa.binary()).to_pylist()
    digests = b"".join([sha1(prefix + v).digest()[:16] for v in values])
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(len(values), 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = _HEX[raw].view("S1").reshape(len(values), 32)
    dash = np.broadcast_to(_DASH, (len(values), 1))
    cols = [hexed[:, :8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash]
    cols += [hexed[:, 16:20], dash, hexed[:, 20:]]
    out = np.concatenate(cols, axis=1).view("S36").ravel()
    return pa.array(out).cast(pa.string()).take(enc.indices)


def payload_hashes(tbl: pa.Table, columns: list[str]) -> pa.Array:
    """A stable 128-bit hash of what a system sent per row (column names included)."""
    texts = [pc.fill_null(pc.cast(tbl.column(c), pa.string()), "\x00") for c in columns]
    texts.append(pa.array(["\x1e".join(columns)] * tbl.num_rows, pa.string()))
    joined = pc.binary_join_element_wise(*texts, "\x1f")
    values = pc.cast(joined, pa.binary()).to_pylist()
    b2 = hashlib.blake2b
    raw = b"".join([b2(v, digest_size=16).digest() for v in values])
    raw16 = np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 16)
    hexed = _HEX[raw16].view("S1").reshape(len(values), 32)
    prefix = np.broadcast_to(np.frombuffer(HASH_PREFIX.encode(), "S1"), (len(values), 2))
    out = np.concatenate([prefix, hexed], axis=1).view("S34").ravel()
    return pa.array(out).cast(pa.string())


def codes(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer codes of keys, numbered in the order keys first appear."""
    enc = pc.dictionary_encode(keys)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _micros(updated: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Update times as int64 microseconds, and which are missing."""
    values = pd.Series(updated).reset_index(drop=True)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert(None)
    raw = values.to_numpy(dtype="datetime64[us]")
    return raw.view(np.int64), np.isnat(raw)


def fold_winners(codes: np.ndarray, updated: pd.Series, order: np.ndarray) -> np.ndarray:
    """Positions of the row each key (`codes`) keeps under the loader's fold (module doc)."""
    micros, null = _micros(updated)
    last_null = np.full(codes.max(initial=-1) + 1, -1, dtype=np.int64)
    np.maximum.at(last_null, codes[null], order[null])
    after = order > last_null[codes]
    value = np.where(after, micros, np.iinfo(np.int64).min)
    idx = np.lexsort((order, value, after, codes))
    ranked = codes[idx]
    last = np.r_[ranked[1:] != ranked[:-1], True]
    return np.sort(idx[last])


def _identify(spec: EntitySpec, tbl: pa.Table, system: str) -> tuple[pa.Table, list[str]]:
    """`EntitySpec.identify`, column-wise: fill unmapped scopes and the customer key."""
    cols = [c for c in tbl.column_names if c not in META]
    added: list[str] = []
    for s in spec.scopes:
        if s.column not in cols and s.of in cols:
            of = tbl.column(s.of)
            val = pc.if_else(pc.is_null(of), pa.scalar(None, pa.string()), system)
            tbl = tbl.append_column(s.column, val)
            added.append(s.column)
    ck = spec.customer_key
    if (
        ck is not None
        and ck.column not in cols
        and (ck.external_id is None or ck.email in cols or ck.external_id in cols)
    ):
        src = EXTERNAL_ID if ck.external_id is None else ck.external_id
        value = customer_keys(
            ck,
            _column(tbl, ck.email) if ck.email in cols else None,
            _column(tbl, src) if src in tbl.column_names else None,
            system,
            tbl.num_rows,
        )
        tbl = tbl.append_column(ck.column, value)
        added.append(ck.column)
    return tbl, added


#: what Python's `str.strip()` removes from an ASCII text (Arrow's ASCII trim omits \x1c-\x1f)
_PY_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _ascii_strip(col: pa.Array) -> tuple[pa.Array, pa.Array]:
    """`str.strip()` of the ASCII texts of a string column, and which texts are ASCII.

    Exact for ASCII only: Arrow's Unicode whitespace and case tables are not Python's, so
    callers redo the other rows with Python's own string methods.
    """
    ascii_ = pc.fill_null(pc.string_is_ascii(col), True)
    return pc.utf8_trim(col, _PY_ASCII_SPACE), ascii_


def customer_keys(
    ck: CustomerKey, email: pa.Array | None, ext: pa.Array | None, system: str, n: int
) -> pa.Array:
    """`CustomerKey.value` of every row, column-wise, exactly (non-ASCII rows by Python).

    `email` is the email column (None: not mapped), `ext` the customer id column.
    """
    out = pa.nulls(n, pa.string())
    if ext is not None:
        if not (pa.types.is_string(ext.type) or pa.types.is_integer(ext.type)):
            ext = pa.array([None if v is None else str(v) for v in ext.to_pylist()], pa.string())
        text, ascii_ = _ascii_strip(pc.cast(ext, pa.string()))
        key = pc.binary_join_element_wise(f"{system}:", text, "")
        out = pc.if_else(pc.equal(text, ""), out, key)
        field = ck.external_id

        def by_id(x: Any) -> str | None:
            return ck.value({field: x} if field else {}, system, x)

        out = _python_rows(out, ascii_, ext, by_id)
    if email is not None and (
        pa.types.is_string(email.type) or pa.types.is_large_string(email.type)
    ):
        text, ascii_ = _ascii_strip(email)
        has = pc.fill_null(pc.not_equal(text, ""), False)
        out = pc.if_else(has, pc.ascii_lower(text), out)
        slow = pc.invert(ascii_)
        if pc.any(slow).as_py():
            idx = pc.indices_nonzero(slow)
            ext_vals = ext.take(idx).to_pylist() if ext is not None else [None] * len(idx)
            name = ck.external_id or ""
            vals = [
                ck.value({ck.email: e, name: x}, system, x)
                for e, x in zip(email.take(idx).to_pylist(), ext_vals, strict=True)
            ]
            out = pc.replace_with_mask(out, slow, pa.array(vals, pa.string()))
    elif email is not None:
        raise TypeError(f"{ck.email}: an email column of type {email.type} is not text")
    return out


def _python_rows(out: pa.Array, ascii_: pa.Array, col: pa.Array, fn: Any) -> pa.Array:
    """Redo the non-ASCII rows of `out` with Python's `fn(value)`."""
    slow = pc.invert(ascii_)
    if not pc.any(slow).as_py():
        return out
    values = [fn(v) for v in col.filter(slow).to_pylist()]
    return pc.replace_with_mask(out, slow, pa.array(values, pa.string()))


def _refs(spec: EntitySpec, tbl: pa.Table) -> tuple[pa.Table, list[str], list[Ref]]:
    """Reference ids from key columns the rows carry; partly carried keys are left over."""
    done, partial = [], []
    for ref in spec.refs:
        present = [k for k in ref.key_columns if k in tbl.column_names]
        if not present:
            continue  # the store's row keeps its reference (a new row: none)
        if len(present) < len(ref.key_columns):
            partial.append(ref)
            continue
        keys = [tbl.column(k) for k in ref.key_columns]
        ids = canonical_ids(ref.entity, keys)
        missing = None
        for k in keys:
            missing = pc.is_null(k) if missing is None else pc.or_(missing, pc.is_null(k))
        ids = pc.if_else(missing, pa.scalar(None, pa.string()), ids)
        tbl = tbl.append_column(ref.id_column, ids)
        done.append(ref.id_column)
    return tbl, done, partial


def new_field_sources(
    tbl: pa.Table, owned: dict[str, tuple[str, ...]], tag: str, extra: dict[str, bool]
) -> pa.Array:
    """`field_sources` of inserted rows: the owned fields they set, JSON as today.

    `extra` names owned columns the store derives on insert and whether they are set.
    """
    names = sorted(c for c in owned if c in tbl.column_names or c in extra)
    n = tbl.num_rows
    if not names:
        return pa.nulls(n, pa.string())
    bits = np.zeros(n, dtype=np.int64)
    for i, c in enumerate(names):
        if c in tbl.column_names:
            setmask = pc.is_valid(tbl.column(c)).to_numpy(zero_copy_only=False)
        else:
            setmask = np.full(n, extra[c])
        bits |= setmask.astype(np.int64) << i
    combos, inverse = np.unique(bits, return_inverse=True)
    texts: list[str | None] = []
    for b in combos.tolist():
        fs = {c: tag for i, c in enumerate(names) if b >> i & 1}
        texts.append(json.dumps(fs, sort_keys=True) if fs else None)
    return pa.array(texts, pa.string()).take(pa.array(inverse.ravel()))


def prepare(spec: EntitySpec, tbl: pa.Table, system: str) -> Prepared:
    """Identity, ids, newest row per key, binding owners and payload hashes of a table."""
    tbl = conform(spec.name, tbl)
    data_cols = [c for c in tbl.column_names if c not in META]
    tbl, added = _identify(spec, tbl, system)
    data_cols += added
    ids = canonical_ids(spec.name, [_column(tbl, k) for k in spec.natural_key])
    n = tbl.num_rows
    updated = pd.Series(_column(tbl, UPDATED_AT).cast(pa.timestamp("us", tz="UTC")).to_pandas())
    id_codes = codes(ids)
    keep = fold_winners(id_codes, updated, np.arange(n))
    # the kept rows in the order their keys first appear (the loader's dict order)
    keep = keep[np.argsort(id_codes[keep], kind="stable")]
    rows = tbl.take(pa.array(keep))
    ext = _column(rows, EXTERNAL_ID).cast(pa.string())
    ext = pc.fill_null(ext, "None")  # the loader bound str(None)
    kept_upd = updated.iloc[keep].reset_index(drop=True)
    owners = fold_winners(codes(ext), kept_upd, np.arange(len(keep)))
    own = np.zeros(len(keep), dtype=np.int8)
    own[owners] = 1
    hashes = payload_hashes(rows, data_cols)
    rows, ref_cols, partial = _refs(spec, rows)
    out = pa.table(
        {
            "id": ids.take(pa.array(keep)),
            **{c: rows.column(c) for c in [*data_cols, *ref_cols]},
            "_ext": ext,
            "_upd": _column(rows, UPDATED_AT).cast(pa.timestamp("us", tz="UTC")),
            "_hash": hashes,
            "_own": pa.array(own),
            "_n": pa.array(np.arange(len(keep), dtype=np.int64)),
        }
    )
    return Prepared(out, data_cols, ref_cols, partial, n - len(keep))


def _column(tbl: pa.Table, name: str) -> Any:
    if name in tbl.column_names:
        return tbl.column(name).combine_chunks()
    return pa.nulls(tbl.num_rows, pa.string())


def target_ids(
    entity: str, tbl: pa.Table, system: str, targets: list[tuple[str, tuple[str, ...]]]
) -> dict[str, pa.Array]:
    """Canonical ids (distinct) of the rows of each target kind a mapped table writes."""
    from oms.entities import ENTITIES

    tbl = conform(entity, tbl)
    spec = ENTITIES.get(entity)
    if spec is not None:
        tbl, _ = _identify(spec, tbl, system)
    return {
        target: canonical_ids(target, [_column(tbl, k) for k in key]).unique()
        for target, key in targets
    }


def owner_rank(owned: dict[str, tuple[str, ...]], system: str, kind: str | None) -> dict[str, int]:
    return {c: Ownership.rank(owners, system, kind) for c, owners in owned.items()}
