"""A PostgreSQL server for tests and benchmarks, found or started on demand.

Order of preference (first that works wins, cached per process):

1. ``OMSHUB_TEST_PG_URL`` when set (an explicit choice: if it does not answer we fail
   instead of silently testing against another server);
2. the local server at 127.0.0.1:5432 (user ``postgres``, trust auth), which CI and the
   project's machines already run;
3. a throwaway cluster (``initdb`` + ``pg_ctl``) in a temp dir, on a free loopback port,
   stopped and removed at interpreter exit. ``OMSHUB_PG_FORCE_THROWAWAY=1`` skips 1 and 2,
   so this path can be exercised on machines that have a server.

Every URL returned names its driver (``postgresql+psycopg``): SQLAlchemy 2.1 maps a bare
``postgresql://`` to psycopg 3 while other tools map it to psycopg2, and the resulting
errors show up far from their cause.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

ENV_URL = "OMSHUB_TEST_PG_URL"
ENV_FORCE_THROWAWAY = "OMSHUB_PG_FORCE_THROWAWAY"
LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DRIVER = "postgresql+psycopg"
THROWAWAY_OS_USER = "omshub-pg"
PROBE_TIMEOUT_S = 2  # libpq's minimum connect_timeout is 2 s

_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,29}")  # prefix; + "_" + 32 hex stays <= 63 chars
_CREATED_DB_RE = re.compile(r"[a-z][a-z0-9_]*_[0-9a-f]{32}")
_TRUTHY = {"1", "true", "yes", "on"}

_lock = threading.Lock()
_cached_url: str | None = None


# --------------------------------------------------------------------------- helpers


def _normalise(url: str) -> URL:
    """Parse ``url`` and pin the psycopg 3 driver, refusing non-PostgreSQL URLs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise RuntimeError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=DRIVER)


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _probe(url: URL, timeout_s: int = PROBE_TIMEOUT_S) -> str | None:
    """Return None when ``url`` answers ``select 1``, else a one-line reason."""
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(libpq_url, connect_timeout=timeout_s, autocommit=True) as conn:
            conn.execute("select 1")
    except Exception as exc:
        first_line = next(iter(str(exc).strip().splitlines()), "")
        return f"{type(exc).__name__}: {first_line}"
    return None


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUTHY


# --------------------------------------------------------------------------- throwaway


