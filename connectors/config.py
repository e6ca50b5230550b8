"""Typed transport configuration: the base models every transport's config derives from.

A source's `connector:` block is validated by the model of its `type` (a discriminated
union built by `connectors.registry.connector_adapter()` over every registered transport),
and each stream's `options:` by the transport's `Stream` model. Both forbid unknown keys,
so a typo is an error naming the file and line, never an option silently ignored.

Secrets never live in YAML: a key that names a secret (`password`, `token`,
`client_secret`, an `Authorization` header...) with a literal value is refused, wherever
it is nested, with a message saying where the secret belongs (`conn_id`).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.credentials import is_secret_key
from connectors.errors import ConnectorConfigError

_SECRET_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "cookie")


def _literal(value: Any) -> bool:
    """A value written out in the file (a string or a number), not a block of settings."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def inline_secrets(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of secret-looking keys with a literal value (or a list of them) in `value`."""
    found: list[tuple[str, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = (*path, str(key))
            secretish = is_secret_key(str(key)) or str(key).lower() in _SECRET_HEADERS
            listed = isinstance(item, list) and any(map(_literal, item))
            if secretish and (_literal(item) or listed):
                found.append(where)
            else:
                found += inline_secrets(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += inline_secrets(item, (*path, str(i)))
    return found


class InlineSecretError(ValueError):
    """A secret written in YAML. `keys` is the path of the first one inside the block being
    validated, so the caller can point at its line."""

    def __init__(self, found: list[tuple[str, ...]]) -> None:
        super().__init__(
            f"secret written inline in YAML ({', '.join('.'.join(p) for p in found)}): secrets"
            " belong in an Airflow connection named by `conn_id` (or AIRFLOW_CONN_<ID> in the"
            " environment), never in a file"
        )
        self.keys: tuple[str | int, ...] = tuple(int(k) if k.isdigit() else k for k in found[0])


def refuse_inline_secrets(data: Any) -> Any:
    bad = inline_secrets(data)
    if bad:
        raise InlineSecretError(bad)
    return data


class TransportConfig(BaseModel):
    """The `connector:` block of a source. Subclasses fix `type` to a `Literal[...]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str = Field(description="transport type: local_folder, sftp, rest, sql, or a plugin's")
    conn_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]{1,250}$",
        description="Airflow connection (or AIRFLOW_CONN_<ID>) holding host, login and secrets",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, data: Any) -> Any:
        return refuse_inline_secrets(data)


class StreamOptions(BaseModel):
    """A stream's `options:` for one transport. Subclasses add the transport's keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def coerce(cls, value: Any, stream: str = "") -> Self:
        """`value` as this model (a dict from a test or script is validated here)."""
        if isinstance(value, cls):
            return value
        try:
            return cls.model_validate(value)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(map(str, err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            raise ConnectorConfigError(f"stream {stream!r}: {where}: {msg}") from None

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, data: Any) -> Any:
        return refuse_inline_secrets(data)
