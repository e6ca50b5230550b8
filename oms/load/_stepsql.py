"""SQL pieces shared by the set-based snapshot and post-load steps (`oms.load.stock`,
`oms.load.lines`), so one statement text serves PostgreSQL and SQLite.

Two things differ between the backends and are hidden here:

- **Exact decimals.** PostgreSQL stores quantities as NUMERIC and does exact arithmetic.
  SQLite stores them as decimal text (`oms.types.Money`), and its own arithmetic on text
  is floating point (0.3 - 0.1 = 0.19999999999999998). On SQLite, `num()` therefore
  reads a quantity as an exact integer of ten-thousandths (the store's scale, 4), sums
  and compares those, and `out()` / `text()` turn one back into decimal text.
- **Staging.** A step first copies its inputs into a TEMP table: COPY on PostgreSQL
  (psycopg 3, or psycopg2's `copy_expert`), `executemany` on SQLite.

Times on SQLite are fixed-width UTC text, so they compare correctly as strings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from oms.types import UTCDateTime

#: scale of the store's quantities (NUMERIC(18,4)); SQLite works in units of 10^-SCALE
SCALE = 4
_UNIT = 10**SCALE
ColKind = Literal["text", "num", "time", "int"]
_PG_TYPES = {"text": "TEXT", "num": "NUMERIC(18,4)", "time": "TIMESTAMPTZ", "int": "BIGINT"}
#: PostgreSQL work_mem while a step runs (per sort or hash node; a step runs a few)
WORK_MEM = "64MB"
_SQLITE_TIME = "%Y-%m-%dT%H:%M:%SZ"  # Arrow prints %S with the fraction: ...05.000006Z


class StepSql:
    """Dialect pieces for one connection (see the module docstring)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    # --- exact numbers -------------------------------------------------------------------

    def num(self, col: str) -> str:
        """`col` (a stored quantity) as an exact number: NUMERIC, or SQLite ten-thousandths.

        On SQLite, below 10^10 (every real stock or order quantity) the float route is
        exact: the nearest double of a 4-decimal number times 10^4 is within 0.01 of an
        integer there, and rounding recovers it, at C speed. Larger values take the
        exact but slower text route.
        """
        if self.pg:
            return col
        real = f"CAST({col} AS REAL)"
        return (
            f"(CASE WHEN {col} IS NULL THEN NULL WHEN abs({real}) < 1e10"
            f" THEN CAST(round({real} * {_UNIT}) AS INTEGER) ELSE {self._num_text(col)} END)"
        )

    @staticmethod
    def _num_text(col: str) -> str:
        """Decimal text -> ten-thousandths by string surgery (exact at any size)."""
        bare = f"ltrim({col}, '-+')"
        dot = f"instr({bare}, '.')"
        whole = (
            f"CAST(CASE WHEN {dot} > 0 THEN substr({bare}, 1, {dot} - 1) ELSE {bare} END"
            " AS INTEGER)"
        )
        frac = (
            f"CASE WHEN {dot} > 0 THEN CAST(substr(substr({bare}, {dot} + 1) || '0000', 1,"
            f" {SCALE}) AS INTEGER) ELSE 0 END"
        )
        sign = f"CASE WHEN substr({col}, 1, 1) = '-' THEN -1 ELSE 1 END"
        return f"(({sign}) * ({whole} * {_UNIT} + {frac}))"

    def out(self, expr: str) -> str:
        """An exact number (`num`) as the value a quantity column stores.

        `expr` should be a column (it is repeated on SQLite).
        """
        if self.pg:
            return expr
        return (
            f"(CASE WHEN {expr} IS NULL THEN NULL WHEN abs({expr}) < 100000000000000"
            f" THEN printf('%.{SCALE}f', {expr} / {_UNIT}.0) ELSE {self._text_exact(expr)} END)"
        )

    def text(self, expr: str) -> str:
        """An exact number as normalised decimal text (`oms.loader.as_text`: 1.5, 10, -3).

        `expr` should be a column (it is repeated on SQLite).
        """
        if self.pg:
            return f"CAST(trim_scale({expr}) AS TEXT)"
        return f"rtrim(rtrim({self.out(expr)}, '0'), '.')"

    @staticmethod
    def _text_exact(expr: str) -> str:
        digits = f"(abs({expr}) / {_UNIT}) || '.' || printf('%0{SCALE}d', abs({expr}) % {_UNIT})"
        return f"(CASE WHEN {expr} < 0 THEN '-' ELSE '' END) || {digits}"

    def distinct(self, a: str, b: str) -> str:
        """Null-safe "differs" (NULL vs NULL is no difference)."""
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    # --- statements and temp tables ------------------------------------------------------

    def run(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.conn.execute(text(sql), dict(params or {}))

    @contextlib.contextmanager
    def tuned(self) -> Iterator[None]:
        """PostgreSQL: settings for a step's few big statements, restored after.

        No JIT: the planner's cost of per-row subplans over a staged table crossed the
        JIT threshold, and compiling took 0.4 s of a 2.7 s statement that it did not
        speed up (EXPLAIN ANALYZE, 100k lines). More `work_mem`: with the default 4 MB
        the grouped sums of 200k lines spilled to disk in 25 batches.
        """
        if not self.pg:
            yield
            return
        old = self.run("SELECT current_setting('jit'), current_setting('work_mem')").one()
        self.run(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', :w, true)",
            {"w": WORK_MEM},
        )
        try:
            yield
        finally:
            self.run(
                "SELECT set_config('jit', :j, true), set_config('work_mem', :w, true)",
                {"j": old[0], "w": old[1]},
            )

    def time(self, value: dt.datetime | None) -> Any:
        """A time as this backend stores it (a bind parameter)."""
        return UTCDateTime().process_bind_param(value, self.conn.dialect)

    def read_time(self, value: Any) -> dt.datetime | None:
        """A stored time read back by a raw statement, as an aware UTC datetime."""
        return UTCDateTime().process_result_value(value, self.conn.dialect)

    def temp(self, name: str, columns: Sequence[tuple[str, ColKind]]) -> None:
        """A fresh, empty TEMP table (dropped at commit on PostgreSQL; `drop` frees it)."""
        self.drop(name)
        if self.pg:
            cols = ", ".join(f"{c} {_PG_TYPES[k]}" for c, k in columns)
            self.run(f"CREATE TEMP TABLE {name} ({cols}) ON COMMIT DROP")
        else:
            cols = ", ".join(f"{c} {'INTEGER' if k == 'int' else 'TEXT'}" for c, k in columns)
            self.run(f"CREATE TEMP TABLE {name} ({cols})")

    def temp_as(self, name: str, select: str, params: Mapping[str, Any] | None = None) -> None:
        """A TEMP table holding the result of `select`."""
        self.drop(name)
        tail = " ON COMMIT DROP" if self.pg else ""
        self.run(f"CREATE TEMP TABLE {name}{tail} AS {select}", params)
        self.analyze(name)

    def analyze(self, name: str) -> None:
        """PostgreSQL: statistics for a TEMP table (autovacuum never sees one), so joins
        against it are planned for its real size, not a guess of a few hundred rows."""
        if self.pg:
            self.run(f"ANALYZE {name}")

    def drop(self, *names: str) -> None:
        for name in names:
            self.run(f"DROP TABLE IF EXISTS {name}")

    def stage_rows(
        self,
        name: str,
        columns: Sequence[tuple[str, ColKind]],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        """A TEMP table of Python rows whose values are already as the backend takes them
        (text, int, Decimal; times through `time`)."""
        self.temp(name, columns)
        cols = ", ".join(c for c, _ in columns)
        raw: Any = self.conn.connection.driver_connection
        if not self.pg:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows)
            return
        cur = raw.cursor()
        if hasattr(cur, "copy"):  # psycopg 3
            with cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            self.analyze(name)
            return
        self.stage_table(
            name,
            columns,
            pa.Table.from_pylist(
                [dict(zip([c for c, _ in columns], r, strict=True)) for r in rows]
            ),
        )

    def stage_table(self, name: str, columns: Sequence[tuple[str, ColKind]], tbl: pa.Table) -> None:
        """A TEMP table of an Arrow table's columns (named as in `columns`, in that order)."""
        self.temp(name, columns)
        names = [c for c, _ in columns]
        tbl = tbl.select(names)
        if self.pg:
            self._copy_csv(name, names, tbl)
            self.analyze(name)
            return
        cols = [self._sqlite_column(tbl.column(c)) for c in names]
        marks = ", ".join("?" for _ in names)
        raw: Any = self.conn.connection.driver_connection
        raw.executemany(
            f"INSERT INTO {name} ({', '.join(names)}) VALUES ({marks})", zip(*cols, strict=True)
        )

    @staticmethod
    def _sqlite_column(col: pa.ChunkedArray) -> list[Any]:
        """Values as `oms.types` stores them on SQLite: decimal text, fixed-width UTC text."""
        if pa.types.is_decimal(col.type):
            return pc.cast(col, pa.string()).to_pylist()  # type: ignore[no-any-return]
        if pa.types.is_timestamp(col.type):
            utc = col if col.type.tz is not None else pc.assume_timezone(col, "UTC")
            return pc.strftime(utc, format=_SQLITE_TIME).to_pylist()  # type: ignore[no-any-return]
        return col.to_pylist()  # type: ignore[no-any-return]

    def _copy_csv(self, name: str, names: list[str], tbl: pa.Table) -> None:
        """COPY an Arrow table as CSV: Arrow writes it in C, PostgreSQL parses it in C."""
        buf = io.BytesIO()
        opts = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        pacsv.write_csv(tbl, buf, opts)
        sql = f"COPY {name} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
        raw: Any = self.conn.connection.driver_connection
        cur = raw.cursor()
        if hasattr(cur, "copy"):  # psycopg 3
            with cur.copy(sql) as copy:
                copy.write(buf.getvalue())
        else:  # psycopg2
            buf.seek(0)
            cur.copy_expert(sql, buf)
