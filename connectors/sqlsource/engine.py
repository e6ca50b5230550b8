"""The source database: its SQLAlchemy URL, a read-only engine, and errors in one line.

The URL names its driver (`postgresql+psycopg`, `mysql+pymysql`): a bare `postgresql://`
means psycopg 3 to SQLAlchemy 2.1 and psycopg2 to other tools. SQLite files are opened
read-only (`mode=ro`), relative to the project; a missing file is an error, never a new
empty database. PostgreSQL and MySQL sessions run read-only transactions in UTC, so a
`query` cannot write and times come back in UTC; both are set by statements when a session
starts, not by startup options, which poolers such as PgBouncer refuse.
Everything SQLAlchemy is imported in the functions (DAG files parse this module).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.credentials import Credentials
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.sqlsource.config import SqlConfig

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

#: connection type -> SQLAlchemy driver name
DRIVERS = {"postgres": "postgresql+psycopg", "mysql": "mysql+pymysql", "sqlite": "sqlite"}
#: connection extras passed on to the driver as URL query keys
PASSED_EXTRAS = {
    "postgres": (
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "application_name",
        "target_session_attrs",
    ),
    "mysql": ("charset", "ssl_ca", "ssl_cert", "ssl_key"),
    "sqlite": (),
}


def source_url(config: SqlConfig, creds: Credentials | None, base: Path) -> URL:
    """The database's URL, driver named, from the YAML `url` or the connection."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if config.url is not None:
        try:
            url = make_url(config.url)
        except ArgumentError:
            raise ConnectorConfigError("connector.url is not a SQLAlchemy URL") from None
        backend = url.get_backend_name()
        if "+" not in url.drivername:
            kind = "postgres" if backend == "postgresql" else backend
            url = url.set(drivername=DRIVERS.get(kind, url.drivername))
    else:
        url = _from_connection(config, creds)
    if config.database:
        url = url.set(database=config.database)
    if url.get_backend_name() == "sqlite":
        url = url.set(database=str(_sqlite_path(url.database, base)))
    return url


def _from_connection(config: SqlConfig, creds: Credentials | None) -> URL:
    from sqlalchemy.engine import URL

    if creds is None:
        raise ConnectorConfigError(f"connection {config.conn_id!r} was not resolved")
    kind = creds.conn_type or ""
    driver = DRIVERS.get(kind)
    if driver is None:
        raise ConnectorConfigError(
            f"connection {creds.conn_id!r}: conn_type {kind or None!r} is not a SQL source"
            f" (known: {', '.join(sorted(DRIVERS))}, postgresql)"
        )
    query = {
        k: str(v)
        for k, v in creds.extra.items()
        if k in PASSED_EXTRAS[kind] and isinstance(v, str | int)
    }
    if kind == "sqlite":
        return URL.create(driver, database=creds.schema or creds.host)
    return URL.create(
        driver,
        username=creds.login,
        password=creds.secret("password"),
        host=creds.host,
        port=creds.port,
        database=creds.schema,
        query=query,
    )


def _sqlite_path(database: str | None, base: Path) -> Path:
    if not database or database == ":memory:":
        raise ConnectorConfigError("a SQLite source needs a file (the connection's schema)")
    path = Path(database).expanduser()
    return path if path.is_absolute() else base / path


#: statements each new session runs first: read-only transactions, times in UTC
SESSION = {
    "postgresql": (
        "SET TIME ZONE 'UTC'",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    ),
    "mysql": ("SET time_zone = '+00:00'", "SET SESSION TRANSACTION READ ONLY"),
    "mariadb": ("SET time_zone = '+00:00'", "SET SESSION TRANSACTION READ ONLY"),
}


def create(url: URL, timeout: float) -> Engine:
    """A read-only engine for `url` (no pool: one connection per fetch)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import NoSuchModuleError
    from sqlalchemy.pool import NullPool

    backend = url.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite(Path(url.database or ""), timeout)
        args = {"connect_timeout": max(int(timeout), 1)}
        engine = create_engine(url, poolclass=NullPool, connect_args=args)
    except NoSuchModuleError:
        raise ConnectorConfigError(f"no SQLAlchemy dialect for {url.drivername!r}") from None
    except ModuleNotFoundError as e:
        raise ConnectorConfigError(
            f"the driver for {url.drivername} is not installed (module {e.name!r})"
        ) from None
    statements = SESSION.get(backend, ())

    @event.listens_for(engine, "connect")
    def _session(dbapi_conn: Any, _record: Any) -> None:
        if statements:
            cur = dbapi_conn.cursor()
            try:
                for sql in statements:
                    cur.execute(sql)
            finally:
                cur.close()
            dbapi_conn.commit()

    return engine


def _sqlite(path: Path, timeout: float) -> Engine:
    """SQLite opened read-only through a URI, so a missing file is an error."""
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    if not path.is_file():
        raise ConnectorError(f"SQLite file {path} does not exist")
    uri = f"{path.resolve().as_uri()}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)

    return create_engine("sqlite://", creator=connect, poolclass=NullPool)


#: messages of errors that no retry mends (SQLite reports them as OperationalError)
_CONFIG_FAULTS = ("no such table", "no such column", "syntax error", "read-only transaction")


def describe(e: BaseException, where: str, secrets: list[str]) -> Exception:
    """A database error as one typed line: a wrong table, column or query is the config's
    fault (ConnectorConfigError), anything else may pass (ConnectorError, retried)."""
    from sqlalchemy.exc import DBAPIError, NotSupportedError, ProgrammingError

    orig = getattr(e, "orig", None) or e
    text = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    for secret in secrets:
        text = text.replace(secret, "***")
    message = f"{where}: {text}"
    config = isinstance(e, ProgrammingError | NotSupportedError) or (
        isinstance(e, DBAPIError) and any(s in text for s in _CONFIG_FAULTS)
    )
    return ConnectorConfigError(message) if config else ConnectorError(message)
