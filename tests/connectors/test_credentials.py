"""Credentials: `AIRFLOW_CONN_<ID>` read as Airflow reads it, secrets that never print,
and the fallback to a connection stored in Airflow's metadata DB."""

from __future__ import annotations

import json
import logging
import pprint
import traceback
from typing import Any

import pytest

from connectors.credentials import (
    Credentials,
    Secret,
    build,
    env_name,
    env_resolver,
    from_env,
    from_uri,
    is_secret_key,
)
from connectors.errors import ConnectorConfigError, ConnectorError

# URIs as `airflow connections` documents them; each is parsed by Airflow itself too
URIS = [
    "postgres://erp%20reader:p%40ss%2Fw%3Ard@db.example.com:5433/erp_prod",
    "postgresql://u:pw@db:5432/db?sslmode=require&application_name=omshub",
    "sftp://inbox:s3cret@sftp.example.com:2222?__extra__="
    + json.dumps({"known_hosts": "sftp.example.com ssh-ed25519 AAAA", "private_key": "PEM"}),
    "http://https%3A%2F%2Fshop.example.com",
    "http://https://api:tok3n@shop.example.com:8443/admin/api",
    "sqlite:////var/lib/erp/erp.db",
    "google-cloud-platform://?project=acme",
    "ftp://USER@Host.Example.COM",
    "http://h?key=&other=%2Fx",
]


def fields(creds: Credentials) -> dict[str, Any]:
    return {
        "conn_type": creds.conn_type,
        "host": creds.host,
        "port": creds.port,
        "login": creds.login,
        "password": creds.secret(),
        "schema": creds.schema,
        "extra": {
            k: creds.secret(k) if isinstance(v, Secret) else v for k, v in creds.extra.items()
        },
    }


def airflow_fields(conn: Any) -> dict[str, Any]:
    return {
        "conn_type": conn.conn_type,
        "host": conn.host or None,
        "port": conn.port,
        "login": conn.login or None,
        "password": conn.password or None,
        "schema": conn.schema or None,
        "extra": conn.extra_dejson,
    }


@pytest.mark.parametrize("uri", URIS)
def test_a_uri_reads_as_airflow_reads_it(uri: str) -> None:
    from airflow.sdk import Connection

    assert fields(from_uri("x", uri)) == airflow_fields(Connection.from_uri(uri, conn_id="x"))


def test_uri_parts_are_decoded() -> None:
    c = from_uri("erp", URIS[0])
    assert (c.conn_type, c.host, c.port, c.login, c.schema) == (
        "postgres",
        "db.example.com",
        5433,
        "erp reader",
        "erp_prod",
    )
    assert c.secret() == "p@ss/w:rd"
    assert from_uri("f", URIS[5]).schema == "/var/lib/erp/erp.db"  # an absolute SQLite path
    assert from_uri("s", URIS[4]).host == "https://shop.example.com"
    extra = from_uri("p", URIS[1]).extra
    assert extra == {"sslmode": "require", "application_name": "omshub"}


def test_extra_json_holds_the_secrets_as_secrets() -> None:
    c = from_uri("inbox", URIS[2])
    assert c.extra["known_hosts"] == "sftp.example.com ssh-ed25519 AAAA"
    assert isinstance(c.extra["private_key"], Secret)
    assert c.secret("private_key") == "PEM"
    assert sorted(c.secrets()) == ["PEM", "s3cret"]


