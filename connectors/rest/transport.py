"""The `type: rest` transport: pages of a JSON API, landed one batch per page.

Each page is one `RawBatch` holding the body exactly as received (a child stream's
batch is NDJSON built from the child resources of one parent page). With `incremental`,
the stream's watermark (an ISO time) becomes the updated-since parameter, less
`overlap_seconds`, and every batch carries `cursor_to`, the watermark after it loads:

- `ordered: true` (pages sorted by update time): the newest update time so far, so a
  run that fails half-way keeps what it loaded and the next resumes from there;
- else every page but the last carries the start watermark (no advance) and the last
  carries the newest time of the whole stream: the mark moves only once all is loaded;
- a backfill window (`request.window`) never moves the watermark (cursor_to is None).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.rest.config import Incremental, RestConfig, RestStream
from connectors.rest.paginate import PAGINATORS, Page, Paginator, dig
from connectors.rest.subresource import expand_page
from connectors.rest.times import bound, iso, normalise, parse_time

if TYPE_CHECKING:
    from connectors.rest.http import HttpClient

log = logging.getLogger("connectors.rest")
_FIELD = re.compile(r"\{([^{}]+)\}")


@dataclasses.dataclass(frozen=True)
class Plan:
    """How one fetch filters by time and which cursor its batches carry."""

    mode: Literal["full", "window", "ordered", "unordered"]
    start: dt.datetime | None = None  # the watermark the run started from
    since: dt.datetime | None = None  # lower bound sent
    until: dt.datetime | None = None  # upper bound sent (backfill)


class RestTransport:
    """Fetches pages of a REST endpoint (or of a child endpoint per parent record)."""

    kind: ClassVar[str] = "rest"
    Config: ClassVar[type[RestConfig]] = RestConfig
    Stream: ClassVar[type[RestStream]] = RestStream

    def __init__(self, config: RestConfig, context: TransportContext) -> None:
        self.config = config
        self.context = context
        #: other streams' options by name (parents); else read from the source config
        self.streams: dict[str, Any] = dict(context.streams)
        self._http: HttpClient | None = None

    @classmethod
    def cursor_key(cls, value: str) -> tuple[Any, ...]:
        """Order of this transport's cursors: ISO times."""
        return (parse_time(value),)

    @classmethod
    def parse_cursor(cls, value: str) -> str:
        """A watermark typed by a person, in the stored form (ValueError when not a time)."""
        return normalise(value)

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            from connectors.rest.auth import AUTHENTICATORS
            from connectors.rest.http import HttpClient

            c = self.config
            auth = AUTHENTICATORS[c.auth.type](c.auth, self.context.credentials, c.conn_id)
            if c.auth.type != "none" and self.context.credentials is None:
                raise ConnectorConfigError(
                    f"source {self.context.source!r}: auth {c.auth.type!r} needs credentials:"
                    + (
                        f" connection {c.conn_id!r} was not resolved"
                        if c.conn_id
                        else " set `conn_id` in the connector block"
                    )
                )
            self._http = HttpClient(c, base_url(c, self.context), auth)
        return self._http

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        opts = RestStream.coerce(request.options, request.stream)
        if opts.parent:
            yield from self._children(request, opts)
            return
        plan = self._plan(request, opts.incremental, opts)
        pages = self._pages(opts, self._params(opts, opts.incremental, plan))
        for page, cursor_to in self._with_cursors(pages, plan, opts.incremental):
            yield RawBatch(
                expand_page(self, page, opts) if opts.subresources else page.content,
                self._name(page),
                request.format,
                cursor_from=iso(plan.start) if plan.start else None,
                cursor_to=cursor_to,
                metadata={"url": self.http.shown(page.url, page.params), "page": page.number},
            )

    # -- time filters ------------------------------------------------------------------

    def _plan(self, request: StreamRequest, inc: Incremental | None, opts: RestStream) -> Plan:
        where = f"stream {request.stream!r}"
        if inc is None:
            if request.window is not None:
                raise ConnectorConfigError(
                    f"{where}: no `incremental` options, so it cannot fetch a window"
                )
            return Plan("full")
        templates = " ".join(str(v) for v in {**self.config.params, **opts.params}.values())
        if not inc.param and "{since}" not in templates:
            raise ConnectorConfigError(
                f"{where}: incremental needs `param` or a {{since}} in the stream's params"
            )
        if request.window is not None:
            start, end = request.window
            if end is not None and not inc.end_param and "{until}" not in templates:
                raise ConnectorConfigError(
                    f"{where}: a window with an end needs incremental.end_param"
                    " (or an {until} in the params)"
                )
            since = _utc(start) or (parse_time(inc.start) if inc.start else None)
            return Plan("window", None, since, _utc(end))
        watermark = None
        if request.cursor:
            try:
                watermark = parse_time(request.cursor)
            except ValueError:
                raise ConnectorConfigError(
                    f"{where}: the watermark {request.cursor!r} is not an ISO time"
                    " (omshub state set/reset)"
                ) from None
        since = watermark - dt.timedelta(seconds=inc.overlap_seconds) if watermark else None
        if since is None and inc.start:
            since = parse_time(inc.start)
        return Plan("ordered" if inc.ordered else "unordered", watermark, since)

    def _params(self, opts: RestStream, inc: Incremental | None, plan: Plan) -> dict[str, Any]:
        """Connector and stream params, the bounds added (`param`, `end_param`) or put in
        place of `{since}` / `{until}` (an `{until}` without a window end is a day past
        now: a SOQL `WHERE` keeps working outside backfills)."""
        fmt = inc.format if inc else None
        since = bound(plan.since, fmt) if plan.since else None
        until = bound(plan.until, fmt) if plan.until else None
        params: dict[str, Any] = {}
        for key, value in {**self.config.params, **opts.params}.items():
            if isinstance(value, str) and "{since}" in value:
                if since is None:
                    raise ConnectorConfigError(
                        f"param {key!r} needs {{since}} on the first run: set incremental.start"
                    )
                value = value.replace("{since}", since)
            if isinstance(value, str) and "{until}" in value:
                later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
                value = value.replace("{until}", until or bound(later, fmt))
            params[key] = str(value).lower() if isinstance(value, bool) else value
        if inc and inc.param and since:
            params[inc.param] = since
        if inc and inc.end_param and until:
            params[inc.end_param] = until
        return params

    def _with_cursors(
        self, pages: Iterable[Page], plan: Plan, inc: Incremental | None
    ) -> Iterator[tuple[Page, str | None]]:
        """Each non-empty page with the cursor it moves the watermark to (see the module)."""
        found = (p for p in pages if p.records != [])
        if plan.mode in ("full", "window") or inc is None:
            yield from ((p, None) for p in found)
            return
        start = iso(plan.start) if plan.start else None
        best = plan.start
        if plan.mode == "ordered":
            for page in found:
                best = _later(best, _newest(page, inc.cursor_path))
                yield page, iso(best) if best else None
            return
        held: Page | None = None
        try:
            for page in found:
                best = _later(best, _newest(page, inc.cursor_path))
                if held is not None:
                    yield held, start
                held = page
        except Exception:
            if held is not None:
                yield held, start  # land what was fetched; the mark stays
            raise
        if held is not None:
            yield held, iso(best) if best else None

    # -- pages -------------------------------------------------------------------------

    def _paginator(self, opts: RestStream) -> Paginator:
        spec = opts.paginator or self.config.paginator
        return PAGINATORS[spec.type](spec, opts.page_size or self.config.page_size)

    def _pages(
        self, opts: RestStream, params: dict[str, Any], path: str | None = None
    ) -> Iterator[Page]:
        """The pages of one endpoint, fetched one at a time as the caller asks."""
        paginator = self._paginator(opts)
        url, params = self.http.endpoint(path or opts.path), paginator.first(params)
        number = 1
        while True:
            resp = self.http.get(url, params)
            page = _page(number, url, params, resp, opts.records_path)
            yield page
            nxt = paginator.next(page)
            if nxt is None:
                return
            link, next_params = nxt
            next_url = self.http.follow(link)
            if (next_url, next_params) == (url, params):
                raise ConnectorError(f"{self.http.shown(url, params)}: the next page is this one")
            url, params, number = next_url, next_params, number + 1

    def _name(self, page: Page) -> str:
        parts = urlsplit(self.http.shown(page.url, page.params))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    # -- child endpoints ---------------------------------------------------------------

    def _parent(self, opts: RestStream, stream: str) -> RestStream:
        assert opts.parent is not None
        if opts.parent == stream:
            raise ConnectorConfigError(f"stream {stream!r}: its parent is itself")
        found = self.streams.get(opts.parent)
        if found is None:
            raise ConnectorConfigError(
                f"stream {stream!r}: its parent {opts.parent!r} is not a stream of source"
                f" {self.context.source!r}"
            )
        parent = RestStream.coerce(found, opts.parent)
        if parent.parent:
            raise ConnectorConfigError(
                f"stream {stream!r}: its parent {opts.parent!r} is itself a child stream"
            )
        return parent

    def _children(self, request: StreamRequest, opts: RestStream) -> Iterator[RawBatch]:
        """One NDJSON batch per parent page: the child records of every parent on it."""
        if request.format != "ndjson":
            raise ConnectorConfigError(
                f"stream {request.stream!r}: a child stream lands NDJSON: set format: ndjson"
            )
        parent = self._parent(opts, request.stream)
        plan = self._plan(request, parent.incremental, parent)
        pages = self._pages(parent, self._params(parent, parent.incremental, plan))
        child_params = {**self.config.params, **opts.params}
        for page, cursor_to in self._with_cursors(pages, plan, parent.incremental):
            lines, parents = [], 0
            for record in page.records or []:
                parents += 1
                lines += self._child_lines(record, opts, child_params)
            content = "".join(line + "\n" for line in lines).encode()
            yield RawBatch(
                content,
                f"{self._name(page)} -> {opts.path}",
                "ndjson",
                cursor_from=iso(plan.start) if plan.start else None,
                cursor_to=cursor_to,
                metadata={
                    "url": self.http.shown(page.url, page.params),
                    "page": page.number,
                    "parents": parents,
                    "children": len(lines),
                },
            )

    def _child_lines(self, record: Any, opts: RestStream, params: dict[str, Any]) -> list[str]:
        from connectors.rest.http import RefusedRequest

        extra = {f"_parent_{f.replace('.', '_')}": dig(record, f) for f in opts.parent_fields}
        path = _FIELD.sub(lambda m: _field(record, m.group(1), opts.path), opts.path)
        lines: list[str] = []
        try:
            for child in self._pages(opts, dict(params), path):
                for item in child.records or []:
                    row = {**item, **extra} if isinstance(item, dict) else {"value": item, **extra}
                    lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        except RefusedRequest as e:
            if e.status not in (404, 410):
                raise
            log.warning("%s: gone since its parent was listed; skipped", path)
        return lines


