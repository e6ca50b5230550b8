"""A Redis broker for the cluster tests, found or started on demand (as pgserver does for
PostgreSQL).

1. `OMSHUB_TEST_REDIS_URL` when set (it must answer: an explicit choice never falls back);
2. the local server on 127.0.0.1:6379 when it answers PING (CI and the project's machines
   run one);
3. a private `redis-server` on a free loopback port, without persistence, stopped at the
   end. `OMSHUB_REDIS_FORCE_PRIVATE=1` skips 1 and 2, so this path can be exercised on a
   machine that has a server.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cluster import ClusterError, free_port, wait_for

ENV_URL = "OMSHUB_TEST_REDIS_URL"
ENV_FORCE_PRIVATE = "OMSHUB_REDIS_FORCE_PRIVATE"
LOCAL = ("127.0.0.1", 6379)


def ping(host: str, port: int) -> bool:
    """True when a Redis answers PING without a password."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    """A broker URL by the order above; raises ClusterError saying what was tried."""
    force = os.environ.get(ENV_FORCE_PRIVATE, "").strip().lower() in {"1", "true", "yes"}
    url = os.environ.get(ENV_URL, "").strip()
    if url and not force:
        from redis import Redis

        try:
            Redis.from_url(url, socket_connect_timeout=2).ping()
        except Exception as e:
            raise ClusterError(f"{ENV_URL}={url} does not answer PING: {e}") from e
        yield url
        return
    if not force and ping(*LOCAL):
        yield "redis://{}:{}/0".format(*LOCAL)
        return
    with private_server() as port:
        yield f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def private_server(timeout: float = 15) -> Iterator[int]:
    """`redis-server` on a free loopback port in a temp dir; its port. Stopped at the end."""
    binary = shutil.which("redis-server")
    if not binary:
        raise ClusterError(
            f"no Redis for the cluster tests: nothing answers on {LOCAL[0]}:{LOCAL[1]}, "
            f"{ENV_URL} is not set and redis-server is not installed "
            "(.ci/ensure-system-deps.sh installs it; or apt-get install redis-server)"
        )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="omshub-redis-") as tmp:
        log = Path(tmp) / "redis.log"
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp, "--logfile", str(log)],
            start_new_session=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            try:
                wait_for(f"redis-server on port {port}", lambda: ping("127.0.0.1", port), timeout)
            except ClusterError as e:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
                raise ClusterError(f"{e}; exit code {proc.poll()}; its log: {tail}") from e
            yield port
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
