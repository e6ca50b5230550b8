"""A real CeleryExecutor cluster as subprocesses: the project's own DAGs, Redis, PostgreSQL.

`Cluster.start()` migrates a fresh PostgreSQL metadata DB, then starts the api-server,
scheduler, dag-processor and two `airflow celery worker`s, each in its own process group
with its output in a log file (`Cluster.logs()` gives every tail, for failure messages).
`stop()` ends every process group and every task process the workers forked (the task
runner puts itself in a process group of its own, so killing a worker's group alone
would orphan it). Every wait has a deadline and says what it waited for.

Timeouts are shortened so a dead worker is noticed in seconds: tasks heartbeat every
2 s and the scheduler fails a task instance silent for `HEARTBEAT_TIMEOUT_S`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil
import psycopg
from psycopg.rows import dict_row
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
HERE = Path(__file__).resolve().parent
HEARTBEAT_TIMEOUT_S = 12
WORKERS = ("w1", "w2")
T = TypeVar("T")


class ClusterError(RuntimeError):
    """A cluster process failed or a wait ran out of time (the message names which)."""


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    every: float = 0.5,
    explain: Callable[[], str] | None = None,
) -> T:
    """Poll `probe` until it returns something truthy; on timeout raise naming `what`, with
    what `explain` says about the state things were left in."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain else ""
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(every)


def driver_url(url: str, driver: str) -> str:
    """`url` with its driver named (Airflow and Celery use psycopg2, libpq none)."""
    return make_url(url).set(drivername=driver).render_as_string(hide_password=False)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 60) -> str:
        with contextlib.suppress(OSError):
            text = self.log.read_text(errors="replace").splitlines()
            return "\n".join(text[-lines:])
        return "(no log)"


def tree(pid: int) -> list[psutil.Process]:
    """`pid` and every process below it (alive now)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> list[int]:
    """Signal every process group in `pid`'s tree (the worker's and each task runner's)."""
    procs = tree(pid)
    groups = set()
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            groups.add(os.getpgid(p.pid))
    for g in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(g, sig)
    for p in procs:  # a process that left the tree's groups still goes
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p.pid, sig)
    return [p.pid for p in procs]


