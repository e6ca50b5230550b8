"""`make demo`: run every source DAG through Airflow (real DAG runs via `dag.test()`).

Runs in one process so Airflow's in-process execution API starts once. Prints a table per
source and entity (extracted, loaded, changed, quarantined, failed) read back from the
store, and exits non-zero when a DagRun failed (with the run's message) or a DAG did not
parse. Bad rows that go to quarantine are not a failure: the demo data has some on purpose.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(width=max(Console().width, 120))

#: Between two partners' DAGs the demo does what an OMS does: ACME's purchase orders,
#: loaded by its inbox DAG, are released to the 3PL Harborline as our 940s before
#: Harborline's 945s for them arrive (a 945 names the order a 940 of ours sent).
BEFORE: dict[str, tuple[str, str, list[str]]] = {
    "omshub_source_edi_harborline_3pl": (
        "harborline_3pl",
        "940",
        ["acme_retail:4500012345", "acme_retail:4500012346"],
    ),
}


def _before(dag_id: str) -> None:
    step = BEFORE.get(dag_id)
    if step is None:
        return
    from oms.db import get_engine
    from omshub.edi.send import send

    partner, set_id, keys = step
    report = send(get_engine(), partner, set_id, keys)
    console.print(
        f"sent {len(report.references)} x {set_id} to {partner} (ISA13 {report.isa_control})"
    )


def run_message(run_id: str) -> str:
    """Why a run did not succeed, as the store recorded it (the check_run task says the same)."""
    from sqlalchemy import select

    from oms.db import get_engine
    from oms.models import SyncRun, table

    sr = table(SyncRun)
    with get_engine().connect() as conn:
        row = conn.execute(select(sr.c.status, sr.c.message).where(sr.c.run_id == run_id)).first()
    if row is None:
        return "the run never opened (see the task logs)"
    return f"{row.status}: {row.message or 'no message'}"


def run_dags(dag_folder: Path, only: list[str] | None = None) -> dict[str, str]:
    """Parse `dag_folder` with Airflow's DagBag and `dag.test()` each source DAG."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_folder))
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            console.print(f"[red]DAG import error[/] {path}:\n{error}")
        raise SystemExit(2)
    states: dict[str, str] = {}
    for dag_id in sorted(bag.dag_ids):
        if not dag_id.startswith("omshub_source_"):
            continue
        if only and dag_id.removeprefix("omshub_source_") not in only:
            continue
        dag = bag.get_dag(dag_id)
        assert dag is not None
        _before(dag_id)
        t0 = time.monotonic()
        run = dag.test()
        state = str(getattr(run, "state", "unknown"))
        states[dag_id] = state
        took = time.monotonic() - t0
        if state == "success":
            console.print(f"[green]{dag_id}[/]: {state} in {took:.1f}s")
        else:
            why = escape(run_message(str(run.run_id)))
            console.print(f"[red]{dag_id}[/]: {state} in {took:.1f}s: {why}")
    return states


def print_table(sources: list[str] | None = None) -> None:
    from oms.db import get_engine
    from omshub.report import last_runs

    table = Table(title="omshub demo: last run per source and entity")
    cols: tuple[str, ...] = ("source", "entity", "extracted", "loaded", "stale", "changed")
    cols += ("quarantined", "failed", "status")
    for c in cols:
        table.add_column(c, justify="left" if c in ("source", "entity", "status") else "right")
    for r in last_runs(get_engine()):
        if sources and r["source"] not in sources:
            continue
        table.add_row(
            *[str(r.get(c, "")) for c in cols], style=None if r["status"] == "success" else "red"
        )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    home = Path(os.environ.get("OMSHUB_HOME", Path.cwd()))
    from oms.db import database_url, upgrade

    upgrade()
    console.print(f"store: {database_url().split('@')[-1]}")
    from demo.emulators.services import demo_services

    with demo_services(home) as served:
        for conn_id, url in served.items():
            console.print(f"serving {conn_id} (vendor API emulator) at {url}")
        states = run_dags(home / "dags", args or None)
    print_table(args or None)
    failed = [d for d, s in states.items() if s != "success"]
    if failed:
        console.print(f"[red]failed runs:[/] {', '.join(failed)}")
        return 1
    console.print(
        f"[green]{len(states)} source DAG runs succeeded[/]; "
        "see `omshub stats` and `omshub quarantine list`"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
