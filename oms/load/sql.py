"""The SQL of the set-based upsert, for PostgreSQL and SQLite (DESIGN.md §4 as predicates).

One statement computes the diff of the staged rows against the store (`diff_select`):
per written column whether it changes and whether an owner claims it, following the
per-row loader's field rules (`oms.loader.Loader._changes`):

- equal values are no change (numbers by value, times by instant);
- a null never erases a value another system set;
- an owned field (`config/ownership.yaml`) that a higher-ranked system set is kept;
- the same value sent by a higher-ranked owner than the recorded setter is a claim
  (`field_sources` moves to it, nothing else changes);

the setter of a field being `field_sources[field]`, else `<row's source_system>|`. An
order line's `status` follows from its merged quantities (`derive_line_status`). The
other statements write from that diff: the update, the change log (one row per changed
field, values as `oms.loader.as_text` writes them), inserts and bindings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Column, Connection, Table
from sqlalchemy.types import Boolean, Date, Integer

from oms.types import Money, UTCDateTime

STAGE, DIFF, FIELD_SOURCES = "_omshub_stage", "_omshub_diff", "_omshub_fs"
#: quantities an order line's status follows from (`oms.loader.derive_line_status`)
LINE_QTYS = ("qty_ordered", "qty_shipped", "qty_cancelled", "qty_returned", "qty_allocated")


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Dialect:
    """The few expressions that differ between the backends."""

    pg: bool
    q: object = field(repr=False, default=None)

    @classmethod
    def of(cls, conn: Connection) -> Dialect:
        return cls(conn.dialect.name == "postgresql", conn.dialect.identifier_preparer)

    def name(self, ident: str) -> str:
        return self.q.quote(ident)  # type: ignore[attr-defined, no-any-return]

    def eq(self, col: Column[object], old: str, new: str) -> str:
        """1 when old and new are the same value (nulls equal), else 0."""
        if self.pg:
            return f"CASE WHEN {old} IS NOT DISTINCT FROM {new} THEN 1 ELSE 0 END"
        if isinstance(col.type, Money):  # decimal text: "1.50" and "1.5" are one number
            # one decimal value parses to one double, so doubles that differ are decimals
            # that differ: the exact (Python) comparison runs only for texts whose doubles
            # agree (another spelling of one number, or beyond a double's 15 digits)
            return (
                f"CASE WHEN {old} IS {new} THEN 1 WHEN {old} IS NULL OR {new} IS NULL THEN 0"
                f" WHEN CAST({old} AS REAL) <> CAST({new} AS REAL) THEN 0"
                f" ELSE omshub_num_eq({old}, {new}) END"
            )
        return f"CASE WHEN {old} IS {new} THEN 1 ELSE 0 END"

    def fs_get(self, fs: str, key: str) -> str:
        if self.pg:
            return f"({fs} ->> {lit(key)})"
        return f"json_extract({fs}, {lit('$.' + key)})"

    def pos(self, text: str) -> str:
        """1-based position of the first '|' of `text` (past its end when there is none)."""
        fn = "strpos" if self.pg else "instr"
        return f"{fn}({text} || '|', '|')"

    def setter_system(self, setter: str) -> str:
        return f"substr({setter}, 1, {self.pos(setter)} - 1)"

    def setter_kind(self, setter: str) -> str:
        return f"substr({setter}, {self.pos(setter)} + 1)"

    def number(self, expr: str) -> str:
        return f"COALESCE({expr}, 0)" if self.pg else f"COALESCE(CAST({expr} AS REAL), 0)"

    def distinct(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    def as_text(self, col: Column[object], x: str) -> str:
        """`oms.loader.as_text` of a stored value, in SQL."""
        t = col.type
        if isinstance(t, Money):
            if self.pg:
                return f"CAST(trim_scale({x}) AS TEXT)"
            return f"CASE WHEN instr({x}, '.') > 0 THEN rtrim(rtrim({x}, '0'), '.') ELSE {x} END"
        if isinstance(t, UTCDateTime):
            if self.pg:
                u = f"({x} AT TIME ZONE 'UTC')"
                frac = (
                    f"CASE WHEN CAST(extract(microseconds FROM {u}) AS bigint) % 1000000 <> 0"
                    f" THEN to_char({u}, '.US') ELSE '' END"
                )
                return f"to_char({u}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || {frac} || '+00:00'"
            frac = f"CASE WHEN substr({x}, 20, 7) = '.000000' THEN '' ELSE substr({x}, 20, 7) END"
            return f"substr({x}, 1, 19) || {frac} || '+00:00'"
        if isinstance(t, Date):
            return f"to_char({x}, 'YYYY-MM-DD')" if self.pg else x
        if isinstance(t, Boolean):
            return f"CASE WHEN {x} THEN 'True' WHEN NOT {x} THEN 'False' END"
        if isinstance(t, Integer):
            return f"CAST({x} AS TEXT)"
        return x


def line_status(d: Dialect, q: dict[str, str]) -> str:
    """`derive_line_status` over quantity expressions `q` (column -> SQL)."""
    o, s, c, r, a = (d.number(q[k]) for k in LINE_QTYS)
    return (
        f"CASE WHEN {o} > 0 AND {c} >= {o} THEN 'cancelled'"
        f" WHEN {r} > 0 AND {r} >= {s} AND {s} > 0 THEN 'returned'"
        f" WHEN {s} > 0 THEN CASE WHEN {s} >= {o} - {c} THEN 'shipped'"
        " ELSE 'partially_shipped' END"
        f" WHEN {a} > 0 THEN 'allocated' ELSE 'open' END"
    )


@dataclass
class Plan:
    """What one upsert writes: the target, its written columns and the ownership rules."""

    target: Table
    cols: list[str]  # written columns, in the order the change log lists them
    owners: dict[str, tuple[str, ...]]  # owned written columns -> ranked owners
    my_rank: dict[str, int]  # owned column -> rank of the loading system
    derive_status: bool


def _rank(d: Dialect, setter: str, owners: tuple[str, ...]) -> str:
    sys_, kind = d.setter_system(setter), d.setter_kind(setter)
    whens = " ".join(
        f"WHEN {sys_} = {lit(o)} OR {kind} = {lit(o)} THEN {i}" for i, o in enumerate(owners)
    )
    return f"CASE {whens} ELSE {len(owners)} END"


#: PostgreSQL: `OFFSET 0` keeps a correlated sub-select a per-row index probe. Inside one
#: batch's transaction the planner's statistics still describe the tables as they were
#: before it (a first load of 1M lines sees empty tables), and it chose to hash the whole
#: growing table once per chunk: time grew with the square of the batch (bench/RESULTS.md).
PROBE = {True: " OFFSET 0", False: ""}


def diff_select(d: Dialect, p: Plan) -> str:
    """Staged rows that change or claim something in their existing store row.

    Levels: l0 joins staged and stored rows (fenced with `OFFSET 0` on PostgreSQL so
    `field_sources` is parsed once per row, not once per column); l1 compares values
    and finds each field's setter; l2 applies the rules; l3 derives an order line's
    status from its merged quantities.
    """
    t = d.name(p.target.name)
    fsj = "CAST(t.field_sources AS jsonb)" if d.pg else "t.field_sources"
    l0 = ["s.id AS id", "s._n AS _n", "s._upd AS _upd", "t.field_sources AS _ofs"]
    l0 += ["t.source_system AS _src", f"{fsj} AS _fsj"]
    l1 = ["id", "_n", "_upd", "_ofs"]
    l2 = ["id", "_n", "_upd", "_ofs"]
    anyflag = []
    for i, c in enumerate(p.cols):
        col, n = p.target.c[c], d.name(c)
        l0 += [f"t.{n} AS o{i}", f"s.{n} AS n{i}"]
        setter = f"COALESCE({d.fs_get('_fsj', c)}, _src || '|')"
        l1 += [f"o{i}", f"n{i}", f"{d.eq(col, f'o{i}', f'n{i}')} AS e{i}"]
        l1.append(f"CASE WHEN {d.setter_system(setter)} = :system THEN 1 ELSE 0 END AS m{i}")
        kept = f"n{i} IS NULL AND m{i} = 0"
        l2 += [f"o{i}", f"n{i}"]
        if c in p.owners:
            l1.append(f"{_rank(d, setter, p.owners[c])} AS r{i}")
            mine = p.my_rank[c]
            kept += f" OR o{i} IS NOT NULL AND m{i} = 0 AND r{i} < {mine}"
            claim = f"e{i} = 1 AND o{i} IS NOT NULL AND m{i} = 0 AND {mine} < r{i}"
            l2.append(f"CASE WHEN {claim} THEN 1 ELSE 0 END AS k{i}")
            anyflag.append(f"k{i} = 1")
        l2.append(f"CASE WHEN e{i} = 1 OR {kept} THEN 0 ELSE 1 END AS c{i}")
        anyflag.append(f"c{i} = 1")
    l3 = ["x.*"]
    st = ""
    if p.derive_status:
        extra = ["_ost"] + [f"_q_{k}" for k in LINE_QTYS]
        l0 += ["t.status AS _ost"] + [f"t.{k} AS _q_{k}" for k in LINE_QTYS]
        l1 += extra
        l2 += extra
        merged = {k: f"_q_{k}" for k in LINE_QTYS}
        for i, c in enumerate(p.cols):
            if c in LINE_QTYS:
                merged[c] = f"CASE WHEN c{i} = 1 THEN n{i} ELSE o{i} END"
        l3.append(f"{line_status(d, merged)} AS _st")
        anyflag.append(d.distinct("_st", "_ost"))
        st = f", CASE WHEN {d.distinct('_st', '_ost')} THEN 1 ELSE 0 END AS _cst"
    if d.pg:  # one index probe per staged row, whatever the (stale) statistics say
        src = f"{STAGE} s CROSS JOIN LATERAL (SELECT * FROM {t} WHERE id = s.id OFFSET 0) t"
        q0 = f"SELECT {', '.join(l0)} FROM {src} OFFSET 0"
    else:
        q0 = f"SELECT {', '.join(l0)} FROM {STAGE} s JOIN {t} t ON t.id = s.id"
    q1 = f"SELECT {', '.join(l1)} FROM ({q0}) w"
    q2 = f"SELECT {', '.join(l2)} FROM ({q1}) y"
    q3 = f"SELECT {', '.join(l3)} FROM ({q2}) x"
    return f"SELECT z.*{st} FROM ({q3}) z WHERE {' OR '.join(anyflag)}"


def update_target(d: Dialect, p: Plan) -> str:
    sets = [
        f"{d.name(c)} = CASE WHEN d.c{i} = 1 THEN d.n{i} ELSE t.{d.name(c)} END"
        for i, c in enumerate(p.cols)
    ]
    if p.derive_status:
        sets.append("status = CASE WHEN d._cst = 1 THEN d._st ELSE t.status END")
    sets += [
        "source_system = :system",
        "source_updated_at = d._upd",
        "mapping_name = :mapping_name",
        "mapping_version = :mapping_version",
        "last_run_id = :run_id",
        "last_batch_id = :batch_id",
        "updated_at = :now",
        "field_sources = CASE WHEN f.id IS NULL THEN t.field_sources ELSE f.fs END",
    ]
    t = d.name(p.target.name)
    return (
        f"UPDATE {t} AS t SET {', '.join(sets)} FROM {DIFF} d"
        f" LEFT JOIN {FIELD_SOURCES} f ON f.id = d.id WHERE t.id = d.id"
    )


def change_log(d: Dialect, p: Plan) -> str:
    """One `update` row per changed field, in row order then column order (status last)."""
    parts = []
    for i, c in enumerate(p.cols):
        col = p.target.c[c]
        parts.append(
            f"SELECT id, _n, {i} AS k, {lit(c)} AS f, {d.as_text(col, f'o{i}')} AS ov,"
            f" {d.as_text(col, f'n{i}')} AS nv FROM {DIFF} WHERE c{i} = 1"
        )
    if p.derive_status:
        parts.append(
            f"SELECT id, _n, {len(p.cols)} AS k, 'status' AS f, _ost AS ov, _st AS nv"
            f" FROM {DIFF} WHERE _cst = 1"
        )
    union = " UNION ALL ".join(parts)
    return (
        "INSERT INTO change_log (run_id, batch_id, entity, canonical_id, system, operation,"
        " field, old_value, new_value, changed_at)"
        f" SELECT :run_id, :batch_id, :entity, id, :system, 'update', f, ov, nv, :now"
        f" FROM ({union}) u ORDER BY _n, k"
    )


#: provenance of an inserted row (`oms.entities.PROVENANCE_COLUMNS` but its id): column ->
#: SQL over the staged row `s` and the load's parameters
NEW_ROW_PROVENANCE = {
    "source_system": ":system",
    "source_updated_at": "s._upd",
    "mapping_name": ":mapping_name",
    "mapping_version": ":mapping_version",
    "last_run_id": ":run_id",
    "last_batch_id": ":batch_id",
    "field_sources": "s._fs",
    "created_at": ":now",
    "updated_at": ":now",
    "created_run_id": ":run_id",
    "created_batch_id": ":batch_id",
}


def insert_new(d: Dialect, p: Plan) -> str:
    """Staged rows whose id is not in the store, with provenance; returns their ids."""
    t = d.name(p.target.name)
    cols = ["id", *p.cols]
    values = [f"s.{d.name(c)}" for c in cols]
    if p.derive_status:
        q = {k: (f"s.{k}" if k in p.cols else "NULL") for k in LINE_QTYS}
        cols.append("status")
        values.append(line_status(d, q))
    cols += list(NEW_ROW_PROVENANCE)
    values += list(NEW_ROW_PROVENANCE.values())
    names = ", ".join(d.name(c) for c in cols)
    return (
        f"INSERT INTO {t} ({names}) SELECT {', '.join(values)} FROM {STAGE} s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {t} e WHERE e.id = s.id{PROBE[d.pg]})"
        " RETURNING id"
    )


BINDING_INSERT = (
    "INSERT INTO binding (system, entity, external_id, canonical_id, source_updated_at,"
    " payload_hash, last_run_id, bound_at, updated_at)"
    f" SELECT :system, :entity, s._ext, s.id, s._upd, s._hash, :run_id, :now, :now"
    f" FROM {STAGE} s WHERE s._own = 1 AND s._bound = 0"
)
BINDING_UPDATE = (
    "UPDATE binding AS b SET canonical_id = s.id, source_updated_at = s._upd,"
    " payload_hash = s._hash, last_run_id = :run_id, updated_at = :now"
    f" FROM {STAGE} s WHERE s._own = 1 AND s._bound = 1 AND b.external_id = s._ext"
    " AND b.entity = :entity AND b.system = :system"
)