def test_the_json_form(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {
        "conn_type": "postgresql",
        "host": "db",
        "port": "5432",
        "login": "reader",
        "password": "pw",
        "schema": "erp",
        "extra": {"sslmode": "require", "oauth": {"client_secret": "cs", "client_id": "ci"}},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ERP_JSON", json.dumps(doc))
    c = env_resolver("erp_json")
    assert (c.conn_type, c.host, c.port, c.login, c.schema) == (
        "postgres",
        "db",
        5432,
        "reader",
        "erp",
    )
    assert c.secret() == "pw"
    assert c.extra["oauth"]["client_id"] == "ci"
    assert isinstance(c.extra["oauth"]["client_secret"], Secret)  # nested secrets too
    assert sorted(c.secrets()) == ["cs", "pw"]
    # `extra` as a JSON string (what `airflow connections export --format json` writes)
    monkeypatch.setenv("AIRFLOW_CONN_ERP_JSON", json.dumps({**doc, "extra": '{"a": 1}'}))
    assert env_resolver("erp_json").extra == {"a": 1}


def test_same_credentials_from_the_uri_and_the_json_form(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import Connection

    uri = URIS[2]
    monkeypatch.setenv("AIRFLOW_CONN_A", uri)
    monkeypatch.setenv("AIRFLOW_CONN_B", Connection.from_uri(uri, conn_id="b").as_json())
    assert fields(env_resolver("a")) == fields(env_resolver("b"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a uri", "neither a connection URI"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "neither a connection URI"),
        ('{"extra": "{nope"}', "`extra` is not valid JSON"),
        ('{"port": "http"}', "port 'http' is not a number"),
        ("postgres://db:port/x", "the port is not a number"),
        ("http://h?__extra__={bad", "__extra__ is not valid JSON"),
        ("http://h?__extra__=[1]", "__extra__ must be a JSON object"),
    ],
)
def test_a_malformed_connection_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BAD", value)
    with pytest.raises(ConnectorConfigError, match=r"(AIRFLOW_CONN_BAD|connection 'bad')") as e:
        from_env("bad")
    assert message in str(e.value)


def test_a_missing_connection_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    from omshub.credentials import resolve

    monkeypatch.delenv("AIRFLOW_CONN_SHOP_API", raising=False)
    assert from_env("shop_api") is None
    assert env_name("shop_api") == "AIRFLOW_CONN_SHOP_API"
    for lookup in (env_resolver, resolve):
        with pytest.raises(ConnectorConfigError) as e:
            lookup("shop_api")
        assert "connection 'shop_api' not found: set AIRFLOW_CONN_SHOP_API" in str(e.value)


def test_a_secret_never_prints(caplog: pytest.LogCaptureFixture) -> None:
    creds = build(
        "shop",
        host="shop.example.com",
        login="omshub",
        password="hunter2-PASSWORD",
        extra={"api_key": 987654321, "nested": [{"refresh_token": "hunter2-REFRESH"}]},
    )
    clear = ["hunter2", "987654321"]
    log = logging.getLogger("omshub.test")
    with caplog.at_level(logging.DEBUG):
        log.info("connecting with %s / %r / %s", creds, creds, creds.password)
        log.info(f"connecting as {creds} {creds.password} {creds.password!r}")
        try:
            raise ConnectorError(f"login refused for {creds}: {creds.password}")
        except ConnectorError:
            log.exception("failed")
    try:
        raise ValueError(creds.password)
    except ValueError as e:
        shown = "".join(traceback.format_exception(e))
    texts = [
        caplog.text,
        shown,
        str(creds),
        repr(creds),
        pprint.pformat(creds),
        f"{creds.password}",
        "%s %r" % (creds.password, creds.password),  # noqa: UP031
        "{}".format(creds.extra),  # noqa: UP032
    ]
    for text in texts:
        assert not any(c in text for c in clear), text
    assert "***" in caplog.text
    # the one way out, for the transport that sends it
    assert creds.secret() == "hunter2-PASSWORD"
    assert creds.secret("api_key") == "987654321"
    assert sorted(creds.secrets()) == ["987654321", "hunter2-PASSWORD", "hunter2-REFRESH"]


def test_secret_compares_by_value_and_has_no_other_way_out() -> None:
    s = Secret("x-token")
    assert s == Secret("x-token") and s != "x-token" and s != Secret("other")
    assert not Secret("") and s
    assert not hasattr(s, "__dict__")
    with pytest.raises(AttributeError):
        s.value = "y"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "passwd",
        "PASSWORD",
        "client_secret",
        "secret",
        "token",
        "access_token",
        "refresh-token",
        "api_key",
        "apikey",
        "X-Api-Key",
        "private_key",
        "private_key_passphrase",
        "credentials",
    ],
)
def test_secret_names(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "token_url",
        "token_uri",
        "api_key_header",
        "api_key_param",
        "api_key_name",
        "password_env",
        "secret_conn_id",
        "token_path",
        "token_field",
        "private_key_file",
        "token_type",
        "token_expiry_seconds",
        "client_id",
        "login",
        "known_hosts",
        "key_file",
        "host_key",
    ],
)
def test_names_of_where_a_secret_goes_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)


@pytest.fixture
def airflow_connection(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A connection stored in Airflow's metadata DB (the throwaway AIRFLOW_HOME that
    tests/conftest.py sets), as `airflow connections add` stores it.

    Only the tables a connection needs are created: a whole `resetdb` costs ~6 s, and the
    lookup reads no other table. The DAG tests' session-wide reset drops them like the rest.
    """
    from airflow import settings
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    table = Connection.__table__
    needed = [fk.column.table for fk in table.foreign_keys] + [table]
    Connection.metadata.create_all(settings.engine, tables=needed)
    conn_id = "omshub_test_erp_db"
    monkeypatch.delenv(env_name(conn_id), raising=False)
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn_id).delete()
        session.add(
            Connection(
                conn_id=conn_id,
                conn_type="postgres",
                host="erp.example.com",
                port=5433,
                login="reader",
                password="db-pass/word",
                schema="erp",
                extra=json.dumps({"sslmode": "require", "client_secret": "db-client-secret"}),
            )
        )
    yield conn_id
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn_id).delete()


def test_resolve_reads_a_connection_stored_in_airflow(airflow_connection: str) -> None:
    """The CLI path: no AIRFLOW_CONN_ variable, the connection is in the metadata DB."""
    from omshub.credentials import resolve

    c = resolve(airflow_connection)
    assert (c.conn_type, c.host, c.port, c.login, c.schema) == (
        "postgres",
        "erp.example.com",
        5433,
        "reader",
        "erp",
    )
    assert c.secret() == "db-pass/word"
    assert c.extra["sslmode"] == "require"
    assert c.secret("client_secret") == "db-client-secret"
    assert "db-pass" not in repr(c) and "db-client-secret" not in repr(c)


def test_the_environment_wins_over_airflow(
    airflow_connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omshub.credentials import resolve

    monkeypatch.setenv(env_name(airflow_connection), "postgres://other:pw@env-host/erp")
    assert resolve(airflow_connection).host == "env-host"
