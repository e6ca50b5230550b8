"""A small local HTTP server for vendor emulators: 127.0.0.1, a free port, one thread.

Subclasses implement `handle(request) -> Reply`. Every request is counted (`hits`, by
the route name the subclass gives) and logged (`requests`), so tests can assert that a
retry or a re-authentication really happened and which parameters were sent.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    route: str = ""  # set once handled: the route name of its reply

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    route: str = ""  # what the request was, for `hits`

    @classmethod
    def json(cls, doc: Any, status: int = 200, route: str = "", **headers: str) -> Reply:
        body = json.dumps(doc, separators=(",", ":")).encode()
        hdrs = {"Content-Type": "application/json; charset=utf-8", **headers}
        return cls(status, body, hdrs, route)


class Emulator:
    """Start with `with Emulator() as emu:` (or `start()`/`stop()`); `base_url` is where."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> str:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # one buffered write per answer, no Nagle: no 40 ms delayed-ACK stall per call
            wbufsize = -1
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                emulator._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self._server is not None, "the emulator is not started"
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        assert self._server is not None, "the emulator is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return self.origin

    # -- requests ------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def sent(self, route: str | None = None) -> list[Request]:
        """The requests received so far (of one route name, when given)."""
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        request = Request(
            h.command,
            parts.path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            {k.lower(): v for k, v in h.headers.items()},
            h.rfile.read(length) if length else b"",
        )
        try:
            reply = self.handle(request)
        except Exception as e:  # an emulator bug is a 500 the test will see
            reply = Reply.json({"errors": f"emulator: {type(e).__name__}: {e}"}, 500, "crash")
        with self._lock:
            request.route = reply.route
            self.requests.append(request)
            self.hits[reply.route or "other"] += 1
            if reply.status >= 400:
                self.hits[str(reply.status)] += 1
        h.send_response(reply.status)
        for key, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(reply.body)
