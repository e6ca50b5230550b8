"""SFTP drop folder on a real sshd: claim into processing/, archive, error with its reason,
files still being written left alone, done markers, and a claim that timed out."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sshserver import SshServer

from connectors.base import RawBatch, StreamRequest


def fetch(t: Any, pattern: str = "*.json", **options: Any) -> list[RawBatch]:
    return list(t.fetch(StreamRequest("orders", "json", {"pattern": pattern, **options})))


def tree(folder: Path) -> list[str]:
    """Every file under `folder`, relative, with the YYYY/MM/DD of the archive kept."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_claim_then_archive_and_finish_is_idempotent(sshd: SshServer) -> None:
    inbox = sshd.folder("archive_flow")
    for name in ("a.json", "b.json", "c.json.tmp", "d.json.part", ".e.json", "notes.txt"):
        sshd.drop(inbox / name, f'["{name}"]')
    (inbox / "link.json").symlink_to("/etc/passwd")  # never followed, never moved
    (inbox / "dir.json").mkdir()
    t = sshd.transport(path=str(inbox))
    batches = fetch(t)
    assert [(b.name, b.content) for b in batches] == [
        ("a.json", b'["a.json"]'),
        ("b.json", b'["b.json"]'),
    ]
    left = ["c.json.tmp", "d.json.part", ".e.json", "link.json", "notes.txt"]
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == sorted(left)
    for b in batches:
        ref = b.metadata
        assert ref["name"] == b.name and ref["claim"]
        assert ref["path"].startswith(str(inbox / "processing") + "/")
        assert ref["path"].endswith("--" + b.name) and Path(ref["path"]).is_file()
        text = json.dumps(ref)
        assert sshd.client_private not in text and sshd.password not in text
    assert fetch(t) == []  # claimed files are not in the inbox any more

    day = time.strftime("%Y/%m/%d", time.gmtime())
    assert t.finish(batches[0].metadata, True) == str(inbox / "archive" / day / "a.json")
    assert t.finish(batches[0].metadata, True) is None  # a second call does nothing
    t.finish(batches[1].metadata, True)
    assert tree(inbox) == sorted([f"archive/{day}/a.json", f"archive/{day}/b.json", *left])
    assert (inbox / "link.json").is_symlink()
    assert (inbox / "archive" / day / "a.json").read_bytes() == b'["a.json"]'


def test_a_relative_path_starts_in_the_login_folder_and_streams_may_have_their_own(
    sshd: SshServer,
) -> None:
    inbox = sshd.folder("relative")
    (inbox / "daily").mkdir()
    os.chown(inbox / "daily", sshd.uid, sshd.gid)
    sshd.drop(inbox / "a.json", "[1]")
    sshd.drop(inbox / "daily" / "b.json", "[2]")
    t = sshd.transport(path="relative")  # the login lands in the server's start folder
    (a,) = fetch(t)
    assert a.metadata["path"].startswith(str(inbox / "processing") + "/")
    (b,) = fetch(t, "daily/*.json")  # a folder part in the pattern: that folder's claims
    assert b.metadata["path"].startswith(str(inbox / "daily" / "processing") + "/")
    other = sshd.folder("relative_other")
    sshd.drop(other / "c.json", "[3]")
    (c,) = fetch(t, path="relative_other")  # a stream's own inbox
    assert c.metadata["path"].startswith(str(other / "processing") + "/")


def test_a_missing_inbox_is_a_connector_error(sshd: SshServer) -> None:
    from connectors.errors import ConnectorError

    t = sshd.transport(path=str(sshd.root / "home" / "no_such_inbox"))
    with pytest.raises(ConnectorError, match=r"127\.0\.0\.1:\d+: folder .*no_such_inbox does not"):
        fetch(t)


def test_failed_batch_moves_to_error_with_its_reason(sshd: SshServer) -> None:
    inbox = sshd.folder("error_flow")
    sshd.drop(inbox / "bad.json", "{not json")
    t = sshd.transport(path=str(inbox))
    (batch,) = fetch(t)
    reason = "bad.json:1: invalid JSON (Expecting property name) — refusé"
    assert t.finish(batch.metadata, False, reason) == str(inbox / "error" / "bad.json")
    assert (inbox / "error" / "bad.json").read_bytes() == b"{not json"
    assert (inbox / "error" / "bad.json.reason").read_text("utf-8") == reason + "\n"
    assert t.finish(batch.metadata, False, reason) is None
    assert tree(inbox) == ["error/bad.json", "error/bad.json.reason"]


