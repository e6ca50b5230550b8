"""SFTP transport: a partner's drop folder on an SSH server (paramiko, imported lazily).

Files are claimed, downloaded and archived by the drop-folder rules of `connectors.drop`
(atomic rename into `processing/`, then `archive/YYYY/MM/DD/` or `error/` + `.reason`), so
two pollers never take the same file. The server is trusted only when its host key is one
pinned in the connection (extra `known_hosts` or `host_key`) or in the YAML's
`known_hosts_file`: an unknown or changed key is refused with the fingerprint received,
never added. Login, password, private key and passphrase come from the connection only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import posixpath
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Literal

from pydantic import Field

from connectors import drop
from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.credentials import Credentials
from connectors.drop import Entry
from connectors.dropconfig import DropConfig, DropStream, rules
from connectors.errors import ConnectorConfigError, ConnectorError

if TYPE_CHECKING:
    import paramiko

log = logging.getLogger(__name__)


class HostKeyError(ConnectorConfigError):
    """The SSH server's host key is not the pinned one (unknown or changed): refused."""


class SftpConfig(DropConfig):
    """`connector: {type: sftp, conn_id: ..., path: ...}`."""

    type: Literal["sftp"] = "sftp"
    host: str | None = Field(None, min_length=1, description="else the connection's host")
    port: int | None = Field(None, ge=1, le=65535, description="else the connection's, else 22")
    path: str = Field(".", min_length=1, description="the inbox; relative to the login folder")
    settle_seconds: float = Field(
        30, ge=0, description="take a file only once its mtime is at least this old"
    )
    known_hosts_file: str | None = Field(
        None, description="known_hosts file (relative to the project) pinning the host key"
    )
    connect_timeout_seconds: float = Field(15, gt=0, le=600)
    io_timeout_seconds: float = Field(
        120, gt=0, le=3600, description="longest wait for any one answer once connected"
    )


class SftpStream(DropStream):
    """A stream's `pattern`, its own inbox `path`, and overrides of the connector's keys."""

    path: str | None = Field(None, min_length=1, description="the stream's inbox folder")