@dataclass
class Cluster:
    """Airflow on CeleryExecutor: metadata DB, broker and store URLs, a project, a home."""

    home: Path
    project: Path
    meta_url: str
    store_url: str
    broker_url: str
    chunk_records: int
    queue: str = field(default_factory=lambda: f"omshub_{secrets.token_hex(4)}")
    api_port: int = field(default_factory=free_port)
    procs: dict[str, Proc] = field(default_factory=dict)

    # ------------------------------------------------------------------ environment
    def env(self, worker: str | None = None) -> dict[str, str]:
        """The environment every process gets; the caller's AIRFLOW_* settings are dropped."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        meta = driver_url(self.meta_url, "postgresql+psycopg2")
        settings = {
            "HOME": os.environ.get("HOME", str(self.home)),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": self._secret("api"),
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt"),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "GX_ANALYTICS_ENABLED": "false",
            "OMSHUB_HOME": str(self.project),
            "OMSHUB_DATABASE_URL": self.store_url,
            "OMSHUB_LANDING_DIR": str(self.home / "landing"),
            "OMSHUB_CHUNK_RECORDS": str(self.chunk_records),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if worker:  # each worker reports its own name as the task instance's hostname
            settings["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "workerhost.hostname"
            settings["OMSHUB_CLUSTER_WORKER"] = worker
            settings["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p
            )
        return {**base, **settings}

    def _secret(self, kind: str) -> str:
        path = self.home / f".{kind}-secret"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
        return path.read_text()

    # ------------------------------------------------------------------ processes
    def airflow(self, *args: str, timeout: float = 120) -> str:
        """Run an Airflow CLI command to completion; its output, or ClusterError with it."""
        done = subprocess.run(
            [AIRFLOW, *args], env=self.env(), capture_output=True, text=True, timeout=timeout,
            cwd=self.home, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(
                f"airflow {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def spawn(self, name: str, args: list[str], worker: str | None = None) -> Proc:
        """Start a long-running process in its own session, output to `<home>/logs/<name>.log`."""
        logs = self.home / "proc-logs"
        logs.mkdir(exist_ok=True)
        log = logs / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                args, env=self.env(worker), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.home, start_new_session=True,
            )  # fmt: skip
        self.procs[name] = Proc(name, popen, log)
        return self.procs[name]

    def start_worker(self, name: str) -> Proc:
        return self.spawn(
            name,
            [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--pid",
             str(self.home / f"{name}.pid"), "--skip-serve-logs", "--concurrency", "1",
             "--queues", self.queue, "--without-mingle", "--without-gossip"],
            worker=name,
        )  # fmt: skip

    def start(self, dag_id: str, timeout: float = 240) -> None:
        """Migrate, start every process, wait until workers are ready and `dag_id` is parsed."""
        deadline = time.monotonic() + timeout
        atexit.register(self.stop)  # also when the caller never reaches its own teardown
        self.airflow("db", "migrate", timeout=timeout)
        self.spawn("api-server", [AIRFLOW, "api-server", "--port", str(self.api_port)])
        self.spawn("scheduler", [AIRFLOW, "scheduler"])
        self.spawn("dag-processor", [AIRFLOW, "dag-processor"])
        for name in WORKERS:
            self.start_worker(name)

        def left() -> float:
            return max(deadline - time.monotonic(), 5)

        health = f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health"
        wait_for(f"the api-server at {health}", self._guard(lambda: _http_ok(health)), left())
        for name in WORKERS:
            log = self.procs[name].log
            wait_for(
                f"worker {name} ready", self._guard(lambda: b" ready." in log.read_bytes()), left()
            )
        wait_for(
            f"{dag_id} parsed by the dag-processor",
            self._guard(lambda: self._parsed(dag_id)),
            left(),
        )

    def _guard(self, probe: Callable[[], Any]) -> Callable[[], Any]:
        """`probe`, failing at once (with the log) when a cluster process has exited."""

        def guarded() -> Any:
            self.check_alive()
            return probe()

        return guarded

    def check_alive(self, except_: tuple[str, ...] = ()) -> None:
        for proc in self.procs.values():
            if proc.name not in except_ and proc.popen.poll() is not None:
                raise ClusterError(
                    f"{proc.name} exited with {proc.popen.returncode}; its log ends:\n{proc.tail()}"
                )

    def stop(self) -> None:
        """TERM every live process tree, then KILL what is left after 8 s (idempotent).

        An exited process is skipped: its pid may already belong to someone else.
        """
        live = [p for p in self.procs.values() if p.popen.poll() is None]
        procs = [q for proc in live for q in tree(proc.popen.pid)]
        for proc in live:
            kill_tree(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + 8
        for proc in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(max(deadline - time.monotonic(), 0.1))
        for q in procs:  # psutil checks it is still the same process (pid and start time)
            with contextlib.suppress(psutil.Error):
                q.kill()
        for proc in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(5)

    def logs(self, lines: int = 40) -> str:
        """The end of every process's log, for a failure message."""
        return "\n".join(f"===== {p.name} =====\n{p.tail(lines)}" for p in self.procs.values())

    def task_logs(self, dag_id: str, run_id: str, lines: int = 8) -> str:
        """Warnings, errors and the last lines of every task log of one DAG run."""
        parts = []
        for path in sorted((self.home / "logs").rglob("*.log")):
            if f"dag_id={dag_id}" in str(path) and f"run_id={run_id}" in str(path):
                text = path.read_text(errors="replace").splitlines()
                bad = [
                    t for t in text[:-lines] if '"level":"error"' in t or '"level":"warning"' in t
                ]
                keep = [t[:1500] for t in bad[-20:] + text[-lines:]]
                parts.append(f"----- {path.relative_to(self.home)}\n" + "\n".join(keep))
        return "\n".join(parts) or "(no task logs)"

    # ------------------------------------------------------------------ metadata DB
    @contextlib.contextmanager
    def meta(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        with psycopg.connect(
            driver_url(self.meta_url, "postgresql"), autocommit=True, row_factory=dict_row
        ) as conn:
            yield conn

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with self.meta() as conn:
            return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]

    def _parsed(self, dag_id: str) -> bool:
        return bool(self.query("select 1 from serialized_dag where dag_id = %s", dag_id))

    def trigger(self, dag_id: str, run_id: str) -> None:
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id)

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.query(
            "select state from dag_run where dag_id = %s and run_id = %s", dag_id, run_id
        )
        return rows[0]["state"] if rows else None

    def wait_run(
        self, dag_id: str, run_id: str, timeout: float, ignore: tuple[str, ...] = ()
    ) -> str:
        """Wait until the run is `success` or `failed` (cluster processes must stay up)."""

        def done() -> str | None:
            self.check_alive(ignore)
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        return wait_for(f"DAG run {run_id} to finish", done, timeout, every=1)

    def tries(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every try of every task of a run: the current ones and those in the history."""
        cols = "task_id, map_index, rendered_map_index, try_number, state, hostname, start_date, end_date"
        sql = (
            f"select {cols} from task_instance where dag_id = %s and run_id = %s union all "
            f"select {cols} from task_instance_history where dag_id = %s and run_id = %s "
            "order by task_id, map_index, try_number"
        )
        return self.query(sql, dag_id, run_id, dag_id, run_id)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False
