"""The benches themselves: small runs through the real scripts, checked for sense.

Not part of `make test` (testpaths is tests/): run with
`.venv/bin/python -m pytest -q bench/tests -x`. The load bench needs the PostgreSQL server
tests/pgserver.py finds and, for the dlt baseline, `bench/.dlt-venv` (made on first use).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(BENCH)]

from datagen import order_lines_frame  # noqa: E402


def test_changed_share_changes_that_share_of_orders_and_nothing_else() -> None:
    """10% of the orders change (status, every line's qty, newer updated_at); the rest stay."""
    base = order_lines_frame(20_000, seed=3)
    changed = order_lines_frame(20_000, seed=3, changed_share=0.1)
    assert list(base.columns) == list(changed.columns)
    assert (base[["order_number", "line_no", "sku", "unit_price"]] == changed[
        ["order_number", "line_no", "sku", "unit_price"]
    ]).all().all()  # fmt: skip
    diff = (base != changed).any(axis=1)
    orders = base["order_number"].nunique()
    touched = base.loc[diff, "order_number"].unique()
    assert len(touched) == round(0.1 * orders)
    in_touched = base["order_number"].isin(touched)
    assert (in_touched == diff).all()  # every line of a changed order differs
    assert (base.loc[in_touched, "status"] != changed.loc[in_touched, "status"]).all()
    assert (base.loc[in_touched, "qty"] != changed.loc[in_touched, "qty"]).all()
    old = pd.to_datetime(base["updated_at"], format="ISO8601")
    new = pd.to_datetime(changed["updated_at"], format="ISO8601")
    newest_old = old.groupby(base["order_number"]).transform("max")
    assert (new[in_touched] > newest_old[in_touched]).all()  # recency guard lets them in
    assert changed["qty"].between(1, 5).all()


def run_json(*args: str, timeout: float = 600) -> dict:
    done = subprocess.run(
        [sys.executable, *args, "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_load_bench_runs_the_pipeline_and_reports_every_headline_figure(db: str) -> None:
    rows = 600
    r = run_json(str(BENCH / "load.py"), "--rows", str(rows), "--db", db, "--cold")
    for key in (
        "first_rows_per_s",
        "nochange_rows_per_s",
        "changed10_rows_per_s",
        "staged_upsert_rows_per_s",
        "copy_rows_per_s",
        "peak_rss_mb",
    ):
        assert isinstance(r[key], int | float) and r[key] > 0, key
    assert r["db"] == db and r["rows"] == rows
    assert r["store_rows"]["order_line"] == rows
    assert r["rows_written_nochange"] == 0
    orders = r["store_rows"]["sales_order"]
    changed = r["changed10"]["entities"]
    assert changed["sales_order"]["changed"] == round(0.1 * orders)
    assert 0 < changed["order_line"]["changed"] < rows
    assert r["baselines"]["upsert"]["unchanged"]["rows_written"] == 0
    # the change floor re-applies every row the 10%-changed run wrote, table by table
    floor = r["change_floor"]
    assert floor["tables"] == floor["run_wrote"] and floor["rows_written"] > 0
    assert r["changed10_ceiling_rows_per_s"] > 0 and r["changed10_write_floor_s"] > 0
    # dlt: a rate, or null with the reason (never silently missing)
    assert (r["dlt_arrow_rows_per_s"] or 0) > 0 or r.get("dlt_error")


def test_dagparse_bench_counts_the_generated_sources() -> None:
    r = run_json(str(BENCH / "dagparse.py"), "--sources", "8", "--repeat", "1")
    assert r["sources"] == 8 and r["dags"] == 8 and not r["import_errors"]
    assert r["dags_import_s"] > 0 and 0 < r["dagbag_s"] < r["process_s"]
