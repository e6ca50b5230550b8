"""BigCommerce's v2 Orders API, the parts an order sync uses, with its failure modes.

- `GET /stores/{hash}/v2/orders?page=N&limit=M` (optionally `min_date_modified`, RFC 2822
  or ISO 8601): a JSON array of orders, oldest id first; `204 No Content` past the last
  page. An order does not hold its lines: `"products": {"url": <absolute>, "resource":
  "/orders/{id}/products"}` links them (and `shipping_addresses` likewise).
- `GET /stores/{hash}/v2/orders/{id}/products?page=N&limit=M`: that order's lines, same
  paging (a page past the last is 204).
- Auth: the `X-Auth-Token` header (401 otherwise). Dates are RFC 2822
  (`Tue, 20 Nov 2012 00:00:00 +0000`), money is text with four decimals.
- Faults: the request numbers in `throttle_requests` answer `429` with
  `X-Rate-Limit-Time-Reset-Ms` and `Retry-After` (seconds) once.
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from demo.emulators.base import Emulator, Reply, Request

_ORDER_LINES = re.compile(r"^/stores/(\w+)/v2/orders/(\d+)/products$")


def rfc2822(value: dt.datetime) -> str:
    return format_datetime(value.astimezone(dt.UTC)).replace("-0000", "+0000")


def generate_orders(count: int, lines_per_order: int = 3) -> list[dict[str, Any]]:
    """Orders 100.. with 1..`lines_per_order` lines each (the lines under `_lines`)."""
    start = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    orders = []
    for i in range(count):
        oid = 100 + i
        created = start + dt.timedelta(minutes=7 * i)
        lines = [
            {
                "id": oid * 10 + k,
                "order_id": oid,
                "product_id": 77 + k,
                "sku": f"NW-TEE-{['BLK', 'NVY', 'GRY'][k % 3]}-M",
                "name": "Trail Tee",
                "quantity": k + 1,
                "base_price": "28.0000",
                "price_ex_tax": "28.0000",
                "price_inc_tax": "30.4850",
                "total_inc_tax": f"{30.485 * (k + 1):.4f}",
            }
            for k in range(1 + i % lines_per_order)
        ]
        subtotal = sum(28 * (k + 1) for k in range(len(lines)))
        orders.append(
            {
                "id": oid,
                "customer_id": 0 if i % 4 == 3 else 5000 + i % 7,
                "date_created": rfc2822(created),
                "date_modified": rfc2822(created + dt.timedelta(hours=1)),
                "status_id": 11 if i % 5 else 2,
                "status": "Awaiting Fulfillment" if i % 5 else "Shipped",
                "subtotal_ex_tax": f"{subtotal:.4f}",
                "total_inc_tax": f"{subtotal * 1.08875:.4f}",
                "currency_code": "USD",
                "payment_status": "captured",
                "billing_address": {
                    "first_name": "Ada",
                    "last_name": f"Buyer{i % 7}",
                    "email": f"ada{i % 7}@example.com",
                    "city": "Brooklyn",
                    "country_iso2": "US",
                },
                "_lines": lines,
            }
        )
    return orders


class BigCommerceEmulator(Emulator):
    def __init__(
        self,
        orders: list[dict[str, Any]],
        token: str,
        store: str = "abc123",
        throttle_requests: tuple[int, ...] = (),
        gone: tuple[int, ...] = (),
    ) -> None:
        super().__init__()
        self.orders, self.token, self.store = orders, token, store
        #: orders listed whose products then answer 404 (deleted between the two calls)
        self.gone = set(gone)
        self.throttle_requests = set(throttle_requests)
        self._count = 0

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/stores/{self.store}/v2"

    def handle(self, r: Request) -> Reply:
        self._count += 1
        if self._count in self.throttle_requests:
            return Reply.json(
                {"status": 429, "title": "Too many requests"},
                429,
                "429",
                **{"X-Rate-Limit-Time-Reset-Ms": "50", "Retry-After": "0"},
            )
        if r.headers.get("x-auth-token") != self.token:
            return Reply.json([{"status": 401, "message": "unauthorized"}], 401, "unauthorized")
        if r.path == f"/stores/{self.store}/v2/orders":
            return self._page(self._listed(r), r, "orders")
        m = _ORDER_LINES.match(r.path)
        if m and m.group(1) == self.store:
            order = next((o for o in self.orders if o["id"] == int(m.group(2))), None)
            if order is None or order["id"] in self.gone:
                return Reply.json([{"status": 404, "message": "not found"}], 404, "products")
            return self._page(order["_lines"], r, "products")
        return Reply.json([{"status": 404, "message": "no route"}], 404, "not_found")

    def _listed(self, r: Request) -> list[dict[str, Any]]:
        since = r.query.get("min_date_modified")
        bound = _time(since) if since else None
        out = []
        for o in self.orders:
            if bound and _time(o["date_modified"]) < bound:
                continue
            shown = {k: v for k, v in o.items() if k != "_lines"}
            resource = f"/orders/{o['id']}/products"
            shown["products"] = {"url": self.api_url + resource, "resource": resource}
            out.append(shown)
        return out

    def _page(self, rows: list[Any], r: Request, route: str) -> Reply:
        page, limit = int(r.query.get("page", 1)), min(int(r.query.get("limit", 50)), 250)
        chunk = rows[(page - 1) * limit : page * limit]
        if not chunk:
            return Reply(204, b"", {}, route)
        return Reply.json(chunk, 200, route)


def _time(text: str) -> dt.datetime:
    if text[:3].isalpha():
        return parsedate_to_datetime(text)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
