"""Resolve a source's `conn_id` into `Credentials`, the same way for the CLI and the DAGs.

Order: `AIRFLOW_CONN_<ID>` in the environment (URI or JSON, read without importing
Airflow), then Airflow's own lookup when Airflow is installed. Inside a task that is
`airflow.sdk.Connection.get` (the secrets backends, then the API server, which also
registers the secret with the task log's masker). Outside a task (the CLI, a script) the
Task SDK's lookup never reads the metadata DB, so the connection is read the way the
`airflow connections` command reads it: the configured secrets backends, then the
metadata DB.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from connectors.credentials import Credentials, build, env_name, from_env
from connectors.errors import ConnectorConfigError

log = logging.getLogger("omshub.credentials")


def resolve(conn_id: str) -> Credentials:
    """The connection `conn_id`; ConnectorConfigError naming where it was looked for."""
    found = from_env(conn_id)
    if found is not None:
        return found
    found, why = _from_airflow(conn_id)
    if found is not None:
        return found
    raise ConnectorConfigError(
        f"connection {conn_id!r} not found: set {env_name(conn_id)} (a URI or JSON) or add it"
        f" to Airflow (`airflow connections add {conn_id} ...`){why}"
    )


def _from_airflow(conn_id: str) -> tuple[Credentials | None, str]:
    """The connection from Airflow, or None and why not (empty when it is simply absent)."""
    try:
        conn = _airflow_connection(conn_id)
    except ImportError:  # omshub without Airflow (a bare CLI install)
        return None, ""
    except Exception as e:  # not found, or no metadata DB reachable from here
        log.debug("Airflow has no connection %r", conn_id, exc_info=True)
        if type(e).__name__ == "AirflowNotFoundException":
            return None, ""
        return None, f"; Airflow's lookup failed: {type(e).__name__}"
    if conn is None:
        return None, ""
    found = build(
        conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=conn.extra_dejson,
    )
    return found, ""


def _airflow_connection(conn_id: str) -> Any:
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    if getattr(runner, "SUPERVISOR_COMMS", None) is not None:  # inside a task
        from airflow.sdk import Connection

        return Connection.get(conn_id)
    from airflow.models.connection import Connection as StoredConnection

    return StoredConnection.get_connection_from_secrets(conn_id)
