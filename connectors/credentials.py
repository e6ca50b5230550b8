"""Credentials: what a `conn_id` in source YAML stands for, resolved outside the YAML.

A transport never reads a secret from YAML: it gets a `Credentials` built from an Airflow
connection. This module knows Airflow's two environment forms, `AIRFLOW_CONN_<ID>` as a
URI (`scheme://login:password@host:port/schema?key=value`, `__extra__` holding JSON) or as
JSON (`{"conn_type": ..., "host": ..., "password": ..., "extra": {...}}`), without
importing Airflow: `connectors/` never does. `omshub.credentials` adds the lookup in
Airflow's own store (metadata DB, secrets backends) when Airflow is there.

The secret is held in a `Secret`, whose `str`/`repr` are masked, so an f-string, a log
line or a traceback of a transport never prints it; `Secret.reveal()` is the one way out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from connectors.errors import ConnectorConfigError

#: extra keys whose value is a secret (masked in repr, refused inline in YAML)
SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "passphrase",
    "credential",
)


#: suffixes of keys that say where a secret goes or what kind it is, not the secret itself
#: (`token_url`, `api_key_header`, `password_env`, `private_key_file`, `token_type`...)
NOT_SECRET_SUFFIXES = (
    "_url",
    "_uri",
    "_endpoint",
    "_param",
    "_header",
    "_path",
    "_file",
    "_field",
    "_location",
    "_env",
    "_conn_id",
    "_name",
    "_type",
    "_seconds",
)


def is_secret_key(key: str) -> bool:
    """True for a key that names a secret (`client_secret`, `access_token`, `api_key`...)."""
    k = key.lower().replace("-", "_")
    return any(word in k for word in SECRET_WORDS) and not k.endswith(NOT_SECRET_SUFFIXES)


class Secret:
    """A secret value that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Credentials:
    """One connection: where to connect and as whom. `extra` values named like secrets are
    `Secret`s too, at any depth (`client_secret`, `private_key`, ...)."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: Secret | None = None
    schema: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def secret(self, key: str = "password") -> str | None:
        """The clear text of `password` or of a secret extra (None when not set)."""
        value = self.password if key == "password" else self.extra.get(key)
        if value is None:
            return None
        return value.reveal() if isinstance(value, Secret) else str(value)

    def secrets(self) -> list[str]:
        """Every secret's clear text (for tests that grep output, and for redaction)."""
        out = [self.password.reveal()] if self.password else []
        return out + [s.reveal() for s in _secrets_in(self.extra) if s]


def _secrets_in(value: Any) -> Iterator[Secret]:
    if isinstance(value, Secret):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _secrets_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from _secrets_in(v)


#: conn_id -> Credentials; raises ConnectorConfigError when the connection is unknown
Resolver = Callable[[str], Credentials]