def base_url(config: RestConfig, context: TransportContext) -> str:
    """`base_url`, else built from the connection: its host (with a scheme, or the
    connection's `schema`/type when that is http or https; https otherwise) and port."""
    if config.base_url:
        return config.base_url
    creds = context.credentials
    if creds is None or not creds.host:
        raise ConnectorConfigError(
            f"source {context.source!r}: set connector.base_url, or a host in connection"
            f" {config.conn_id!r}"
            if config.conn_id
            else f"source {context.source!r}: set connector.base_url (or conn_id with a host)"
        )
    if "://" in creds.host:
        url = creds.host
    else:
        scheme = next(
            (s for s in (creds.schema, creds.conn_type) if s in ("http", "https")), "https"
        )
        url = f"{scheme}://{creds.host}"
    if creds.port and not urlsplit(url).port:
        parts = urlsplit(url)
        url = parts._replace(netloc=f"{parts.netloc}:{creds.port}").geturl()
    return url.rstrip("/")


def _page(number: int, url: str, params: dict[str, Any], resp: Any, path: str | None) -> Page:
    content: bytes = resp.content
    if resp.status_code == 204:  # No Content: an empty page (BigCommerce v2)
        return Page(number, url, params, content, resp.headers, dict(resp.links), None, [])
    body = None
    if content.lstrip()[:1] in (b"{", b"["):
        try:
            body = json.loads(content)
        except ValueError:
            body = None
    if path and body is None:
        raise ConnectorError(f"page {number} is not JSON ({len(content)} bytes)")
    records = dig(body, path) if body is not None else None
    if path and body is not None and not isinstance(records, list):
        keys = ", ".join(sorted(body)[:8]) if isinstance(body, dict) else type(body).__name__
        raise ConnectorConfigError(f"records_path {path!r} is not a list in the page ({keys})")
    return Page(
        number,
        url,
        params,
        content,
        resp.headers,
        links=dict(resp.links),
        body=body,
        records=records if isinstance(records, list) else None,
    )


def _field(record: Any, name: str, path: str) -> str:
    value = dig(record, name)
    if value is None or isinstance(value, dict | list):
        raise ConnectorConfigError(f"child path {path!r}: the parent record has no {name!r}")
    return quote(str(value), safe="")


def _newest(page: Page, cursor_path: str) -> dt.datetime | None:
    if page.records is None:
        raise ConnectorConfigError(
            f"incremental reads each record's {cursor_path!r}: set the stream's `records_path`"
            f" (page {page.number} has no list of records at its root)"
        )
    best = None
    for rec in page.records or []:
        value = dig(rec, cursor_path)
        if value in (None, ""):
            continue
        try:
            best = _later(best, parse_time(value))
        except ValueError:
            log.warning("page %d: %r at %s is not a time; ignored", page.number, value, cursor_path)
    return best


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return max(a, b) if a is not None and b is not None else a or b


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
