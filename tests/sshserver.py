"""A real OpenSSH server for the SFTP tests: `sshd -D -e` on a free loopback port.

It has its own host key, accepts one test user (`omshubsftp`, made once with `useradd`,
idempotent, no login shell) by key or by password (random, made once per boot, readable by
root only: /run/omshub-sftp-test.password), and serves SFTP only (`internal-sftp`, no
shell, no forwarding). Nothing is chrooted:
the user's folders live in a temporary directory that the user owns, and tests address
them by absolute path. Files a test drops are chowned to the user, as a real upload would
be (the kernel's protected_hardlinks refuses OpenSSH's link-based rename otherwise).

The tests need root (to run sshd for another user and create that user) and
`/usr/sbin/sshd` (package openssh-server, installed by .ci/ensure-system-deps.sh): when
either is missing they fail with a message saying so, they are never skipped.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SSHD = "/usr/sbin/sshd"
USER = "omshubsftp"
PASSWORD_FILE = Path("/run/omshub-sftp-test.password")


def ed25519_pem(passphrase: bytes | None = None) -> tuple[str, str]:
    """A new Ed25519 key: (OpenSSH private key text, `ssh-ed25519 AAAA...` public line)."""
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    enc = s.BestAvailableEncryption(passphrase) if passphrase else s.NoEncryption()
    private = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.OpenSSH, enc).decode()
    public = key.public_key().public_bytes(s.Encoding.OpenSSH, s.PublicFormat.OpenSSH).decode()
    return private, public


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_user() -> pwd.struct_passwd:
    """The test user, made once: no home, no login shell."""
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pass
    made = subprocess.run(
        ["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell",
         "/usr/sbin/nologin", "--user-group", USER],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        return pwd.getpwnam(USER)  # made here, or by a parallel session meanwhile
    except KeyError:
        pytest.fail(f"cannot create the SFTP test user {USER!r}: {made.stderr.strip()}")


def _password() -> str:
    """The test user's password: random, made once per boot and kept root-only in /run, so
    concurrent test sessions share it (setting it again is idempotent)."""
    path = PASSWORD_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        password = path.read_text().strip()
    else:
        password = secrets.token_urlsafe(18)
        with os.fdopen(fd, "w") as f:
            f.write(password)
    subprocess.run(
        ["chpasswd"], input=f"{USER}:{password}\n", text=True, check=True, capture_output=True
    )
    return password


@dataclass
class SshServer:
    """The running server and what a test needs to reach it."""

    port: int
    root: Path  # temporary: etc/ (root only), keys/, home/ (the user's)
    host_public: str  # `ssh-ed25519 AAAA...`
    client_private: str  # the user's key, OpenSSH PEM text
    password: str
    uid: int
    gid: int
    host: str = "127.0.0.1"
    process: Any = field(default=None, repr=False)

    @property
    def known_hosts(self) -> str:
        return f"[{self.host}]:{self.port} {self.host_public}"

    def folder(self, name: str) -> Path:
        """A new folder owned by the test user (a test's inbox)."""
        path = self.root / "home" / name
        path.mkdir(parents=True)
        os.chown(path, self.uid, self.gid)
        return path

    def drop(self, path: Path, content: bytes | str, mtime: float | None = None) -> Path:
        """Write a file as if the test user had uploaded it (owned by the user)."""
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
        os.chown(path, self.uid, self.gid)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def authorize(self, public: str) -> None:
        """Accept one more client key (e.g. a passphrase-protected one)."""
        with (self.root / "keys/authorized_keys").open("a") as f:
            f.write(public.strip() + "\n")

    def connection(self, auth: str = "key", **extra: Any) -> str:
        """An AIRFLOW_CONN_<ID> JSON value for the test user (`key` or `password` auth)."""
        doc: dict[str, Any] = {
            "conn_type": "sftp",
            "host": self.host,
            "port": self.port,
            "login": USER,
        }
        extras: dict[str, Any] = {"known_hosts": self.known_hosts}
        if auth == "key":
            extras["private_key"] = self.client_private
        else:
            doc["password"] = self.password
        doc["extra"] = {**extras, **extra}
        return json.dumps(doc)

    def transport(self, auth: str = "key", conn: str | None = None, **config: Any) -> Any:
        """An SftpTransport for the test user, its connection read from AIRFLOW_CONN_<ID>
        JSON as the CLI reads it (`conn` replaces the default one). `settle_seconds` is 0
        unless given."""
        from connectors.base import TransportContext
        from connectors.credentials import from_env
        from connectors.sftp import SftpConfig, SftpTransport

        raw = conn if conn is not None else self.connection(auth)
        creds = from_env("test_sftp", {"AIRFLOW_CONN_TEST_SFTP": raw})
        context = TransportContext(source="partner", base=Path.cwd(), credentials=creds)
        options = {"type": "sftp", "conn_id": "test_sftp", "settle_seconds": 0, **config}
        return SftpTransport(SftpConfig.model_validate(options), context)


def _config(root: Path, port: int) -> Path:
    etc, keys, home = root / "etc", root / "keys", root / "home"
    lines = [
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {etc / 'host_ed25519'}",
        f"PidFile {etc / 'sshd.pid'}",
        f"AuthorizedKeysFile {keys / 'authorized_keys'}",
        f"AllowUsers {USER}",
        "UsePAM no",
        "StrictModes no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
        "AllowTcpForwarding no",
        "X11Forwarding no",
        "PermitTTY no",
        "MaxStartups 100",
        "LogLevel ERROR",
        f"Subsystem sftp internal-sftp -d {home}",
        f"ForceCommand internal-sftp -d {home}",
    ]
    path = etc / "sshd_config"
    path.write_text("\n".join(lines) + "\n")
    return path


def _start(config: Path, port: int) -> subprocess.Popen[bytes]:
    """sshd in the foreground; returns once it accepts connections."""
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"sshd exited with {proc.returncode}: {out.strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("sshd did not listen within 10 s")


def _check_prerequisites() -> None:
    if not os.path.exists(SSHD):
        pytest.fail(
            f"{SSHD} is missing: install openssh-server (`.ci/ensure-system-deps.sh` as root,"
            " or `apt-get install openssh-server`); the SFTP tests need a real sshd"
        )
    if os.geteuid() != 0:
        pytest.fail("the SFTP tests run sshd for a test user and need root (CI runs as root)")


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshServer]:
    """A running OpenSSH server with SFTP for one test user, for the whole session."""
    _check_prerequisites()
    user = _ensure_user()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    root = Path(tempfile.mkdtemp(prefix="omshub-sshd-"))
    root.chmod(0o755)
    for sub, mode in (("etc", 0o700), ("keys", 0o755), ("home", 0o755)):
        (root / sub).mkdir(mode=mode)
    os.chown(root / "home", user.pw_uid, user.pw_gid)
    host_private, host_public = ed25519_pem()
    (root / "etc/host_ed25519").write_text(host_private)
    (root / "etc/host_ed25519").chmod(0o600)
    client_private, client_public = ed25519_pem()
    (root / "keys/authorized_keys").write_text(client_public + "\n")
    password = _password()
    proc = None
    try:
        for attempt in range(3):  # a free port can be taken before sshd binds it
            port = _free_port()
            try:
                proc = _start(_config(root, port), port)
                break
            except RuntimeError as e:
                if attempt == 2 or "Address already in use" not in str(e):
                    pytest.fail(f"cannot start the test sshd: {e}")
        assert proc is not None
        yield SshServer(
            port, root, host_public, client_private, password, user.pw_uid, user.pw_gid,
            process=proc,
        )  # fmt: skip
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)