def fingerprint(key: Any) -> str:
    """`ssh-ed25519 SHA256:...`, as `ssh-keygen -l` prints it."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class SftpFS:
    """`connectors.drop.DropFS` over a paramiko SFTPClient.

    A plain SFTP rename is used on purpose: OpenSSH's sftp-server renames by link+unlink,
    which never overwrites and lets exactly one of two racing renames succeed.
    """

    def __init__(self, sftp: paramiko.SFTPClient, where: str) -> None:
        self.sftp = sftp
        self.where = where

    @contextmanager
    def errors(self, what: str) -> Iterator[None]:
        import paramiko

        try:
            yield
        except (FileNotFoundError, FileExistsError):
            raise
        except (OSError, EOFError, paramiko.SSHException) as e:
            why = getattr(e, "strerror", None) or str(e) or type(e).__name__
            if isinstance(e, TimeoutError):
                why = "the server stopped answering (io_timeout_seconds)"
            raise ConnectorError(f"sftp {self.where}: {what}: {why}") from e

    def listdir(self, folder: str) -> list[Entry]:
        import stat

        with self.errors(f"cannot list {folder}"):
            return [
                Entry(
                    a.filename,
                    a.st_size or 0,
                    float(a.st_mtime or 0),
                    stat.S_ISREG(a.st_mode or 0),
                    stat.S_ISLNK(a.st_mode or 0),
                )
                for a in self.sftp.listdir_attr(folder)
            ]

    def stat(self, path: str) -> Entry | None:
        import stat

        try:
            with self.errors(f"cannot stat {path}"):
                a = self.sftp.lstat(path)
        except FileNotFoundError:
            return None
        mode = a.st_mode or 0
        name = posixpath.basename(path)
        return Entry(name, a.st_size or 0, float(a.st_mtime or 0), stat.S_ISREG(mode))

    def rename(self, src: str, dst: str) -> None:
        try:
            with self.errors(f"cannot move {src} to {dst}"):
                self.sftp.rename(src, dst)
        except (OSError, ConnectorError):
            # SFTP v3 says only "failure": find out whether the race was lost
            if self.stat(src) is None:
                raise FileNotFoundError(src) from None
            if self.stat(dst) is not None:
                raise FileExistsError(dst) from None
            raise

    @contextmanager
    def open_read(self, path: str, size: int) -> Iterator[BinaryIO]:
        with self.errors(f"cannot read {path}"), self.sftp.open(path, "rb") as f:
            f.prefetch(size)  # pipelined reads: the whole file is requested at once
            yield f  # type: ignore[misc]

    def makedirs(self, folder: str) -> None:
        if self.stat(folder) is not None:  # the common case: one round trip
            return
        parts = [p for p in folder.split("/") if p]
        current = "/" if folder.startswith("/") else ""
        for part in parts:
            current = posixpath.join(current, part)
            if self.stat(current) is not None:
                continue
            try:
                with self.errors(f"cannot create {current}"):
                    self.sftp.mkdir(current)
            except ConnectorError:
                if self.stat(current) is None:  # else another poller made it meanwhile
                    raise

    def write(self, path: str, data: bytes) -> None:
        with self.errors(f"cannot write {path}"), self.sftp.open(path, "wb") as f:
            f.write(data)

    def remove(self, path: str) -> None:
        with suppress(FileNotFoundError), self.errors(f"cannot remove {path}"):
            self.sftp.remove(path)


class SftpTransport:
    """Yields one batch per claimed file of the stream's inbox; `finish` archives it.

    One SSH connection is opened per `session()` (a fetch holds one for its whole run;
    `finish` outside a fetch opens one and closes it after), never left open.
    """

    kind: ClassVar[str] = "sftp"
    Config: ClassVar[type[SftpConfig]] = SftpConfig
    Stream: ClassVar[type[SftpStream]] = SftpStream

    def __init__(self, config: SftpConfig, context: TransportContext) -> None:
        creds = context.credentials
        if creds is None:
            raise ConnectorConfigError(
                f"source {context.source!r}: sftp needs `conn_id` (host, login, key or password)"
            )
        host = config.host or creds.host
        if not host:
            raise ConnectorConfigError(
                f"source {context.source!r}: sftp needs a host (`host:` or the connection's)"
            )
        if not creds.login:
            raise ConnectorConfigError(f"connection {creds.conn_id!r} has no login")
        self.config = config
        self.creds = creds
        self.host = host
        self.port = config.port or creds.port or 22
        self.where = f"{host}:{self.port}"
        known = config.known_hosts_file
        self.known_hosts_file = None
        if known:
            self.known_hosts_file = (
                Path(known) if Path(known).is_absolute() else context.base / known
            )
        self._lock = threading.Lock()
        self._users = 0
        self._client: Any = None
        self._fs: SftpFS | None = None

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        opts = SftpStream.coerce(request.options, request.stream)
        if request.window is not None:
            raise ConnectorConfigError(
                f"stream {request.stream!r}: sftp cannot re-read a time window"
                " (its files are archived once loaded)"
            )
        with self.session() as fs:
            with fs.errors("cannot resolve the inbox"):
                inbox = fs.sftp.normalize(opts.path or self.config.path)
            found = rules(self.config, opts, request.stream, inbox)
            yield from drop.DropFolder(fs, found, f"sftp {self.where}: ").fetch(request.format)

    def finish(self, ref: dict[str, Any], ok: bool, reason: str | None = None) -> str | None:
        """Archive the claimed file of a loaded batch, or move it to error/ with its reason."""
        if not ref.get("claim"):
            return None
        with self.session() as fs:
            return drop.finish(fs, ref, ok, reason, f"sftp {self.where}: ")

    def deliver(self, folder: str, name: str, data: bytes) -> str:
        """Upload a file for the partner into `folder` (relative to the login folder)."""
        with self.session() as fs:
            return drop.deliver(fs, folder, name, data, f"sftp {self.where}: ")

    @contextmanager
    def session(self) -> Iterator[SftpFS]:
        """The SFTP connection, opened on first use and closed when the last user is done."""
        with self._lock:
            if self._fs is None:
                self._client, sftp = self._connect()
                self._fs = SftpFS(sftp, self.where)
            self._users += 1
            fs = self._fs
        try:
            yield fs
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client, self._fs = None, None

    def _connect(self) -> tuple[Any, paramiko.SFTPClient]:
        import paramiko

        client = paramiko.SSHClient()
        keys = client.get_host_keys()
        for name, key in self._pinned():
            keys.add(name, key.get_name(), key)
        client.set_missing_host_key_policy(_Refuse(self.where))
        timeout = self.config.connect_timeout_seconds
        try:
            client.connect(
                self.host,
                self.port,
                username=self.creds.login,
                password=self.creds.secret("password"),
                pkey=_private_key(self.creds),
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                look_for_keys=False,  # only the connection's key, never ~/.ssh
                allow_agent=False,
            )
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.config.io_timeout_seconds)  # never hang
            return client, sftp
        except BaseException as e:
            client.close()
            raise self._connect_error(e) from None

    def _connect_error(self, e: BaseException) -> BaseException:
        """A paramiko/socket failure as a one-line ConnectorError (network) or
        ConnectorConfigError (host key, authentication)."""
        import paramiko

        if isinstance(e, paramiko.BadHostKeyException):
            return HostKeyError(
                f"sftp {self.where}: host key CHANGED: received {fingerprint(e.key)}, pinned"
                f" {fingerprint(e.expected_key)}; refused (the key was replaced, or someone is in"
                " between): check the new key with the server's owner, then update known_hosts"
            )
        if isinstance(e, paramiko.AuthenticationException):
            return ConnectorConfigError(
                f"sftp {self.where}: authentication failed for user {self.creds.login!r}"
                f" (connection {self.creds.conn_id!r}: check its key or password)"
            )
        if isinstance(e, OSError | EOFError | paramiko.SSHException):
            why = (
                f"no answer within {self.config.connect_timeout_seconds:g}s"
                if isinstance(e, socket.timeout)
                else (str(e) or type(e).__name__)
            )
            return ConnectorError(f"sftp {self.where}: cannot connect: {why}")
        return e

    def _pinned(self) -> list[tuple[str, Any]]:
        """(host name or hashed pattern, key) for every pinned host key."""
        import paramiko

        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        lines: list[str] = []
        for key in ("known_hosts", "host_key"):
            value = self.creds.extra.get(key)
            if isinstance(value, list):
                value = "\n".join(map(str, value))
            for line in str(value or "").splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    bare = key == "host_key" and len(line.split()) == 2
                    lines.append(f"{name} {line.strip()}" if bare else line.strip())
        if self.known_hosts_file is not None:
            try:
                lines += self.known_hosts_file.read_text().splitlines()
            except OSError as e:
                raise ConnectorConfigError(
                    f"known_hosts_file {self.known_hosts_file}: {e.strerror}"
                ) from None
        if str(self.creds.extra.get("no_host_key_check", "")).lower() in ("true", "1", "yes"):
            raise ConnectorConfigError(
                f"connection {self.creds.conn_id!r}: no_host_key_check is refused: pin the"
                " server's key in extra `known_hosts`"
            )
        pinned = []
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
            except (
                paramiko.SSHException,
                paramiko.hostkeys.InvalidHostKey,
                ValueError,
                IndexError,
            ):
                entry = None
            if entry is None or entry.key is None:
                raise ConnectorConfigError(
                    f"connection {self.creds.conn_id!r}: not a known_hosts line: {line[:60]!r}"
                )
            pinned += [(host, entry.key) for host in entry.hostnames]
        return pinned


class _Refuse:
    """paramiko's missing-host-key policy: refuse, naming the key received (never add it)."""

    def __init__(self, where: str) -> None:
        self.where = where

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        raise HostKeyError(
            f"sftp {self.where}: host key not known: received {fingerprint(key)}; refused."
            " Check this fingerprint with the server's owner, then pin it in the"
            " connection's extra `known_hosts` (ssh-keyscan gives the line)"
        )


def _private_key(creds: Credentials) -> Any:
    """The connection's private key (extra `private_key` PEM text or `key_file`), or None."""
    import paramiko

    passphrase = creds.secret("private_key_passphrase") or creds.secret("passphrase")
    text = creds.secret("private_key")
    key_file = creds.extra.get("key_file")
    if not text and not key_file:
        return None
    try:
        if key_file:
            return paramiko.PKey.from_path(
                str(key_file), passphrase.encode() if passphrase else None
            )
        assert text is not None
        for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                return cls.from_private_key(io.StringIO(text.replace("\\n", "\n")), passphrase)
            except paramiko.PasswordRequiredException:
                raise
            except (paramiko.SSHException, ValueError):
                continue
    except paramiko.PasswordRequiredException:
        why = "it is encrypted: set extra `private_key_passphrase`"
    except (OSError, paramiko.SSHException, ValueError) as e:
        why = getattr(e, "strerror", None) or "wrong passphrase, or not a private key"
    else:
        why = "not an Ed25519, ECDSA or RSA private key (or a wrong passphrase)"
    raise ConnectorConfigError(f"connection {creds.conn_id!r}: private key unreadable: {why}")
