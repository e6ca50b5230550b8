"""DAG-parse benchmark: the dags/ folder with 100 configured sources, parsed as Airflow does.

    python bench/dagparse.py [--sources 100] [--repeat 3] [--json]

Writes a throwaway project whose config/sources holds ``--sources`` copies of the shipped
source YAMLs under new names (plus the shipped code lists, ownership and mappings), then,
each in a fresh interpreter (``--repeat`` times, median reported):

- ``dagbag_s``: ``DagBag(dag_folder=dags/)`` (Airflow 3.3's DagBag has no
  ``include_examples``; ``AIRFLOW__CORE__LOAD_EXAMPLES=False`` keeps the examples out),
  with Airflow itself already imported: what the DAG processor spends on our folder;
- ``dags_import_s``: executing dags/omshub_sources.py alone after ``airflow.sdk`` is
  imported: the cost of our code (YAML, pydantic, the factory) without DagBag's checks;
- ``airflow_import_s``: importing Airflow and DagBag (paid once per processor, not ours);
- ``process_s``: the whole child, interpreter start to exit.

Target (issue 10): ``dagbag_s`` < 2 s for 100 sources. When slower, run the child under
``python -X importtime`` (``--importtime``) to see what the import costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0
CHILD = """
import json, runpy, sys, time
t0 = time.perf_counter()
how, folder = sys.argv[1], sys.argv[2]
if how == "dagbag":
    from airflow.dag_processing.dagbag import DagBag
    t1 = time.perf_counter()
    bag = DagBag(dag_folder=folder)
    t2 = time.perf_counter()
    out = {"dags": len(bag.dags), "import_errors": {str(k): str(v)[:300] for k, v in
           bag.import_errors.items()}, "file_s": {s.file: s.duration.total_seconds()
           if hasattr(s.duration, "total_seconds") else s.duration for s in bag.dagbag_stats}}
else:
    import airflow.sdk
    t1 = time.perf_counter()
    ns = runpy.run_path(folder + "/omshub_sources.py")
    t2 = time.perf_counter()
    out = {"dags": sum(1 for v in ns.values() if type(v).__name__ == "DAG")}
print(json.dumps({**out, "import_s": t1 - t0, "work_s": t2 - t1}))
"""


def make_project(home: Path, n: int) -> list[str]:
    """``n`` sources, copies of the shipped ones in turn, named ``<shipped>_<i>``."""
    shipped = sorted((ROOT / "config/sources").glob("*.yaml"))
    shutil.copytree(ROOT / "config/codes", home / "config/codes")
    shutil.copytree(ROOT / "mappings", home / "mappings")
    if (ROOT / "config/ownership.yaml").exists():
        shutil.copy(ROOT / "config/ownership.yaml", home / "config")
    out = home / "config/sources"
    out.mkdir(parents=True)
    names = []
    for i in range(n):
        src = shipped[i % len(shipped)]
        data = yaml.safe_load(src.read_text(encoding="utf-8"))
        data["name"] = f"{data['name']}_{i:03d}"[:62]
        data["connector"]["path"] = str(ROOT / str(data["connector"].get("path", "drop")))
        (out / f"{data['name']}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        names.append(data["name"])
    return names


def child_env(home: Path, airflow_home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OMSHUB_HOME": str(home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "false",
    }


def run_child(how: str, env: dict[str, str], importtime: Path | None = None) -> dict[str, Any]:
    """One fresh interpreter; its JSON line plus its wall time (``process_s``)."""
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", CHILD]
    started = time.perf_counter()
    done = subprocess.run(
        [*cmd, how, str(ROOT / "dags")], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"bench/dagparse.py: {how} child failed:\n{done.stderr[-2000:]}")
    if importtime:
        importtime.write_text(done.stderr, encoding="utf-8")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "process_s": wall}


def top_imports(log: Path, n: int = 15) -> list[tuple[float, str]]:
    """The ``n`` costliest imports (cumulative seconds, module) the DAG file made.

    The child imports ``airflow.sdk`` first; only lines logged after that top-level
    import are ours (modules imported once are logged once, where first imported).
    """
    lines = log.read_text(encoding="utf-8").splitlines()
    start = max((i for i, x in enumerate(lines) if x.endswith("| airflow.sdk")), default=-1)
    rows = []
    for line in lines[start + 1 :]:
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1e6, parts[2].rstrip()))
    return sorted(rows, reverse=True)[:n]


def measure(n: int, repeat: int, importtime: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="omshub-dagparse-") as tmp:
        home = Path(tmp) / "project"
        names = make_project(home, n)
        env = child_env(home, Path(tmp) / "airflow")
        run_child("dags", env)  # first start writes airflow.cfg and .pyc files: not timed
        bags = [run_child("dagbag", env) for _ in range(repeat)]
        files = [run_child("dags", env) for _ in range(repeat)]
        out: dict[str, Any] = {
            "sources": len(names),
            "dags": bags[0]["dags"],
            "import_errors": bags[0]["import_errors"],
            "dagbag_s": round(statistics.median(b["work_s"] for b in bags), 3),
            "dags_import_s": round(statistics.median(f["work_s"] for f in files), 3),
            "airflow_import_s": round(statistics.median(b["import_s"] for b in bags), 3),
            "process_s": round(statistics.median(b["process_s"] for b in bags), 3),
            "runs_dagbag_s": [round(b["work_s"], 3) for b in bags],
            "target_s": TARGET_S,
        }
        if importtime:
            log = Path(tmp) / "importtime.log"
            run_child("dags", env, importtime=log)
            out["top_imports"] = [[round(s, 3), m] for s, m in top_imports(log)]
    out["ok"] = out["dagbag_s"] < TARGET_S and out["dags"] == n and not out["import_errors"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--importtime", action="store_true", help="also list the costliest imports")
    args = ap.parse_args()
    r = measure(args.sources, max(1, args.repeat), args.importtime)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(
            f"dags/ with {r['sources']} sources: {r['dags']} DAGs, "
            f"{len(r['import_errors'])} import errors\n"
            f"  DagBag(dag_folder=dags/)    {r['dagbag_s']:.2f} s  (target < {TARGET_S:.0f} s: "
            f"{'ok' if r['ok'] else 'MISSED'}; runs {r['runs_dagbag_s']})\n"
            f"  dags/omshub_sources.py alone {r['dags_import_s']:.2f} s\n"
            f"  import of Airflow + DagBag  {r['airflow_import_s']:.2f} s (not ours)\n"
            f"  whole child process         {r['process_s']:.2f} s"
        )
        for seconds, module in r.get("top_imports", []):
            print(f"    {seconds:6.3f} s  {module}")
    sys.exit(0 if r["ok"] else 1)


if __name__ == "__main__":
    main()
