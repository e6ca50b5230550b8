"""`mapping test --watch`: a save of a mapping, its sample or a code list re-runs the
mappings it touches, in the same process (real file events, watchfiles)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from projects import use_project

from omshub.mappingtest.runner import Result, run_mapping_test
from omshub.mappingtest.watch import watch


def _wait(cond: threading.Event, timeout: float = 20.0) -> None:
    assert cond.wait(timeout), "no re-run after the save"
    cond.clear()


def test_a_save_re_runs_the_mappings_it_touches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = use_project(tmp_path, monkeypatch)
    shop = home / "mappings/shop"
    (shop / "samples").mkdir()
    sample = shop / "samples/orders.json"
    sample.write_text(json.dumps({"orders": [{"id": 1, "number": "A", "status": "paid"}]}))
    (shop / "other.yaml").write_text(
        "mapping: shop.other\nversion: 1\nentity: product\nfields: {sku: id}\n"
        "tests: [{name: one, given: [{id: X}], expect: {product: [{sku: X}]}}]\n"
    )
    runs: list[tuple[list[str], list[Result], float]] = []
    ran, stop = threading.Event(), threading.Event()

    def run(args: list[str], changed: set[Path]) -> list[Result]:
        results = [run_mapping_test(a, update=True) for a in args]
        runs.append((args, results, time.perf_counter()))
        ran.set()
        return results

    everything = [str(shop / "orders.yaml"), str(shop / "other.yaml")]
    thread = threading.Thread(target=watch, args=(lambda: everything, run, stop), daemon=True)
    thread.start()
    try:
        _wait(ran)
        assert [r.ok for r in runs[0][1]] == [True, True]
        time.sleep(0.3)  # the watcher is set up after the first run
        saved = time.perf_counter()
        sample.write_text(json.dumps({"orders": [{"id": 1, "number": "B", "status": "paid"}]}))
        _wait(ran)
        args, results, done = runs[-1]
        assert args == [str(shop / "orders.yaml")]  # the other mapping is not re-run
        assert results[0].updated and results[0].differences[0].actual == "B"
        assert done - saved < 5  # (< 0.5 s on a quiet machine: see docs)
        code_list = home / "config/codes/shopify_financial_status.yaml"
        code_list.write_text(code_list.read_text() + "\n")
        _wait(ran)
        assert sorted(runs[-1][0]) == sorted(everything)  # a code list re-runs them all
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
