"""Paginators by name: `paginator: {type: ...}` in the connector block or a stream.

A paginator sees each fetched page and says which request comes next (None: that was
the last page). `PAGINATORS` maps the YAML `type` to the class; `register_paginator`
adds one. Pages are fetched one at a time, so memory stays flat whatever the stream's
length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import Field

from connectors.errors import ConnectorConfigError
from connectors.rest.config import Spec

_MISSING = object()


def dig(doc: Any, path: str | None, default: Any = None) -> Any:
    """The value at a dotted `path` in a JSON document (`doc` itself for an empty path)."""
    if not path:
        return doc
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return default
    return doc


@dataclass
class Page:
    """One fetched page: the request, the answer's bytes, its JSON body and its records."""

    number: int
    url: str  # requested URL, without `params`
    params: dict[str, Any]  # query parameters sent (auth ones excluded)
    content: bytes
    headers: Any  # the response headers (case-insensitive mapping)
    links: dict[str, Any] = field(default_factory=dict)  # parsed Link header
    body: Any = None  # parsed JSON (None when the page is not JSON)
    records: list[Any] | None = None  # None when unknown (no JSON list at records_path)


#: the next request: a URL (absolute, or a link to resolve) and its query parameters
Next = tuple[str, dict[str, Any]]


class SingleOptions(Spec):
    type: Literal["single"] = "single"


class Paginator:
    """One page, no pagination (`type: single`); the base of the others."""

    kind: ClassVar[str] = "single"
    Options: ClassVar[type[Spec]] = SingleOptions

    def __init__(self, options: Any, page_size: int | None) -> None:
        self.options = options
        self.page_size = page_size

    def first(self, params: dict[str, Any]) -> dict[str, Any]:
        """The first request's parameters (a page size, a start page...)."""
        limit = getattr(self.options, "limit_param", None)
        if limit and self.page_size:
            return {**params, limit: self.page_size}
        return params

    def next(self, page: Page) -> Next | None:
        return None

    def _records(self, page: Page) -> list[Any]:
        if page.records is None:
            raise ConnectorConfigError(
                f"paginator {self.kind!r} counts records: set the stream's `records_path`"
                f" (page {page.number} has no list there)"
            )
        return page.records


class LinkHeaderOptions(Spec):
    type: Literal["link_header"] = "link_header"
    rel: str = Field("next", description="the Link relation of the next page")
    limit_param: str | None = Field("limit", description="page size parameter (first page)")


class LinkHeader(Paginator):
    """RFC 8288 `Link: <url>; rel="next"` (Shopify, GitHub): the URL is followed as is
    (Shopify refuses other filters next to `page_info`)."""

    kind = "link_header"
    Options = LinkHeaderOptions

    def next(self, page: Page) -> Next | None:
        link = page.links.get(self.options.rel, {}).get("url")
        return (link, {}) if link else None


class CursorOptions(Spec):
    type: Literal["cursor"] = "cursor"
    cursor_path: str = Field(min_length=1, description="dotted path of the next cursor")
    cursor_param: str = Field(min_length=1, description="query parameter that sends it")
    limit_param: str | None = None


class BodyCursor(Paginator):
    """A cursor in the body (`meta.next_cursor`) sent back as a parameter; the last page
    has none (null, empty, or absent) or no records."""

    kind = "cursor"
    Options = CursorOptions

    def next(self, page: Page) -> Next | None:
        cursor = dig(page.body, self.options.cursor_path)
        if cursor in (None, "", False) or page.records == []:
            return None
        if page.params.get(self.options.cursor_param) == cursor:
            return None  # the API sent the same cursor again: it is done
        return page.url, {**page.params, self.options.cursor_param: cursor}


class PageNumberOptions(Spec):
    type: Literal["page_number"] = "page_number"
    param: str = Field("page", min_length=1)
    start: int = Field(1, ge=0)
    limit_param: str | None = Field("per_page", description="page size parameter")


class PageNumber(Paginator):
    """`?page=1, 2, ...` until a page has fewer records than the page size (or none)."""

    kind = "page_number"
    Options = PageNumberOptions

    def first(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**super().first(params), self.options.param: self.options.start}

    def next(self, page: Page) -> Next | None:
        records = self._records(page)
        if not records or (self.page_size and len(records) < self.page_size):
            return None
        number = int(page.params.get(self.options.param, self.options.start))
        return page.url, {**page.params, self.options.param: number + 1}


class OffsetOptions(Spec):
    type: Literal["offset"] = "offset"
    offset_param: str = Field("offset", min_length=1)
    limit_param: str = Field("limit", min_length=1)
    limit: int = Field(100, ge=1, description="page size when page_size is not set")


class Offset(Paginator):
    """`?offset=0&limit=100`, then 100, 200, ... until a page is short (or empty)."""

    kind = "offset"
    Options = OffsetOptions

    def __init__(self, options: Any, page_size: int | None) -> None:
        super().__init__(options, page_size or options.limit)

    def first(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**super().first(params), self.options.offset_param: 0}

    def next(self, page: Page) -> Next | None:
        records = self._records(page)
        assert self.page_size is not None
        if len(records) < self.page_size:
            return None
        offset = int(page.params.get(self.options.offset_param, 0)) + len(records)
        return page.url, {**page.params, self.options.offset_param: offset}


class NextUrlOptions(Spec):
    type: Literal["next_url"] = "next_url"
    next_url_path: str = Field(min_length=1, description="e.g. nextRecordsUrl, links.next")
    limit_param: str | None = None


class NextUrl(Paginator):
    """The next page's URL in the body (Salesforce `nextRecordsUrl`), absolute or
    relative to the API's origin; the last page has none."""

    kind = "next_url"
    Options = NextUrlOptions

    def next(self, page: Page) -> Next | None:
        link = dig(page.body, self.options.next_url_path)
        return (link, {}) if isinstance(link, str) and link else None


PAGINATORS: dict[str, type[Paginator]] = {
    cls.kind: cls for cls in (Paginator, LinkHeader, BodyCursor, PageNumber, Offset, NextUrl)
}


def register_paginator(cls: type[Paginator]) -> None:
    """Make `cls` available as `paginator: {type: cls.kind}`."""
    PAGINATORS[cls.kind] = cls
