"""Sub-resources: links in each record followed, their items put into the record.

An API that lists orders without their lines but links them per order (BigCommerce v2:
`"products": {"url": ..., "resource": "/orders/100/products"}`) is declared in the
stream's `subresources:`; each link is fetched with its own paginator (every page), with
the connector's auth, retries, rate limits and politeness, and its items replace the
link in the record. The page is then landed as JSON with its records expanded, so the
lines arrive with (and load in one transaction with) their order, and a mapping maps
them as `children` without any join.

A sub-resource that is gone (404/410) since the record was listed quarantines its record
(`on_missing: quarantine`, the default): the record is landed as it was listed, with the
reason under `REFUSED_KEY`, so every format refuses it (an order never loads without its
lines) while the rest of the page loads; `on_missing: empty` gives an empty list and a
warning instead, for a sub-resource that may really have no items left. Anything else
fails the fetch.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from connectors.base import REFUSED_KEY
from connectors.errors import ConnectorConfigError
from connectors.rest.config import RestStream, SubResource
from connectors.rest.paginate import Page, dig

if TYPE_CHECKING:
    from connectors.rest.transport import RestTransport

log = logging.getLogger("connectors.rest")


def expand_page(transport: RestTransport, page: Page, opts: RestStream) -> bytes:
    """The page's JSON with every record's sub-resources fetched into it."""
    if page.records is None:
        raise ConnectorConfigError(
            "subresources need the page's records: set the stream's `records_path`"
            f" (page {page.number} has no list of records at its root)"
        )
    for record in page.records:
        if isinstance(record, dict):
            for sub in opts.subresources:
                try:
                    items = _items(transport, record, sub)
                except Gone as e:
                    if sub.on_missing == "quarantine":
                        record[REFUSED_KEY] = str(e)
                        break  # kept as listed, with why: the format quarantines it
                    log.warning("%s: no items", e)
                    items = []
                _put(record, sub.into or sub.field, items)
    return json.dumps(page.body, ensure_ascii=False, separators=(",", ":")).encode()


class Gone(Exception):
    """A sub-resource link answered 404 or 410: deleted since its record was listed."""


def _put(record: dict[str, Any], path: str, items: list[Any]) -> None:
    *parents, last = path.split(".")
    target = record
    for key in parents:
        nxt = target.get(key)
        if not isinstance(nxt, dict):
            nxt = target[key] = {}
        target = nxt
    target[last] = items


def _link(record: dict[str, Any], sub: SubResource) -> str | None:
    value = dig(record, sub.field)
    if isinstance(value, list):
        return None  # already expanded (the API embedded the items)
    link = dig(value, sub.link) if sub.link and isinstance(value, dict) else value
    if link in (None, ""):
        return None
    if not isinstance(link, str):
        raise ConnectorConfigError(
            f"subresource {sub.field!r}: the link at {sub.link or sub.field!r} is not text"
        )
    return link


def _relative(transport: RestTransport, link: str) -> str:
    """The link as a path under base_url (an absolute one must be on the API's origin)."""
    http = transport.http
    if "://" not in link:
        return link
    url = http.follow(link)
    if not url.startswith(http.base_url + "/"):
        raise ConnectorConfigError(f"subresource link {http.shown(link)} is not under base_url")
    return url[len(http.base_url) :]


def _items(transport: RestTransport, record: dict[str, Any], sub: SubResource) -> list[Any]:
    from connectors.rest.http import RefusedRequest

    link = _link(record, sub)
    if link is None:
        existing = dig(record, sub.field)
        return existing if isinstance(existing, list) else []
    path, _, query = _relative(transport, link).partition("?")
    opts = RestStream(
        path=path,
        records_path=sub.records_path,
        paginator=sub.paginator,
        page_size=sub.page_size,
        params=sub.params,
    )
    params: dict[str, Any] = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    items: list[Any] = []
    try:
        for page in transport._pages(opts, {**params, **sub.params}):
            if page.records is None:
                raise ConnectorConfigError(
                    f"subresource {path}: no list of records (set its `records_path`)"
                )
            items.extend(page.records)
    except RefusedRequest as e:
        if e.status not in (404, 410):
            raise
        url = transport.http.shown(transport.http.base_url + path)
        raise Gone(f"sub-resource {sub.field} gone ({e.status}) at {url}") from None
    return items