def env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def from_env(conn_id: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The connection from `AIRFLOW_CONN_<ID>` (URI or JSON), None when that is not set."""
    raw = (environ if environ is not None else os.environ).get(env_name(conn_id))
    if raw is None:
        return None
    raw = raw.strip()
    if raw.startswith("{"):
        return _from_json(conn_id, raw)
    return from_uri(conn_id, raw)


def _from_json(conn_id: str, raw: str) -> Credentials:
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ConnectorConfigError(f"{env_name(conn_id)} is not valid JSON: {e.msg}") from None
    if not isinstance(doc, dict):
        raise ConnectorConfigError(f"{env_name(conn_id)}: expected a JSON object")
    extra = doc.get("extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            raise ConnectorConfigError(f"{env_name(conn_id)}: `extra` is not valid JSON") from None
    return build(
        conn_id,
        conn_type=doc.get("conn_type"),
        host=doc.get("host"),
        port=doc.get("port"),
        login=doc.get("login"),
        password=doc.get("password"),
        schema=doc.get("schema"),
        extra=extra,
    )


def from_uri(conn_id: str, uri: str) -> Credentials:
    """Airflow's connection URI form, parsed as Airflow parses it (`Connection.from_uri`).

    `scheme://login:password@host:port/schema?extras`: the parts are url-decoded, the
    schema is the path less its first `/` (so `sqlite:////data/x.db` is `/data/x.db`), a
    host with a protocol is written `conn_type://https://host...`, and `__extra__` (JSON)
    replaces the other query keys, which are the extras otherwise.
    """
    name = env_name(conn_id)
    if uri.count("://") > 2:
        raise ConnectorConfigError(f"{name} is not a connection URI (more than two '://')")
    conn_type = urlsplit(uri).scheme
    if not conn_type:
        raise ConnectorConfigError(f"{name} is neither a connection URI (scheme://...) nor JSON")
    with_protocol = uri.count("://") == 2
    rest = uri.replace(f"{conn_type}://", "" if with_protocol else "//", 1)
    if with_protocol and any(c in rest.split("://", 1)[0] for c in "@:"):
        raise ConnectorConfigError(f"{name}: the host's protocol must come before the login")
    parts = urlsplit(rest)
    try:
        port = parts.port
    except ValueError:
        raise ConnectorConfigError(f"{name}: the port is not a number") from None
    host = _hostname(parts)
    if host and with_protocol:
        host = f"{parts.scheme}://{host}"
    return build(
        conn_id,
        conn_type=conn_type,
        host=host,
        port=port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=unquote(parts.path[1:]) or None,
        extra=_query_extra(name, parts.query),
    )


def _hostname(parts: SplitResult) -> str:
    """The host as Airflow reads it: url-decoded, and as written when it holds a `/`."""
    host = unquote(parts.hostname or "")
    if "/" in host:
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        host = unquote(host)
    return host


def _query_extra(name: str, query: str) -> dict[str, Any]:
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    if "__extra__" not in pairs:
        return pairs
    try:
        extra = json.loads(pairs["__extra__"])
    except ValueError:
        raise ConnectorConfigError(f"{name}: __extra__ is not valid JSON") from None
    if not isinstance(extra, dict):
        raise ConnectorConfigError(f"{name}: __extra__ must be a JSON object")
    return extra


def build(
    conn_id: str,
    *,
    conn_type: str | None = None,
    host: str | None = None,
    port: Any = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Credentials:
    """Credentials with the secrets wrapped (from any store's fields)."""
    extra = {} if extra is None else extra
    if not isinstance(extra, Mapping):
        raise ConnectorConfigError(f"connection {conn_id!r}: `extra` must be an object")
    try:
        port_no = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        raise ConnectorConfigError(
            f"connection {conn_id!r}: port {port!r} is not a number"
        ) from None
    return Credentials(
        conn_id=conn_id,
        conn_type=_conn_type(conn_type),
        host=host or None,
        port=port_no,
        login=login or None,
        password=Secret(password) if password else None,
        schema=schema or None,
        extra=_wrap(extra),
    )


def _conn_type(value: str | None) -> str | None:
    """Airflow's spelling: `postgresql` is `postgres`, dashes are underscores."""
    if not value:
        return None
    return "postgres" if value == "postgresql" else value.replace("-", "_")


def _wrap(value: Any) -> Any:
    """`value` with every secret-named key's literal value (at any depth) as a `Secret`."""
    if isinstance(value, Mapping):
        return {
            k: Secret(str(v))
            if is_secret_key(str(k)) and isinstance(v, str | int) and not isinstance(v, bool)
            else _wrap(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def env_resolver(conn_id: str) -> Credentials:
    """Resolve from the environment only (what `connectors/` can do without Airflow)."""
    found = from_env(conn_id)
    if found is None:
        raise ConnectorConfigError(
            f"connection {conn_id!r} not found: set {env_name(conn_id)} or create it in Airflow"
            f" (airflow connections add {conn_id} ...)"
        )
    return found
