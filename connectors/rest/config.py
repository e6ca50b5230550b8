"""The `connector:` block and the streams' `options:` of a `type: rest` source.

Authenticators and paginators are chosen by name (`auth: {type: ...}`, `paginator: {type:
...}`) from registries (`connectors.rest.auth.AUTHENTICATORS`,
`connectors.rest.paginate.PAGINATORS`); each one validates its own options with its
`Options` model, so a typo in a paginator's keys is an error naming the key. Secrets are
never keys here: they come from the connection named by `conn_id`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.config import StreamOptions, TransportConfig

Scalar = str | int | float | bool


class Spec(BaseModel):
    """Options of one authenticator or paginator; subclasses add their keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str


def _by_registry(value: Any, kind: str) -> Any:
    """A dict validated by the `Options` model of the registry entry its `type` names."""
    if value is None or isinstance(value, Spec):
        return value
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict) or "type" not in value:
        raise ValueError(f"{kind} must be a mapping with a `type`")
    if kind == "auth":
        from connectors.rest.auth import AUTHENTICATORS as table
    else:
        from connectors.rest.paginate import PAGINATORS as table  # type: ignore[assignment]
    cls = table.get(str(value["type"]))
    if cls is None:
        raise ValueError(
            f"unknown {kind} type {value['type']!r} (known: {', '.join(sorted(table))})"
        )
    return cls.Options.model_validate(value)


def _auth_spec(value: Any) -> Any:
    return _by_registry(value, "auth")


def _paginator_spec(value: Any) -> Any:
    return _by_registry(value, "paginator")


class RestConfig(TransportConfig):
    """`connector: {type: rest, ...}`: where the API is and how to talk to it."""

    type: Literal["rest"] = "rest"
    base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="API root; default: the connection's host (+ schema/port)",
    )
    auth: Spec = Field(
        default_factory=lambda: Spec(type="none"),
        description="api_key | bearer | basic | oauth2_client_credentials | none",
    )
    paginator: Spec = Field(
        default_factory=lambda: Spec(type="single"),
        description="default paginator of the streams (link_header, cursor, ...)",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="non-secret headers")
    params: dict[str, Scalar] = Field(default_factory=dict, description="sent on every request")
    page_size: int | None = Field(None, ge=1, description="records per page asked for")
    timeout_seconds: float = Field(30, gt=0, description="connect and read timeout")
    max_retries: int = Field(5, ge=0, le=50, description="retries of 429/5xx/timeouts")
    backoff_base_seconds: float = Field(1, ge=0, description="first backoff (doubles)")
    backoff_cap_seconds: float = Field(60, ge=0, description="longest backoff")
    retry_after_cap_seconds: float = Field(120, ge=0, description="longest Retry-After obeyed")
    min_interval_seconds: float = Field(0, ge=0, description="politeness: gap between requests")

    _auth = field_validator("auth", mode="before")(_auth_spec)
    _pager = field_validator("paginator", mode="before")(_paginator_spec)


class Incremental(BaseModel):
    """Updated-since filtering driven by the stream's watermark."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    param: str | None = Field(None, description="query parameter of the lower bound")
    cursor_path: str = Field(min_length=1, description="where a record's update time is")
    overlap_seconds: float = Field(300, ge=0, description="re-read this much before the mark")
    end_param: str | None = Field(None, description="query parameter of a backfill's end")
    ordered: bool = Field(False, description="pages come sorted by update time, ascending")
    format: str | None = Field(None, description="strftime of the bound; default ISO 8601 Z")
    start: str | None = Field(None, description="lower bound of the very first run")


class SubResource(BaseModel):
    """A sub-resource linked from each record, fetched and put into the record.

    BigCommerce v2 orders carry `"products": {"url": ".../v2/orders/100/products",
    "resource": "/orders/100/products"}`: with `{field: products}` the record's
    `products` becomes the list of the lines (every page of them), so the landed
    page holds each order with its lines and a mapping explodes them as children.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str = Field(min_length=1, description="dotted path of the link in the record")
    link: str | None = Field(
        "resource",
        description="path of the link inside that value ({url, resource}); null: the value"
        " is the link itself; relative links resolve under base_url",
    )
    into: str | None = Field(
        None, description="record key that receives the items (default: `field`)"
    )
    records_path: str | None = Field(None, description="dotted path of its records list")
    paginator: Spec | None = Field(None, description="default: the connector's paginator")
    page_size: int | None = Field(None, ge=1)
    params: dict[str, Scalar] = Field(default_factory=dict)
    on_missing: Literal["quarantine", "empty"] = Field(
        "quarantine",
        description="a link answering 404/410: quarantine its record (kept with why, not"
        " loaded), or `empty`: no items (an order whose lines may really be gone)",
    )

    _pager = field_validator("paginator", mode="before")(_paginator_spec)


class RestStream(StreamOptions):
    """A stream's `options:`: one endpoint (or a child endpoint of another stream)."""

    path: str = Field(min_length=1, description="endpoint relative to base_url; {field}s")
    params: dict[str, Scalar] = Field(default_factory=dict)
    records_path: str | None = Field(None, description="dotted path of the records list")
    paginator: Spec | None = Field(None, description="overrides the connector's paginator")
    page_size: int | None = Field(None, ge=1)
    incremental: Incremental | None = None
    parent: str | None = Field(None, description="child endpoint: the parent stream's name")
    parent_fields: list[str] = Field(
        default_factory=lambda: ["id"], description="parent fields copied as _parent_<field>"
    )
    subresources: list[SubResource] = Field(
        default_factory=list,
        description="links in each record to follow; their items are put into the record",
    )

    _pager = field_validator("paginator", mode="before")(_paginator_spec)

    @field_validator("path")
    @classmethod
    def _relative(cls, v: str) -> str:
        if "://" in v or v.startswith("//") or ".." in v.split("/"):
            raise ValueError(f"path {v!r} must be relative to base_url (no scheme, no '..')")
        return v

    @model_validator(mode="after")
    def _child(self) -> RestStream:
        if self.parent and self.incremental:
            raise ValueError(
                "a child stream follows its parent's `incremental`; remove it from the child"
            )
        return self
