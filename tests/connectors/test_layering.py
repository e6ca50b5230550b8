"""`connectors/` never imports Airflow (DESIGN.md §2): credentials come in as data."""

from __future__ import annotations

import subprocess
import sys


def test_connectors_load_every_transport_without_importing_airflow() -> None:
    code = (
        "import sys\n"
        "from connectors.registry import connector_adapter, formats, transports\n"
        "kinds = sorted(transports()); connector_adapter(); formats()\n"
        "for cls in transports().values():\n"
        "    __import__(cls.__module__)\n"
        "bad = sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.'))\n"
        "print(','.join(kinds)); print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "local_folder" in out[0].split(",")
    assert out[1] == "[]", f"connectors imported Airflow: {out[1]}"
