"""Salesforce REST API (v60.0): OAuth2 client credentials and SOQL queries.

- `POST /services/oauth2/token` with a form `grant_type=client_credentials&client_id=..
  &client_secret=..` (or the client in HTTP Basic): `{access_token, instance_url, id,
  token_type: "Bearer", issued_at, signature}`. Like Salesforce, no `expires_in`: a session
  ends when the API answers 401 `INVALID_SESSION_ID`. Non-standard, for tests:
  `advertise_expiry=True` adds `expires_in` (= `token_ttl`) to the answer.
- `GET /services/data/v60.0/query?q=SELECT ...`: `{totalSize, done, records,
  nextRecordsUrl}`; `nextRecordsUrl` (`/services/data/v60.0/query/01g...-2000`) gives the
  next batch. Batch size: 2000, or the `Sforce-Query-Options: batchSize=N` header
  (200..2000), or `batch_size` set on the emulator (tests).
- SOQL subset: `SELECT f1, f2 FROM Object [WHERE f op value [AND ...]] [ORDER BY f
  [ASC|DESC]] [LIMIT n]`, op one of = != < <= > >=, values datetime literals
  (`2026-11-21T09:08:00Z`), 'strings' or numbers. Errors as Salesforce gives them:
  `[{"message": ..., "errorCode": "MALFORMED_QUERY" | "INVALID_TYPE" | "INVALID_FIELD"}]`.
- Sessions: `token_ttl` seconds (None: forever); `expire_sessions()` ends them all now.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from demo.emulators.base import Emulator, Reply, Request

VERSION = "v60.0"
_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COND = re.compile(r"^\s*(\w+)\s*(<=|>=|!=|=|<|>)\s*('(?:[^'\\]|\\.)*'|[\w:.+-]+)\s*$")
_LOCATOR = re.compile(rf"^/services/data/{VERSION}/query/(01g\w+)-(\d+)$")


def load_records(path: Path) -> list[dict]:
    """The records of a saved query response (`{"records": [...]}`), attributes dropped."""
    doc = json.loads(Path(path).read_text())
    return [{k: v for k, v in r.items() if k != "attributes"} for r in doc["records"]]


def _error(status: int, code: str, message: str, route: str) -> Reply:
    return Reply.json([{"message": message, "errorCode": code}], status, route)


def _value(literal: str) -> Any:
    if literal.startswith("'"):
        return literal[1:-1].replace("\\'", "'")
    if literal.lower() in ("null", "true", "false"):
        return {"null": None, "true": True, "false": False}[literal.lower()]
    if "T" in literal and "-" in literal:
        return _time(literal)
    return float(literal)


def _time(value: str) -> dt.datetime:
    text = value.replace("Z", "+00:00")
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _comparable(value: Any, like: Any) -> Any:
    if isinstance(like, dt.datetime) and isinstance(value, str):
        return _time(value)
    if isinstance(like, float) and isinstance(value, str):
        return float(value)
    return value


_OPS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a is not None and a < b,
    "<=": lambda a, b: a is not None and a <= b,
    ">": lambda a, b: a is not None and a > b,
    ">=": lambda a, b: a is not None and a >= b,
}


class SalesforceEmulator(Emulator):
    """An org with `objects` (sObject name -> records, each with an `Id`)."""

    def __init__(
        self,
        objects: dict[str, list[dict]] | None = None,
        client_id: str = "3MVG9emulator",
        client_secret: str | None = None,
        token_ttl: float | None = None,
        advertise_expiry: bool = False,
        batch_size: int | None = None,
    ) -> None:
        super().__init__()
        self.objects = objects or {}
        self.client_id = client_id
        #: random unless given, so no secret-looking literal lives in the code
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.token_ttl = token_ttl
        self.advertise_expiry = advertise_expiry
        self.batch_size = batch_size
        self._sessions: dict[str, float] = {}  # token -> issued (monotonic)
        self.issued: list[str] = []  # every access token handed out (tests grep for them)
        self._cursors: dict[str, tuple[list[dict], int]] = {}  # locator -> records, size

    def expire_sessions(self) -> None:
        """Every session ends now (the next call with an old token is a 401)."""
        self._sessions.clear()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/services/oauth2/token":
            return self._token(request)
        if request.method != "GET" or not request.path.startswith(f"/services/data/{VERSION}/"):
            return _error(404, "NOT_FOUND", "The requested resource does not exist", "not_found")
        if not self._session_ok(request):
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid", "unauthorized")
        if request.path == f"/services/data/{VERSION}/query":
            return self._query(request)
        found = _LOCATOR.match(request.path)
        if found:
            return self._more(found.group(1), int(found.group(2)))
        return _error(404, "NOT_FOUND", "The requested resource does not exist", "not_found")

    def _token(self, request: Request) -> Reply:
        form = request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return Reply.json(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                400,
                "token",
            )
        if (client_id, secret) != (self.client_id, self.client_secret):
            return Reply.json(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                400,
                "token",
            )
        token = "00DEMULATOR!" + secrets.token_urlsafe(24)
        self._sessions[token] = time.monotonic()
        self.issued.append(token)
        doc: dict[str, Any] = {
            "access_token": token,
            "instance_url": self.origin,
            "id": f"{self.origin}/id/00DEMULATOR0000AAA/005EMULATOR0000AAA",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        if self.advertise_expiry and self.token_ttl is not None:
            doc["expires_in"] = self.token_ttl
        return Reply.json(doc, 200, "token")

    def _session_ok(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        issued = self._sessions.get(auth.removeprefix("Bearer ").strip())
        if issued is None:
            return False
        return self.token_ttl is None or time.monotonic() - issued < self.token_ttl

    def _query(self, request: Request) -> Reply:
        soql = request.query.get("q", "")
        m = _SOQL.match(soql)
        if not m:
            return _error(400, "MALFORMED_QUERY", f"unexpected token in: {soql[:80]}", "query")
        obj = next((o for o in self.objects if o.lower() == m["obj"].lower()), None)
        if obj is None:
            return _error(
                400, "INVALID_TYPE", f"sObject type '{m['obj']}' is not supported.", "query"
            )
        fields = [f.strip() for f in m["fields"].split(",")]
        rows = self.objects[obj]
        known = {k.lower(): k for r in rows[:1] for k in r} or {"id": "Id"}
        bad = [f for f in fields if f.lower() not in known]
        if bad:
            return _error(
                400, "INVALID_FIELD", f"No such column '{bad[0]}' on entity '{obj}'", "query"
            )
        try:
            rows = [r for r in rows if self._where(r, m["where"], known)]
        except ValueError as e:
            return _error(400, "MALFORMED_QUERY", str(e), "query")
        if m["order"]:
            key = known.get(m["order"].lower(), m["order"])
            rows = sorted(rows, key=lambda r: (r.get(key) is None, _sortable(r.get(key))))
            if (m["dir"] or "ASC").upper() == "DESC":
                rows.reverse()
        if m["limit"]:
            rows = rows[: int(m["limit"])]
        picked = [self._pick(obj, r, [known[f.lower()] for f in fields]) for r in rows]
        locator = "01g" + secrets.token_hex(8)
        self._cursors[locator] = (picked, self._size(request))
        return self._batch(locator, 0, "query")

    def _where(self, row: dict, where: str | None, known: dict[str, str]) -> bool:
        if not where:
            return True
        for cond in re.split(r"\s+AND\s+", where, flags=re.IGNORECASE):
            c = _COND.match(cond)
            if not c:
                raise ValueError(f"unexpected token in condition: {cond[:60]}")
            field, op, literal = c.groups()
            if field.lower() not in known:
                raise ValueError(f"No such column '{field}'")
            want = _value(literal)
            have = _comparable(row.get(known[field.lower()]), want)
            if not _OPS[op](have, want):
                return False
        return True

    def _pick(self, obj: str, row: dict, fields: list[str]) -> dict:
        out: dict[str, Any] = {
            "attributes": {
                "type": obj,
                "url": f"/services/data/{VERSION}/sobjects/{obj}/{row.get('Id')}",
            }
        }
        out.update({f: row.get(f) for f in fields})
        return out

    def _size(self, request: Request) -> int:
        if self.batch_size:
            return self.batch_size
        opts = request.headers.get("sforce-query-options", "")
        m = re.search(r"batchSize=(\d+)", opts)
        return min(max(int(m.group(1)), 200), 2000) if m else 2000

    def _more(self, locator: str, offset: int) -> Reply:
        if locator not in self._cursors:
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", "query_more")
        return self._batch(locator, offset, "query_more")

    def _batch(self, locator: str, offset: int, route: str) -> Reply:
        rows, size = self._cursors[locator]
        chunk = rows[offset : offset + size]
        done = offset + size >= len(rows)
        doc: dict[str, Any] = {"totalSize": len(rows), "done": done}
        if not done:
            doc["nextRecordsUrl"] = f"/services/data/{VERSION}/query/{locator}-{offset + size}"
        doc["records"] = chunk
        return Reply.json(doc, 200, route)


def _sortable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return _time(value).isoformat()
        except ValueError:
            return value
    return value
