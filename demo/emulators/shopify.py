"""Shopify Admin REST API (2024-01), the parts an order sync uses, with its failure modes.

- `GET /admin/api/2024-01/orders.json`: `limit` (default 50, at most 250),
  `updated_at_min` / `updated_at_max` (inclusive), `status` (open by default; any, closed,
  cancelled), sorted by `updated_at` ascending (then id). Cursor pagination as Shopify
  documents it: a `Link: <...page_info=...>; rel="next"` header (plus rel="previous"
  after the first page); `page_info` is opaque, and next to it only `limit` and `fields`
  are allowed (anything else: 400).
- `GET /admin/api/2024-01/orders/{id}/transactions.json`: an order's transactions.
- Auth: the `X-Shopify-Access-Token` header; a wrong or revoked token (`revoke()`) is a
  401 with Shopify's message.
- Faults, by page number of a listing (1 = its first page): `throttle_pages` answer 429
  with `Retry-After` once each, `error_pages` a 500 once each, every page from
  `fail_from_page` on a 500 every time (until it is set back to None).
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from demo.emulators.base import Emulator, Reply, Request

API = "/admin/api/2024-01"
_TRANSACTIONS = re.compile(rf"^{API}/orders/(\d+)/transactions\.json$")
_STATUSES = ("open", "closed", "cancelled", "any")
_FINANCIAL = ("paid", "pending", "authorized", "partially_refunded", "refunded")


def _time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def generate_orders(n: int, start: str = "2026-01-01T00:00:00Z", seconds: int = 60) -> list[dict]:
    """`n` orders updated `seconds` apart, three at a time sharing one update time (so a
    page boundary falls inside a group of equal times)."""
    t0 = _time(start)
    orders = []
    for i in range(n):
        updated = (t0 + dt.timedelta(seconds=seconds * (i // 3))).isoformat()
        orders.append(
            {
                "id": 5_000_000_000_000 + i,
                "name": f"#{100_000 + i}",
                "order_number": 100_000 + i,
                "email": f"buyer{i}@example.com",
                "created_at": updated,
                "updated_at": updated,
                "closed_at": None,
                "cancelled_at": None,
                "currency": "USD",
                "financial_status": _FINANCIAL[i % len(_FINANCIAL)],
                "total_price": f"{10 + i % 90}.{i % 100:02d}",
            }
        )
    return orders


def load_orders(paths: Iterable[Path]) -> list[dict]:
    """The orders of Shopify export files (`{"orders": [...]}`), e.g. demo/systems/shopify."""
    orders: list[dict] = []
    for path in paths:
        orders += json.loads(Path(path).read_text())["orders"]
    return orders


def _has_status(order: dict, status: str) -> bool:
    closed, cancelled = order.get("closed_at"), order.get("cancelled_at")
    return {
        "any": True,
        "open": not closed and not cancelled,
        "closed": bool(closed),
        "cancelled": bool(cancelled),
    }[status]


class ShopifyEmulator(Emulator):
    """A shop's Admin API serving `orders` (and a transaction or two per order)."""

    def __init__(
        self,
        orders: list[dict] | None = None,
        token: str | None = None,
        throttle_pages: Iterable[int] = (),
        error_pages: Iterable[int] = (),
        fail_from_page: int | None = None,
        retry_after: str = "2.0",
    ) -> None:
        super().__init__()
        self.orders = sorted(
            orders if orders is not None else generate_orders(250),
            key=lambda o: (_time(o["updated_at"]), o["id"]),
        )
        #: random unless given, so no secret-looking literal lives in the code
        self._keys = [(_time(o["updated_at"]), o["id"]) for o in self.orders]
        self.token = token or "shpat_" + secrets.token_hex(16)
        self.revoked = False
        self.throttle_pages = set(throttle_pages)
        self.error_pages = set(error_pages)
        self.fail_from_page = fail_from_page
        self.retry_after = retry_after
        self._fired: set[tuple[str, int]] = set()

    def revoke(self) -> None:
        """The token is revoked (or expired): every call is a 401 from now on."""
        self.revoked = True

    def handle(self, request: Request) -> Reply:
        if request.headers.get("x-shopify-access-token") != self.token or self.revoked:
            return Reply.json(
                {
                    "errors": "[API] Invalid API key or access token"
                    " (unrecognized login or wrong password)"
                },
                401,
                "unauthorized",
            )
        if request.method == "GET" and request.path == f"{API}/orders.json":
            return self._orders(request)
        found = _TRANSACTIONS.match(request.path)
        if request.method == "GET" and found:
            return self._transactions(int(found.group(1)))
        return Reply.json({"errors": "Not Found"}, 404, "not_found")

    def _orders(self, request: Request) -> Reply:
        q = dict(request.query)
        try:
            limit = int(q.pop("limit", "50"))
        except ValueError:
            return Reply.json({"errors": {"limit": "must be a number"}}, 400, "orders")
        if not 1 <= limit <= 250:
            return Reply.json({"errors": {"limit": "must be between 1 and 250"}}, 400, "orders")
        q.pop("fields", None)
        if "page_info" in q:
            token = q.pop("page_info")
            if q:
                return Reply.json(
                    {"errors": {"page_info": f"cannot be used with {', '.join(sorted(q))}"}},
                    400,
                    "orders",
                )
            try:
                padded = token + "=" * (-len(token) % 4)
                state = json.loads(base64.urlsafe_b64decode(padded.encode()))
                filters, after, page = state["f"], state["a"], int(state["p"])
            except (ValueError, KeyError, TypeError):
                return Reply.json({"errors": {"page_info": "Invalid value."}}, 400, "orders")
        else:
            filters, after, page = q, None, 1
        fault = self._fault(page)
        if fault is not None:
            return fault
        try:
            matching = self._filter(filters, after, limit)
        except ValueError as e:
            return Reply.json({"errors": str(e)}, 400, "orders")
        chunk = matching[:limit]
        headers = {"X-Shopify-Shop-Api-Call-Limit": f"{len(self.requests) % 40 + 1}/40"}
        links = []
        if page > 1:
            links.append(self._link({"f": filters, "a": None, "p": 1}, limit, "previous"))
        if len(matching) > limit:
            last = chunk[-1]
            state = {"f": filters, "a": [last["updated_at"], last["id"]], "p": page + 1}
            links.append(self._link(state, limit, "next"))
        if links:
            headers["Link"] = ", ".join(links)
        return Reply.json({"orders": chunk}, 200, "orders", **headers)

    def _fault(self, page: int) -> Reply | None:
        if self.fail_from_page is not None and page >= self.fail_from_page:
            return Reply.json({"errors": "Internal Server Error"}, 500, "orders")
        for kind, pages in (("429", self.throttle_pages), ("500", self.error_pages)):
            if page in pages and (kind, page) not in self._fired:
                self._fired.add((kind, page))
                if kind == "429":
                    return Reply.json(
                        {
                            "errors": "Exceeded 2 calls per second for api client. Reduce request"
                            " rates to resume uninterrupted service."
                        },
                        429,
                        "orders",
                        **{"Retry-After": self.retry_after},
                    )
                return Reply.json({"errors": "Internal Server Error"}, 500, "orders")
        return None

    def _filter(self, filters: dict[str, str], after: list[Any] | None, limit: int) -> list[dict]:
        """Up to `limit + 1` orders past `after` that pass the filters (sorted keys and a
        bisect: a 10,000-order shop answers each page in well under a millisecond)."""
        status = filters.get("status", "open")
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(_STATUSES)}")
        low = _time(filters["updated_at_min"]) if "updated_at_min" in filters else None
        high = _time(filters["updated_at_max"]) if "updated_at_max" in filters else None
        if after:
            begin = bisect.bisect_right(self._keys, (_time(after[0]), after[1]))
        else:
            begin = bisect.bisect_left(self._keys, (low, -1)) if low else 0
        out: list[dict] = []
        for i in range(begin, len(self.orders)):
            if high and self._keys[i][0] > high:
                break
            order = self.orders[i]
            if (low and self._keys[i][0] < low) or not _has_status(order, status):
                continue
            out.append(order)
            if len(out) > limit:
                break
        return out

    def _link(self, state: dict, limit: int, rel: str) -> str:
        token = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
        return f'<{self.origin}{API}/orders.json?limit={limit}&page_info={token}>; rel="{rel}"'

    def _transactions(self, order_id: int) -> Reply:
        order = next((o for o in self.orders if o["id"] == order_id), None)
        if order is None:
            return Reply.json({"errors": "Not Found"}, 404, "transactions")
        kinds = ["authorization", "capture"] if order_id % 2 else ["sale"]
        rows = [
            {
                "id": order_id * 10 + k,
                "order_id": order_id,
                "kind": kind,
                "status": "success",
                "amount": order.get("total_price", "0.00"),
                "currency": order.get("currency", "USD"),
                "created_at": order["updated_at"],
            }
            for k, kind in enumerate(kinds)
        ]
        return Reply.json({"transactions": rows}, 200, "transactions")