def _newest_bindir() -> Path:
    """Pick the newest ``/usr/lib/postgresql/<ver>/bin`` that has initdb and pg_ctl."""
    candidates: list[tuple[tuple[int, ...], Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if not ((bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()):
            continue
        version = tuple(int(p) for p in re.findall(r"\d+", bindir.parent.name)) or (0,)
        candidates.append((version, bindir))
    if not candidates:
        found = shutil.which("initdb")
        if found and shutil.which("pg_ctl"):
            return Path(found).parent
        raise RuntimeError(
            "no initdb/pg_ctl under /usr/lib/postgresql/*/bin nor on PATH "
            "(apt-get install postgresql)"
        )
    return max(candidates)[1]


def _unprivileged_ids() -> tuple[int, int] | None:
    """(uid, gid) to run the cluster as when we are root (postgres refuses root), else None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", THROWAWAY_OS_USER):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
         THROWAWAY_OS_USER],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    entry = pwd.getpwnam(THROWAWAY_OS_USER)
    return entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ThrowawayCluster:
    """A private PostgreSQL cluster in a temp dir; ``stop()`` shuts it down and removes it."""

    root: Path
    bindir: Path
    port: int
    run_as: tuple[int, int] | None
    owner_pid: int = field(default_factory=os.getpid)
    stopped: bool = False

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def sockdir(self) -> Path:
        return self.root / "sock"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    @property
    def url(self) -> str:
        return f"{DRIVER}://postgres@127.0.0.1:{self.port}/postgres"

    def postmaster_pid(self) -> int | None:
        """PID of the running postmaster, read from ``postmaster.pid`` (None if absent)."""
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool as the cluster's owner (never as root)."""
        env = {**os.environ, "LC_ALL": "C"}
        if self.run_as is None:
            return subprocess.run(
                args, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout,
                check=False,
            )  # fmt: skip
        uid, gid = self.run_as
        return subprocess.run(
            args, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout,
            check=False, user=uid, group=gid, extra_groups=[],
        )  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown, then delete the directory; only the process that started it stops it
        (a forked child exiting normally must not kill its parent's server)."""
        if self.stopped or os.getpid() != self.owner_pid:
            return
        self.stopped = True
        pid = self.postmaster_pid()
        if self.datadir.exists():
            done = self.run(
                [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.datadir),
                 "-m", "fast", "-w", "-t", "30"],
                timeout=40,
            )  # fmt: skip
            if done.returncode != 0 and pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGQUIT)  # immediate shutdown
                    time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)


def start_throwaway_cluster(timeout_s: int = 30, attempts: int = 3) -> ThrowawayCluster:
    """initdb + pg_ctl start a private cluster on 127.0.0.1:<free port>, trust auth.

    fsync is off: the data is disposable and it makes initdb/CREATE DATABASE fast; do not
    read durable-write benchmarks off this server.
    """
    bindir = _newest_bindir()
    run_as = _unprivileged_ids()
    # /tmp, not $TMPDIR: when root, TMPDIR may sit under /root, which postgres cannot enter.
    parent = "/tmp" if run_as is not None and os.path.isdir("/tmp") else None
    root = Path(tempfile.mkdtemp(prefix="omshub-pg-", dir=parent))
    cluster = ThrowawayCluster(root=root, bindir=bindir, port=0, run_as=run_as)
    try:
        cluster.sockdir.mkdir()
        if run_as is not None:
            for path in (root, cluster.sockdir):
                os.chown(path, *run_as)
        init = cluster.run(
            [str(bindir / "initdb"), "-D", str(cluster.datadir), "-U", "postgres",
             "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            timeout=120,
        )  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}): {init.stderr.strip()[-800:]}")
        last_error = ""
        for _ in range(attempts):  # a free port can be taken between probe and bind: retry
            cluster.port = _free_port()
            opts = " ".join(
                shlex.quote(o)
                for o in (
                    "-c", "listen_addresses=127.0.0.1", "-p", str(cluster.port),
                    "-k", str(cluster.sockdir), "-c", "fsync=off",
                    "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                )
            )  # fmt: skip
            started = cluster.run(
                [str(bindir / "pg_ctl"), "start", "-D", str(cluster.datadir), "-w",
                 "-t", str(timeout_s), "-l", str(cluster.logfile), "-o", opts],
                timeout=timeout_s + 10,
            )  # fmt: skip
            if started.returncode == 0 and _probe(make_url(cluster.url)) is None:
                return cluster
            log_tail = ""
            with contextlib.suppress(OSError):
                log_tail = cluster.logfile.read_text()[-800:]
            last_error = f"pg_ctl start failed ({started.returncode}): {started.stderr} {log_tail}"
            cluster.run([str(bindir / "pg_ctl"), "stop", "-D", str(cluster.datadir), "-m", "i"])
        raise RuntimeError(last_error.strip())
    except BaseException:
        cluster.stop()
        raise


# --------------------------------------------------------------------------- public API


def _discover() -> str:
    tried: list[str] = []
    if _truthy(ENV_FORCE_THROWAWAY):
        tried.append(f"{ENV_URL} and local server skipped ({ENV_FORCE_THROWAWAY} is set)")
    else:
        env_url = os.environ.get(ENV_URL, "").strip()
        if env_url:
            parsed = _normalise(env_url)
            reason = _probe(parsed)
            if reason is None:
                return _render(parsed)
            raise RuntimeError(
                f"{ENV_URL}={parsed.render_as_string(hide_password=True)} does not answer: "
                f"{reason}. Unset it to fall back to the local or a throwaway server."
            )
        tried.append(f"{ENV_URL}: not set")
        reason = _probe(make_url(LOCAL_URL))
        if reason is None:
            return LOCAL_URL
        tried.append(f"local server {LOCAL_URL}: {reason}")
    try:
        cluster = start_throwaway_cluster()
    except Exception as exc:
        tried.append(f"throwaway cluster (initdb + pg_ctl): {exc}")
        raise RuntimeError(
            "no PostgreSQL server for tests. Tried:\n  - "
            + "\n  - ".join(tried)
            + f"\nSet {ENV_URL}=postgresql+psycopg://user:pass@host:port/db to use another."
        ) from exc
    atexit.register(cluster.stop)
    return cluster.url


def server_url() -> str:
    """Base ``postgresql+psycopg://`` URL (maintenance DB) of a reachable server; cached."""
    global _cached_url
    with _lock:
        if _cached_url is None:
            _cached_url = _discover()
        return _cached_url


def _quote_ident(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"refusing database name {name!r}: only [a-z0-9_] allowed")
    return f'"{name}"'


@contextlib.contextmanager
def _admin(url: URL) -> Iterator[Connection]:
    """AUTOCOMMIT connection: CREATE/DROP DATABASE cannot run inside a transaction."""
    engine = create_engine(
        url.set(drivername=DRIVER), isolation_level="AUTOCOMMIT", poolclass=NullPool,
        connect_args={"connect_timeout": 10},
    )  # fmt: skip
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _maintenance_db(target: URL) -> str:
    """The base URL's database when ``target`` is on the cached server, else ``postgres``."""
    if _cached_url is not None:
        base = make_url(_cached_url)
        same = (base.host, base.port, base.username) == (target.host, target.port, target.username)
        if same and base.database and base.database != target.database:
            return base.database
    return "postgres"


def create_database(prefix: str = "omshub_test") -> str:
    """Create an empty, uniquely named database and return its URL (for test isolation)."""
    if not _NAME_RE.fullmatch(prefix):
        raise ValueError(f"prefix {prefix!r} must match {_NAME_RE.pattern}")
    name = f"{prefix}_{uuid.uuid4().hex}"
    base = make_url(server_url())
    with _admin(base) as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {_quote_ident(name)}")
    return _render(base.set(database=name))


def drop_database(url: str) -> None:
    """Drop a database made by ``create_database``, disconnecting its other sessions first.

    Only names of the ``<prefix>_<32 hex>`` shape are accepted, so a wrong URL cannot drop
    ``postgres`` or a real database.
    """
    target = _normalise(url)
    name = target.database or ""
    if not _CREATED_DB_RE.fullmatch(name):
        raise ValueError(f"refusing to drop {name!r}: not a database made by create_database()")
    with _admin(target.set(database=_maintenance_db(target))) as conn:
        conn.execute(
            text(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = :name and pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        version = conn.dialect.server_version_info or (0,)
        force = " WITH (FORCE)" if version >= (13,) else ""
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_quote_ident(name)}{force}")


if __name__ == "__main__":  # manual check: python tests/pgserver.py
    t0 = time.perf_counter()
    base_url = server_url()
    print(f"server: {make_url(base_url).render_as_string(hide_password=True)}")
    db_url = create_database()
    print(f"created: {make_url(db_url).database}")
    probe_engine = create_engine(db_url, poolclass=NullPool)
    with probe_engine.connect() as probe:
        print("select 1 ->", probe.execute(text("select 1")).scalar_one())
        print("version ->", probe.execute(text("select version()")).scalar_one())
    probe_engine.dispose()
    drop_database(db_url)
    print(f"dropped; {time.perf_counter() - t0:.2f} s")
