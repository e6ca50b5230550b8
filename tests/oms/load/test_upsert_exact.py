"""The loader's column-wise shortcuts give exactly what their per-row definitions give.

`customer_keys` is `CustomerKey.value` (Python's `str.strip/lower`, Unicode included),
`buckets` is `bucket` (zlib CRC-32), and bindings read back as one aggregated CSV value
keep external ids with commas, quotes, line breaks and non-ASCII text, and null times
and hashes. End to end, `load_batch` (prepare first, lock from the prepared ids) loads
such ids once and then finds every row unchanged.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, text

from oms.entities import ENTITIES, CustomerKey
from oms.load import load_batch
from oms.load.lookup import bindings_at
from oms.load.prepare import customer_keys
from oms.load.rows import arrow_rows
from oms.loader import LoadContext
from oms.locks import bucket, buckets
from oms.ownership import Ownership

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
#: characters where Arrow's Unicode tables and Python's may differ, and plain ones
PIECES = ["", " ", "\t", "\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u3000", "A", "b"]
PIECES += ["Ä", "İ", "ß", "Σ", "ς", "ǅ", "@", "x.Y", "1"]
AWKWARD = ["a,b", 'q"uote', "line\nbreak", "", "émoji 😀", "  pad  ", "plain"]


def _text(rnd: random.Random) -> str | None:
    if rnd.random() < 0.15:
        return None
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 5)))


def test_customer_keys_are_customer_key_value() -> None:
    rnd = random.Random(7)
    for ext_field in (None, "customer_external_id"):
        ck = CustomerKey("customer_key", "customer_email", ext_field)
        name = ext_field or ""
        for _ in range(20):
            emails = [_text(rnd) for _ in range(200)]
            exts = [_text(rnd) for _ in range(200)]
            for with_email in (True, False):
                email_col = pa.array(emails, pa.string()) if with_email else None
                got = customer_keys(ck, email_col, pa.array(exts, pa.string()), "sys", 200)
                want = [
                    ck.value(({ck.email: e} if with_email else {}) | {name: x}, "sys", x)
                    for e, x in zip(emails, exts, strict=True)
                ]
                assert got.to_pylist() == want
        ints = [None, 0, -5, 123]
        got = customer_keys(ck, None, pa.array(ints, pa.int64()), "s", 4)
        assert got.to_pylist() == [ck.value({name: x}, "s", x) for x in ints]
        assert customer_keys(ck, None, None, "s", 2).to_pylist() == [None, None]


def test_buckets_are_bucket() -> None:
    rnd = random.Random(3)
    ids = ["", "a", "id-a", "é", *(f"{rnd.getrandbits(128):032x}-x" for _ in range(500))]
    want = np.array([bucket(i) for i in ids])
    assert (buckets(ids) == want).all()
    assert (buckets(pa.array(ids)) == want).all()
    assert (buckets(pa.chunked_array([pa.array(ids[:3]), pa.array(ids[3:])])) == want).all()
    assert len(buckets(pa.array([], pa.string()))) == 0


def test_bindings_read_back_exactly(engine: Engine) -> None:
    rows = [
        {"e": e, "c": f"c{i}", "t": T0 if i % 2 else None, "h": None if i % 3 else f"h{i}"}
        for i, e in enumerate(AWKWARD)
    ]
    with engine.begin() as conn:
        for r in rows:
            conn.execute(
                text(
                    "INSERT INTO binding (system, entity, external_id, canonical_id,"
                    " source_updated_at, payload_hash) VALUES ('s', 'sales_order', :e, :c,"
                    " :t, :h)"
                ),
                r,
            )
        asked = [*AWKWARD, "unbound"]
        at = bindings_at(conn, "s", "sales_order", pa.array(asked, pa.string()))
        none = bindings_at(conn, "s", "sales_order", pa.array(["unbound"], pa.string()))
    got = at.add_column(0, "ext", pa.array(asked)).filter(pc.is_valid(at.column("b_cid")))
    none = none.filter(pc.is_valid(none.column("b_cid")))
    by_ext = {r["ext"]: r for r in got.to_pylist()}
    assert set(by_ext) == set(AWKWARD)
    for r in rows:
        b = by_ext[r["e"]]
        assert (b["b_cid"], b["b_upd"], b["b_hash"]) == (r["c"], r["t"], r["h"])
    assert none.num_rows == 0
    assert none.schema == got.drop_columns(["ext"]).schema


def test_bindings_are_answered_row_by_row(engine: Engine) -> None:
    """`bindings_at` answers each position of its input, repeated and unbound ids too."""
    with engine.begin() as conn:
        for e, c in (("a,b", "c1"), ("plain", "c2")):
            conn.execute(
                text(
                    "INSERT INTO binding (system, entity, external_id, canonical_id,"
                    " source_updated_at, payload_hash) VALUES ('s', 'sales_order', :e, :c,"
                    " :t, 'h')"
                ),
                {"e": e, "c": c, "t": T0},
            )
        ext = pa.array(["plain", "nope", "a,b", "plain", None, "a,b"], pa.string())
        got = bindings_at(conn, "s", "sales_order", ext)
        other = bindings_at(conn, "s", "order_line", ext)  # another entity: nothing bound
    assert got.column("b_cid").to_pylist() == ["c2", None, "c1", "c2", None, "c1"]
    assert got.column("b_upd").to_pylist() == [T0, None, T0, T0, None, T0]
    assert got.column("b_hash").to_pylist() == ["h", None, "h", "h", None, "h"]
    assert other.column("b_cid").null_count == len(ext)


def test_load_batch_loads_awkward_ids_once(engine: Engine) -> None:
    ctx = LoadContext("shop", "channel", "r1", "b1", "shop.m", "1", T0)
    batch = [
        {
            "order_number": f"N{i}",
            "customer_email": email,
            "_external_id": ext,
            "_updated_at": T0,
        }
        for i, (ext, email) in enumerate(zip(AWKWARD, [" Ä@X.com ", "b@Y.com", None] * 3))
    ]
    tables = {"sales_order": arrow_rows("sales_order", batch)}
    own = Ownership({})
    with engine.begin() as conn:
        first = load_batch(conn, tables, ctx, own)["sales_order"]
    assert first.inserted == len(AWKWARD) and len(first.inserted_ids) == len(AWKWARD)
    with engine.begin() as conn:
        keys = [r[0] for r in conn.execute(text("SELECT customer_key FROM sales_order"))]
        again = load_batch(conn, tables, ctx, own)["sales_order"]
    ck = ENTITIES["sales_order"].customer_key
    assert ck is not None
    want = [ck.value(r, "shop", r["_external_id"]) for r in batch]
    assert sorted(map(str, keys)) == sorted(map(str, want))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(AWKWARD))
