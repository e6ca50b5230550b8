"""Helpers of the REST transport tests: a generic API with every pagination style,
connections to the local servers, fetching through a transport."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from typing import Any

from connectors.base import RawBatch, StreamRequest
from connectors.credentials import Credentials, build
from demo.emulators.base import Emulator, Reply, Request

#: the emulators' secrets in these tests: long and unique, so a grep finds any leak
SHOP_TOKEN = "shpat_" + secrets.token_hex(16)
SF_CLIENT_ID = "3MVG9testclient"
SF_SECRET = "sf-" + secrets.token_urlsafe(16)
GENERIC_SECRET = "generic-" + secrets.token_hex(8)
FAST = {"backoff_base_seconds": 0.01, "backoff_cap_seconds": 0.05, "retry_after_cap_seconds": 0.05}


class GenericApi(Emulator):
    """`/items` with page/offset/cursor pagination and `/items/{id}/parts` children.

    Auth: `Authorization: Bearer <token>`, or Basic `user:pw`, or `X-API-Key`/`?api_key=`
    (all compared with `secret`). `/items?page=N&per_page=M`, `?offset=&limit=`, or
    `?cursor=` (cursor in `meta.next`).
    """

    def __init__(self, items: int = 23, secret: str = GENERIC_SECRET, user: str = "u"):
        super().__init__()
        self.items = [
            {"id": i, "name": f"item {i}", "updated_at": f"2026-03-01T00:{i:02d}:00Z"}
            for i in range(1, items + 1)
        ]
        self.secret, self.user = secret, user

    def _authed(self, r: Request) -> bool:
        auth = r.headers.get("authorization", "")
        basic = "Basic " + base64.b64encode(f"{self.user}:{self.secret}".encode()).decode()
        return (
            self.secret
            in (
                auth.removeprefix("Bearer "),
                r.headers.get("x-api-key"),
                r.query.get("api_key"),
            )
            or auth == basic
        )

    def handle(self, r: Request) -> Reply:
        if "slow" in r.query:
            time.sleep(float(r.query["slow"]))
        if not self._authed(r):
            return Reply.json({"error": "unauthorized"}, 401, "unauthorized")
        parts = re.match(r"^/items/(\d+)/parts$", r.path)
        if parts:
            i = int(parts.group(1))
            if i % 5 == 0:
                return Reply.json({"error": "gone"}, 404, "parts")
            return Reply.json({"parts": [{"sku": f"P{i}-{k}"} for k in range(i % 3)]}, 200, "parts")
        if r.path != "/items":
            return Reply.json({"error": "no such path"}, 404, "not_found")
        rows = self.items
        if "since" in r.query:
            rows = [x for x in rows if x["updated_at"] >= r.query["since"]]
        if "until" in r.query:
            rows = [x for x in rows if x["updated_at"] < r.query["until"]]
        if "page" in r.query:
            size = int(r.query.get("per_page", 10))
            start = (int(r.query["page"]) - 1) * size
            return Reply.json({"data": rows[start : start + size]}, 200, "items")
        if "offset" in r.query:
            start, size = int(r.query["offset"]), int(r.query.get("limit", 10))
            return Reply.json({"data": rows[start : start + size]}, 200, "items")
        start = int(r.query.get("cursor", "0") or 0)
        size = int(r.query.get("limit", 10))
        nxt = start + size if start + size < len(rows) else None
        return Reply.json({"data": rows[start : start + size], "meta": {"next": nxt}}, 200, "items")


def port(emu: Emulator) -> int:
    assert emu._server is not None
    return int(emu._server.server_address[1])


def creds(emu: Emulator, **fields: Any) -> Credentials:
    """A connection to the emulator (as AIRFLOW_CONN_<ID> would give it)."""
    return build("api", conn_type="http", host="127.0.0.1", port=port(emu), **fields)


def fetch(tr: Any, options: dict[str, Any], fmt: str = "json", **kw: Any) -> list[RawBatch]:
    return list(tr.fetch(StreamRequest("s", fmt, options, **kw)))


def records(batch: RawBatch, path: str) -> list[Any]:
    doc = json.loads(batch.content)
    for part in path.split("."):
        doc = doc[part]
    assert isinstance(doc, list)
    return doc


def salesforce_rest(make_rest: Any, emu: Emulator, **auth: Any) -> Any:
    """A transport for the Salesforce emulator: OAuth2 client credentials, next_url pages."""
    spec = {"type": "oauth2_client_credentials", "token_url": "/services/oauth2/token", **auth}
    return make_rest(
        {"auth": spec, "paginator": {"type": "next_url", "next_url_path": "nextRecordsUrl"}},
        creds(emu, login=SF_CLIENT_ID, password=SF_SECRET),
    )
