"""HTTP for the REST transport: one session, retries with backoff, errors by cause.

Retried (tenacity, at most `max_retries` times): 429 (waiting `Retry-After`, seconds or
an HTTP date, capped by `retry_after_cap_seconds`), 408, 5xx, connection errors and
timeouts (exponential backoff with full jitter, capped by `backoff_cap_seconds`). A 401
asks the authenticator for a fresh credential once per request. Other answers:

- 400, 403, 404, 405, 410, 422 and a 401 that persists: `ConnectorConfigError`. The same
  request gets the same answer until someone fixes the path, the query or the
  connection's credentials, so Airflow should not retry it.
- any other 4xx, and retries exhausted: `ConnectorError` (retriable by Airflow later).

Messages name the method and URL without secret query parameters and quote the first
200 characters of the answer, with every known secret replaced by `***`.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from connectors.credentials import is_secret_key
from connectors.errors import ConnectorConfigError, ConnectorError

if TYPE_CHECKING:
    import requests

    from connectors.rest.auth import Authenticator
    from connectors.rest.config import RestConfig

log = logging.getLogger("connectors.rest")
CONFIG_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 422})
RETRY_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))
_JITTER = random.SystemRandom()
#: every secret a REST transport used in this process: scrubbed from urllib3's log lines
_SECRETS: set[str] = set()


class _Retry(Exception):
    """One failed attempt worth retrying; `wait` is the server's Retry-After, if any."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class RefusedRequest(ConnectorConfigError):
    """The API refused the request for a reason retrying cannot fix (`status` says which)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _Scrub(logging.Filter):
    """Replaces known secrets in log records (urllib3 logs each request's URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _SECRETS:
            return True
        text = record.getMessage()
        clean = scrub(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_FILTER = _Scrub()
for _name in ("urllib3.connectionpool", "urllib3", "connectors.rest"):
    if _FILTER not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_FILTER)


def scrub(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), cap)


class HttpClient:
    """A requests session with the connector's headers, timeouts, retries and auth."""

    def __init__(self, config: RestConfig, base_url: str, auth: Authenticator) -> None:
        import requests

        self.config = config
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "omshub"})
        self.session.headers.update(config.headers)
        self.secret_params = {k.lower() for k in auth.secret_params()}
        self.requests = 0  # for tests and logs
        self._last = 0.0
        for secret in auth.secrets():
            self.remember_secret(secret)

    @staticmethod
    def remember_secret(value: str) -> None:
        _SECRETS.add(value)

    def close(self) -> None:
        self.session.close()

    def endpoint(self, path: str) -> str:
        """A stream's `path` under base_url (a leading `/` is still under base_url)."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def follow(self, link: str) -> str:
        """A next link as an absolute URL (relative links resolve against base_url, as a
        browser would); a link to another origin is refused, so credentials never go there."""
        target = urlsplit(urljoin(self.base_url + "/", link))
        base = urlsplit(self.base_url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise ConnectorError(
                f"refusing to follow {self.shown(link)}: not on {base.scheme}://{base.netloc}"
            )
        return urlunsplit(target)

    def shown(self, url: str, params: dict[str, Any] | None = None) -> str:
        """`url` (+ params) without secret query parameters or credentials, for people."""
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        query += [(k, str(v)) for k, v in (params or {}).items()]
        keep = [(k, v) for k, v in query if not self._secret_param(k)]
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return scrub(urlunsplit((parts.scheme, netloc, parts.path, urlencode(keep), "")))

    def _secret_param(self, name: str) -> bool:
        return name.lower() in self.secret_params or is_secret_key(name)

    def get(self, url: str, params: dict[str, Any] | None = None) -> requests.Response:
        """GET with auth and retries; the response is 2xx (else a typed error)."""
        return self._retrying("GET", url, params or {}, authed=True)

    def token_request(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Any:
        """POST a token request (retried like any call); the JSON answer."""
        if form.get("client_secret"):
            self.remember_secret(form["client_secret"])
        target = url if "://" in url else self.endpoint(url)
        resp = self._retrying("POST", target, {}, authed=False, form=form, headers=headers)
        try:
            return json.loads(resp.content)
        except ValueError:
            raise ConnectorError(f"token endpoint {self.shown(url)}: not JSON") from None

    def _retrying(self, method: str, url: str, params: dict[str, Any], **kw: Any) -> Any:
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        c = self.config
        shown = self.shown(url, params)
        retrying = Retrying(
            retry=retry_if_exception_type(_Retry),
            stop=stop_after_attempt(c.max_retries + 1),
            wait=self._wait,
            before_sleep=lambda s: log.warning(
                "%s %s: %s; retry %d of %d in %.2fs",
                method,
                shown,
                s.outcome.exception() if s.outcome else "?",
                s.attempt_number,
                c.max_retries,
                s.next_action.sleep if s.next_action else 0,
            ),
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, params, shown, **kw)
        except _Retry as e:
            raise ConnectorError(
                f"{method} {shown}: gave up after {c.max_retries + 1} attempts: {e}"
            ) from None

    def _wait(self, state: Any) -> float:
        c = self.config
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.wait is not None:
            return exc.wait
        ceiling = min(
            c.backoff_cap_seconds, c.backoff_base_seconds * 2 ** (state.attempt_number - 1)
        )
        return _JITTER.uniform(0, ceiling)

    def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        shown: str,
        authed: bool,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        resp = self._send(method, url, params, authed, form, headers, shown)
        if resp.status_code == 401 and authed and self.auth.refresh(self):
            log.info("%s %s: 401, re-authenticated, trying once more", method, shown)
            resp = self._send(method, url, params, authed, form, headers, shown)
        return self._check(method, shown, resp, authed)

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        authed: bool,
        form: dict[str, str] | None,
        headers: dict[str, str] | None,
        shown: str,
    ) -> requests.Response:
        import requests

        hdrs, prms = dict(headers or {}), dict(params)
        if authed:
            self.auth.apply(self, hdrs, prms)
        self._polite()
        self.requests += 1
        try:
            return self.session.request(
                method,
                url,
                params=prms,
                data=form,
                headers=hdrs,
                timeout=self.config.timeout_seconds,
                allow_redirects=False,
            )
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as e:
            raise _Retry(f"{type(e).__name__}") from None
        except requests.RequestException as e:
            raise ConnectorError(f"{method} {shown}: {type(e).__name__}") from None

    def _polite(self) -> None:
        gap = self.config.min_interval_seconds
        if gap:
            wait = self._last + gap - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()

    def _check(
        self, method: str, shown: str, resp: requests.Response, authed: bool
    ) -> requests.Response:
        status = resp.status_code
        if 200 <= status < 300:
            return resp
        why = f"{status} {resp.reason or ''}".strip()
        body = scrub(resp.text[:200].strip().replace("\n", " "))
        detail = f"{why}: {body}" if body else why
        if status in RETRY_STATUSES:
            wait = retry_after(resp.headers.get("Retry-After"), self.config.retry_after_cap_seconds)
            raise _Retry(detail, wait if status in (429, 503) else None)
        if 300 <= status < 400:
            raise ConnectorError(
                f"{method} {shown}: redirected ({why}); set base_url to the target"
            )
        if status in CONFIG_STATUSES:
            hint = (
                " (after re-authenticating): check the connection's credentials"
                if status == 401
                else ""
            )
            raise RefusedRequest(f"{method} {shown}: {detail}{hint}", status)
        raise ConnectorError(f"{method} {shown}: {detail}")