def test_a_name_already_archived_or_in_error_is_never_overwritten(sshd: SshServer) -> None:
    inbox = sshd.folder("collisions")
    t = sshd.transport(path=str(inbox))
    day = time.strftime("%Y/%m/%d", time.gmtime())
    for n in range(3):
        sshd.drop(inbox / "daily.json", f"[{n}]")
        (batch,) = fetch(t)
        t.finish(batch.metadata, True)
        sshd.drop(inbox / "daily.json", f'["bad {n}"]')
        (batch,) = fetch(t)
        t.finish(batch.metadata, False, f"reason {n}")
    names = ["daily.json", "daily~2.json", "daily~3.json"]
    archived = [(inbox / "archive" / day / n).read_text() for n in names]
    assert archived == ["[0]", "[1]", "[2]"]
    errors = [(inbox / "error" / f"{n}.reason").read_text() for n in names]
    assert errors == ["reason 0\n", "reason 1\n", "reason 2\n"]


def test_a_file_still_being_written_is_left_alone(
    sshd: SshServer, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = sshd.folder("growing")
    path = sshd.drop(inbox / "big.json", "[")
    t = sshd.transport(path=str(inbox), settle_seconds=2)
    stop = threading.Event()

    def writer() -> None:  # a slow upload: a few bytes every 50 ms
        with path.open("a") as f:
            while not stop.wait(0.05):
                f.write("1,")
                f.flush()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="connectors.drop"):
            for _ in range(3):
                assert fetch(t) == []
                time.sleep(0.1)
    finally:
        stop.set()
        thread.join()
    assert "big.json: skipped, modified" in caplog.text
    assert path.exists()  # never claimed
    path.write_text(path.read_text() + "1]")
    past = time.time() - 10
    os.utime(path, (past, past))  # the upload finished 10 s ago
    (batch,) = fetch(t)
    assert batch.content.startswith(b"[1,1,") and batch.content.endswith(b"1]")


def test_done_marker_per_file_and_per_folder(sshd: SshServer) -> None:
    inbox = sshd.folder("markers")
    for name in ("a.json", "b.json", "a.json.done"):
        sshd.drop(inbox / name, "[1]")
    t = sshd.transport(path=str(inbox), done_marker="{name}.done")
    assert [b.name for b in fetch(t)] == ["a.json"]
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["b.json"]  # marker used
    folder = sshd.transport(path=str(inbox), done_marker="_SUCCESS")
    assert fetch(folder) == []
    sshd.drop(inbox / "_SUCCESS", "")
    assert [b.name for b in fetch(folder, "*")] == ["b.json"]  # the marker is not data


def test_a_claim_that_never_finished_is_taken_again_after_the_timeout(sshd: SshServer) -> None:
    inbox = sshd.folder("stale2")
    sshd.drop(inbox / "a.json", "[1]")
    t = sshd.transport(path=str(inbox))
    (first,) = fetch(t)
    assert fetch(t) == []  # claimed a moment ago: another poller's, left alone
    claimed = Path(first.metadata["path"])
    old = claimed.with_name("20200101T000000Z-" + claimed.name.split("-", 1)[1])
    claimed.rename(old)  # as if claimed years ago by a poller that then died
    first_ref = {**first.metadata, "path": str(old)}  # what that batch's origin says
    (again,) = fetch(t)
    assert again.content == b"[1]" and not Path(again.metadata["path"]).name.startswith("2020")
    assert again.metadata["claim"].split("-")[1] == first.metadata["claim"].split("-")[1]
    assert not old.exists() and Path(again.metadata["path"]).is_file()
    # the first claim's batch finishing still finds the file under its new claim
    day = time.strftime("%Y/%m/%d", time.gmtime())
    assert t.finish(first_ref, True) == str(inbox / "archive" / day / "a.json")
    assert t.finish(again.metadata, True) is None
    assert tree(inbox) == [f"archive/{day}/a.json"]


def test_deliver_writes_whole_files_and_never_overwrites(sshd: SshServer) -> None:
    """A file for the partner appears whole under its name (written as a hidden .part,
    then renamed); a second file of the same name gets `~2`, the first stays intact."""
    out = sshd.folder("deliver_out")
    t = sshd.transport(path=str(sshd.folder("deliver_in")))
    first = t.deliver(str(out / "acks"), "997_000000001.x12", b"ISA first")
    second = t.deliver(str(out / "acks"), "997_000000001.x12", b"ISA second")
    assert first == str(out / "acks" / "997_000000001.x12")
    assert second == str(out / "acks" / "997_000000001~2.x12")
    assert tree(out) == ["acks/997_000000001.x12", "acks/997_000000001~2.x12"]
    assert (out / "acks" / "997_000000001.x12").read_bytes() == b"ISA first"
    assert (out / "acks" / "997_000000001~2.x12").read_bytes() == b"ISA second"
