"""dlt's Arrow merge of the benchmark rows: the peer reference of bench/load.py.

dlt lives in its own venv (`bench/.dlt-venv`, made by `ensure_venv` on first use) so its
pins never touch omshub's lock. The parent side (`dlt_merge`) runs this same file with
the venv's Python; the child side (`main`) reads the CSV into a typed Arrow table, then
times one `pipeline.run(table, write_disposition="merge", primary_key=...)` into a fresh
dataset and prints one JSON line. Top-level imports are stdlib only, because both
interpreters import this file.

    python bench/dltmerge.py --csv FILE --url URL   # inside the dlt venv
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

VENV = Path(__file__).resolve().parent / ".dlt-venv"
REQUIREMENT = "dlt[postgres,sqlalchemy,parquet]==1.31.*"
KEY = ["order_number", "line_no"]


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv(log: Any = print) -> Path:
    """The dlt venv's Python, creating the venv and installing dlt the first time."""
    python = _venv_python()
    probe = [str(python), "-c", "import dlt, pyarrow, sqlalchemy"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    log(f"creating {VENV} and installing {REQUIREMENT} (once; about a minute)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", REQUIREMENT],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"pip install {REQUIREMENT} failed: {done.stderr.strip()[-800:]}")
    return python


def dlt_url(url: str) -> str:
    """dlt's spelling of a store URL: postgresql:// (its psycopg2) or SQLAlchemy's sqlite.

    dlt refuses PostgreSQL credentials without a password even where the server trusts
    the connection (the local test server does): then a random one-off value is filled in,
    which a trusting server ignores (a real password comes only from the URL given).
    """
    import secrets

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    parsed = parsed.set(drivername="postgresql")
    if not parsed.password:
        parsed = parsed.set(password=secrets.token_hex(8))
    return parsed.render_as_string(hide_password=False)


def dlt_merge(csv_path: Path, url: str, log: Any = print) -> dict[str, Any]:
    """Run the merge in the dlt venv; its JSON result, or ``{"error": reason}``."""
    try:
        python = ensure_venv(log)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        return {"error": f"dlt venv: {e}"}
    with tempfile.TemporaryDirectory(prefix="omshub-dlt-") as work:
        env = {
            **os.environ,
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DLT_DATA_DIR": work,
            "DLT_PROJECT_DIR": work,
        }
        cmd = [str(python), __file__, "--csv", str(csv_path), "--url", dlt_url(url)]
        cmd += ["--work", work]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        err = done.stderr
        at = err.rfind("PipelineStepFailed")
        lines = (err[at:] if at >= 0 else err).strip().splitlines() or ["no output"]
        tail = " ".join(" ".join(lines if at >= 0 else lines[-1:]).split())[:400]
        return {"error": f"dlt merge failed ({done.returncode}): {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _read_table(csv_path: Path) -> Any:
    """The CSV as Arrow with the types a mapped batch would carry (decimals, UTC times)."""
    import pyarrow as pa
    from pyarrow import csv

    types = {
        "line_no": pa.int64(),
        "qty": pa.int64(),
        "unit_price": pa.decimal128(18, 4),
        "ordered_at": pa.timestamp("us", tz="UTC"),
        "updated_at": pa.timestamp("us", tz="UTC"),
    }
    return csv.read_csv(csv_path, convert_options=csv.ConvertOptions(column_types=types))


def main() -> None:
    """Child side: one timed merge of the CSV's rows into a fresh dataset; prints JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--work", default=tempfile.gettempdir())
    args = ap.parse_args()
    import dlt

    started = time.perf_counter()
    table = _read_table(args.csv)
    read_s = time.perf_counter() - started
    if args.url.startswith("postgresql"):
        dest = dlt.destinations.postgres(credentials=args.url)
    else:
        dest = dlt.destinations.sqlalchemy(credentials=args.url)
    pipe = dlt.pipeline(
        pipeline_name="omshub_bench",
        destination=dest,
        dataset_name="dlt_bench",
        pipelines_dir=str(Path(args.work) / "pipelines"),
    )
    started = time.perf_counter()
    pipe.run(table, table_name="order_lines", write_disposition="merge", primary_key=KEY)
    seconds = time.perf_counter() - started
    rows = table.num_rows
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": round(seconds, 3),
                "rows_per_s": round(rows / seconds) if seconds > 0 else None,
                "read_seconds": round(read_s, 3),
                "dlt_version": dlt.__version__,
                "destination": pipe.destination.destination_name,
            }
        )
    )


if __name__ == "__main__":
    main()
