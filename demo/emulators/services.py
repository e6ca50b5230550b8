"""The demo's vendor APIs, started for `make demo` and for the test session.

`demo_services(home)` starts every emulator a shipped demo source connects to, on
127.0.0.1 and a free port, with a random secret for this process only, and sets the
source's connection (`AIRFLOW_CONN_<ID>`) in the environment, the way an operator would
set a real one; child processes (the CLI, Airflow task runners) inherit it. On exit the
emulators stop and the variables are put back as they were.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from demo.emulators import DEMO_CLIENT_ID, connection_uri, start_salesforce_demo

#: connection id -> what serves it (config/sources/salesforce_crm.yaml uses salesforce_demo)
SALESFORCE_CONN = "salesforce_demo"


@contextmanager
def demo_services(home: Path) -> Iterator[dict[str, str]]:
    """Serve the demo APIs; yields {conn_id: base_url}."""
    env = f"AIRFLOW_CONN_{SALESFORCE_CONN.upper()}"
    before = os.environ.get(env)
    with ExitStack() as stack:
        secret = secrets.token_urlsafe(24)
        base_url, stop = start_salesforce_demo(Path(home), secret)
        stack.callback(stop)
        os.environ[env] = connection_uri(base_url, DEMO_CLIENT_ID, secret)
        try:
            yield {SALESFORCE_CONN: base_url}
        finally:
            if before is None:
                os.environ.pop(env, None)
            else:
                os.environ[env] = before
