"""Who the SFTP transport trusts and how it logs in, against a real sshd: the host key must
be the pinned one (unknown or changed = refused, naming host, port and the key received),
login by key (inline, file, passphrase) or password, no secret in any message, and
network failures (nothing listening, a server that stops answering) as ConnectorError."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
from pathlib import Path
from typing import Any

import paramiko
import pytest
from pydantic import ValidationError
from sshserver import SshServer, ed25519_pem

from connectors.base import StreamRequest
from connectors.errors import ConnectorConfigError, ConnectorError
from connectors.sftp import HostKeyError, SftpConfig


def names(t: Any) -> list[str]:
    return [b.name for b in t.fetch(StreamRequest("orders", "json", {"pattern": "*.json"}))]


def expected_fingerprint(public_line: str) -> str:
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def conn(server: SshServer, **changes: Any) -> str:
    """The key-auth connection with some fields or extras changed (None removes one)."""
    doc = json.loads(server.connection("key"))
    for key, value in changes.items():
        target = doc if key in ("host", "port", "login", "password") else doc["extra"]
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return json.dumps(doc)


@pytest.fixture
def inbox(sshd: SshServer) -> Path:
    folder = sshd.folder(f"auth_{len(list((sshd.root / 'home').iterdir()))}")
    sshd.drop(folder / "a.json", "[1]")
    return folder


def test_key_and_password_logins(sshd: SshServer, inbox: Path) -> None:
    assert names(sshd.transport("key", path=str(inbox))) == ["a.json"]
    sshd.drop(inbox / "b.json", "[2]")
    assert names(sshd.transport("password", path=str(inbox))) == ["b.json"]


def test_a_passphrase_protected_key_inline_or_as_a_file(
    sshd: SshServer, inbox: Path, tmp_path: Path
) -> None:
    private, public = ed25519_pem(b"open sesame")
    sshd.authorize(public)
    inline = conn(sshd, private_key=private, private_key_passphrase="open sesame")
    assert names(sshd.transport(conn=inline, path=str(inbox))) == ["a.json"]
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(private)
    sshd.drop(inbox / "b.json", "[2]")
    from_file = conn(sshd, private_key=None, key_file=str(key_file), passphrase="open sesame")
    assert names(sshd.transport(conn=from_file, path=str(inbox))) == ["b.json"]
    wrong = conn(sshd, private_key=private, private_key_passphrase="nope")
    with pytest.raises(ConnectorConfigError, match="private key unreadable") as e:
        names(sshd.transport(conn=wrong, path=str(inbox)))
    assert "nope" not in str(e.value) and "PRIVATE KEY" not in str(e.value)


def test_an_unknown_host_key_is_refused_with_its_fingerprint(sshd: SshServer, inbox: Path) -> None:
    for unknown in (
        conn(sshd, known_hosts=None),  # nothing pinned
        conn(sshd, known_hosts=f"[localhost]:{sshd.port} {sshd.host_public}"),  # another name
    ):
        with pytest.raises(HostKeyError) as e:
            names(sshd.transport(conn=unknown, path=str(inbox)))
        message = str(e.value)
        assert f"127.0.0.1:{sshd.port}" in message and "host key not known" in message
        assert expected_fingerprint(sshd.host_public) in message
    assert (inbox / "a.json").exists()  # nothing was touched


def test_a_changed_host_key_is_refused(sshd: SshServer, inbox: Path) -> None:
    _, other = ed25519_pem()
    changed = conn(sshd, known_hosts=f"[127.0.0.1]:{sshd.port} {other}")
    with pytest.raises(HostKeyError) as e:
        names(sshd.transport(conn=changed, path=str(inbox)))
    message = str(e.value)
    assert f"127.0.0.1:{sshd.port}: host key CHANGED" in message
    assert f"received ssh-ed25519 {expected_fingerprint(sshd.host_public)}" in message
    assert f"pinned ssh-ed25519 {expected_fingerprint(other)}" in message


def test_host_key_forms_bare_hashed_and_a_known_hosts_file(
    sshd: SshServer, inbox: Path, tmp_path: Path
) -> None:
    bare = conn(sshd, known_hosts=None, host_key=sshd.host_public)
    assert names(sshd.transport(conn=bare, path=str(inbox))) == ["a.json"]
    hashed = paramiko.HostKeys.hash_host(f"[127.0.0.1]:{sshd.port}")
    (tmp_path / "known_hosts").write_text(f"# pinned\n{hashed} {sshd.host_public}\n")
    sshd.drop(inbox / "b.json", "[2]")
    t = sshd.transport(
        conn=conn(sshd, known_hosts=None),
        path=str(inbox),
        known_hosts_file=str(tmp_path / "known_hosts"),
    )
    assert names(t) == ["b.json"]


def test_authentication_and_network_failures_are_typed_and_hold_no_secret(
    sshd: SshServer, inbox: Path
) -> None:
    bad_password = json.loads(sshd.connection("password"))
    bad_password["password"] = "not-the-password-123"
    with pytest.raises(ConnectorConfigError, match="authentication failed for user") as e:
        names(sshd.transport(conn=json.dumps(bad_password), path=str(inbox)))
    assert "not-the-password-123" not in str(e.value)
    with pytest.raises(ConnectorError, match=r"127\.0\.0\.1:1: cannot connect"):
        names(sshd.transport(path=str(inbox), port=1))
    assert not isinstance(e.value, ConnectorError)  # a wrong password is not retried


def _descendants(pid: int) -> list[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        todo += kids
    return found


def test_a_server_that_stops_answering_is_a_connector_error(sshd: SshServer, inbox: Path) -> None:
    t = sshd.transport(path=str(inbox), io_timeout_seconds=1)
    with t.session():
        frozen = _descendants(sshd.process.pid)  # the session's sshd processes
        assert frozen
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(ConnectorError, match="the server stopped answering"):
                names(t)
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
    assert (inbox / "a.json").exists()


def test_configuration_mistakes_are_refused(sshd: SshServer, inbox: Path) -> None:
    off = conn(sshd, no_host_key_check="true")
    with pytest.raises(ConnectorConfigError, match="no_host_key_check is refused"):
        names(sshd.transport(conn=off, path=str(inbox)))
    junk = conn(sshd, known_hosts="this is not a key")
    with pytest.raises(ConnectorConfigError, match="not a known_hosts line"):
        names(sshd.transport(conn=junk, path=str(inbox)))
    with pytest.raises(ValidationError, match="secret written inline in YAML"):
        SftpConfig.model_validate({"type": "sftp", "conn_id": "x", "password": "hunter2"})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SftpConfig.model_validate({"type": "sftp", "conn_id": "x", "hostt": "h"})
    with pytest.raises(ConnectorConfigError, match="put wildcards in the file name only"):
        list(
            sshd.transport(path=str(inbox)).fetch(
                StreamRequest("orders", "json", {"pattern": "*/x.json"})
            )
        )
