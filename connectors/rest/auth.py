"""Authenticators by name: `auth: {type: ...}` in the connector block.

Each class has an `Options` model (its non-secret YAML keys) and reads its secrets from
the connection (`context.credentials`): never from YAML. `AUTHENTICATORS` maps the YAML
`type` to the class; `register_authenticator` adds one (a plugin, a test).
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from connectors.credentials import Credentials
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.rest.config import Spec

if TYPE_CHECKING:
    from connectors.rest.http import HttpClient


class Authenticator:
    """No authentication; the base of the others."""

    kind: ClassVar[str] = "none"
    Options: ClassVar[type[Spec]] = Spec

    def __init__(self, options: Any, credentials: Credentials | None, conn_id: str | None):
        self.options = options
        self.credentials = credentials
        self.conn_id = conn_id

    def apply(self, http: HttpClient, headers: dict[str, str], params: dict[str, Any]) -> None:
        """Add what proves who we are to one request's headers or params."""

    def refresh(self, http: HttpClient) -> bool:
        """After a 401: get a fresh credential; True when the request is worth one retry."""
        return False

    def secrets(self) -> list[str]:
        """Clear text of every secret in use (redacted from messages and logs)."""
        return self.credentials.secrets() if self.credentials else []

    def secret_params(self) -> set[str]:
        """Query parameter names that carry a secret (never shown in names or URLs)."""
        return set()

    def _creds(self) -> Credentials:
        if self.credentials is None:
            raise ConnectorConfigError(
                f"auth {self.kind!r} needs a connection: set `conn_id` in the connector block"
                if not self.conn_id
                else f"auth {self.kind!r}: connection {self.conn_id!r} was not resolved"
            )
        return self.credentials

    def _secret(self, field: str) -> str:
        value = self._creds().secret(field)
        if not value:
            where = "password" if field == "password" else f"extra {field!r}"
            raise ConnectorConfigError(
                f"auth {self.kind!r}: connection {self.conn_id!r} has no {where}"
            )
        return value


class ApiKeyOptions(Spec):
    type: Literal["api_key"] = "api_key"
    name: str = Field("X-API-Key", min_length=1, description="header or query parameter name")
    location: Literal["header", "query"] = "header"
    prefix: str = Field("", description="put before the key, e.g. 'Token '")
    secret_field: str = Field("password", description="the connection field holding the key")


class ApiKeyAuth(Authenticator):
    """A key in a header (`X-Shopify-Access-Token`) or, when an API insists, the query."""

    kind = "api_key"
    Options = ApiKeyOptions

    def apply(self, http: HttpClient, headers: dict[str, str], params: dict[str, Any]) -> None:
        o = self.options
        value = o.prefix + self._secret(o.secret_field)
        if o.location == "header":
            headers[o.name] = value
        else:
            params[o.name] = value

    def secret_params(self) -> set[str]:
        return {self.options.name} if self.options.location == "query" else set()


class BearerOptions(Spec):
    type: Literal["bearer"] = "bearer"
    secret_field: str = Field("password", description="the connection field holding the token")


class BearerAuth(Authenticator):
    """`Authorization: Bearer <token>` with a long-lived token from the connection."""

    kind = "bearer"
    Options = BearerOptions

    def apply(self, http: HttpClient, headers: dict[str, str], params: dict[str, Any]) -> None:
        headers["Authorization"] = "Bearer " + self._secret(self.options.secret_field)


class BasicOptions(Spec):
    type: Literal["basic"] = "basic"


class BasicAuth(Authenticator):
    """HTTP Basic with the connection's login and password."""

    kind = "basic"
    Options = BasicOptions

    def apply(self, http: HttpClient, headers: dict[str, str], params: dict[str, Any]) -> None:
        headers["Authorization"] = _basic(self._creds().login or "", self._secret("password"))


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class OAuth2Options(Spec):
    type: Literal["oauth2_client_credentials"] = "oauth2_client_credentials"
    token_url: str = Field(min_length=1, description="absolute, or relative to base_url")
    scopes: list[str] = Field(default_factory=list)
    client_id_field: str = Field("login", description="login, or an extra of the connection")
    client_secret_field: str = Field("password", description="password, or an extra")
    client_auth: Literal["body", "basic"] = Field("body", description="where the client proves")
    expiry_skew_seconds: float = Field(30, ge=0, description="renew this long before expiry")


class OAuth2ClientCredentials(Authenticator):
    """OAuth2 client credentials: a token from `token_url`, kept until it expires.

    Renewed before `expires_in` runs out (less a skew) and whenever the API answers 401
    (Salesforce gives no `expires_in`: its sessions end by a 401 INVALID_SESSION_ID).
    """

    kind = "oauth2_client_credentials"
    Options = OAuth2Options

    def __init__(self, options: Any, credentials: Credentials | None, conn_id: str | None):
        super().__init__(options, credentials, conn_id)
        self._token: str | None = None
        self._expires_at: float | None = None
        self.tokens_fetched = 0

    def apply(self, http: HttpClient, headers: dict[str, str], params: dict[str, Any]) -> None:
        expired = self._expires_at is not None and time.monotonic() >= self._expires_at
        if self._token is None or expired:
            self._fetch(http)
        headers["Authorization"] = f"Bearer {self._token}"

    def refresh(self, http: HttpClient) -> bool:
        self._fetch(http)
        return True

    def secrets(self) -> list[str]:
        return [*super().secrets(), *([self._token] if self._token else [])]

    def _field(self, name: str) -> str:
        if name == "login":
            value = self._creds().login
            if not value:
                raise ConnectorConfigError(
                    f"auth {self.kind!r}: connection {self.conn_id!r} has no login (client id)"
                )
            return value
        if name == "password":
            return self._secret("password")
        value = self._creds().secret(name)
        if not value:
            raise ConnectorConfigError(
                f"auth {self.kind!r}: connection {self.conn_id!r} has no extra {name!r}"
            )
        return value

    def _fetch(self, http: HttpClient) -> None:
        o = self.options
        client_id, secret = self._field(o.client_id_field), self._field(o.client_secret_field)
        form = {"grant_type": "client_credentials"}
        if o.scopes:
            form["scope"] = " ".join(o.scopes)
        headers = {"Accept": "application/json"}
        if o.client_auth == "basic":
            headers["Authorization"] = _basic(client_id, secret)
        else:
            form.update(client_id=client_id, client_secret=secret)
        doc = http.token_request(o.token_url, form, headers)
        token = doc.get("access_token")
        if not isinstance(token, str) or not token:
            raise ConnectorError(f"token endpoint {o.token_url}: no access_token in the answer")
        self._token = token
        http.remember_secret(token)
        self.tokens_fetched += 1
        expires_in = doc.get("expires_in")
        try:
            ttl = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            ttl = None
        self._expires_at = (
            time.monotonic() + max(ttl - o.expiry_skew_seconds, 0) if ttl is not None else None
        )


AUTHENTICATORS: dict[str, type[Authenticator]] = {
    cls.kind: cls
    for cls in (Authenticator, ApiKeyAuth, BearerAuth, BasicAuth, OAuth2ClientCredentials)
}


def register_authenticator(cls: type[Authenticator]) -> None:
    """Make `cls` available as `auth: {type: cls.kind}`."""
    AUTHENTICATORS[cls.kind] = cls
