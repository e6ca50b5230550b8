"""Resolve a source's `conn_id` into `Credentials`, the same way for the CLI and the DAGs.

Order: `AIRFLOW_CONN_<ID>` in the environment (URI or JSON, read without importing
Airflow), then Airflow's own lookup (`airflow.sdk.Connection.get`: its secrets backends,
the metadata DB outside a worker, the API server inside one), when Airflow is installed.
Airflow also registers the secret with its log masker, so a task log never shows it.
"""

from __future__ import annotations

import logging

from connectors.credentials import Credentials, build, env_name, from_env
from connectors.errors import ConnectorConfigError

log = logging.getLogger("omshub.credentials")


def resolve(conn_id: str) -> Credentials:
    """The connection `conn_id`; ConnectorConfigError naming where it was looked for."""
    found = from_env(conn_id)
    if found is not None:
        return found
    found = _from_airflow(conn_id)
    if found is not None:
        return found
    raise ConnectorConfigError(
        f"connection {conn_id!r} not found: set {env_name(conn_id)} (a URI or JSON) or add it"
        f" to Airflow (`airflow connections add {conn_id} ...`)"
    )


def _from_airflow(conn_id: str) -> Credentials | None:
    try:
        from airflow.sdk import Connection
    except ImportError:  # omshub without Airflow (a bare CLI install)
        return None
    try:
        conn = Connection.get(conn_id)
    except Exception as e:  # not found, or no metadata DB reachable from here
        log.debug("Airflow has no connection %r: %s", conn_id, type(e).__name__)
        return None
    if conn is None:
        return None
    return build(
        conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=conn.extra_dejson,
    )
