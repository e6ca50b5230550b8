"""Two pollers on one SFTP inbox of 200 files: every file is claimed exactly once, and
once each batch is finished all 200 are archived (issue 11's acceptance)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sshserver import SshServer

from connectors.base import StreamRequest

FILES = 200


def poll(t: Any, start: threading.Barrier, out: list[dict[str, Any]], errors: list[str]) -> None:
    """One poller: claim everything it can, then finish each batch as loaded."""
    try:
        start.wait()
        for batch in t.fetch(StreamRequest("orders", "json", {"pattern": "*.json"})):
            if batch.content != f"[{batch.name.removesuffix('.json')}]".encode():
                errors.append(f"{batch.name}: wrong content {batch.content!r}")
            out.append(batch.metadata)
        with t.session():  # one connection for all its finish calls
            for ref in out:
                t.finish(ref, True)
    except Exception as e:  # reported by the test, not lost in the thread
        errors.append(f"{type(e).__name__}: {e}")


def test_two_pollers_claim_every_file_exactly_once_and_archive_all(sshd: SshServer) -> None:
    inbox = sshd.folder("pollers")
    for n in range(FILES):
        sshd.drop(inbox / f"{n:04d}.json", f"[{n:04d}]")
    got: list[list[dict[str, Any]]] = [[], []]
    errors: list[str] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=poll, args=(sshd.transport(path=str(inbox)), start, got[i], errors))
        for i in range(2)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    a, b = ({ref["name"] for ref in refs} for refs in got)
    assert len(a) == len(got[0]) and len(b) == len(got[1])  # nobody took a file twice
    assert a | b == {f"{n:04d}.json" for n in range(FILES)}
    assert not a & b
    assert a and b, "both pollers should have won some files"
    day = time.strftime("%Y/%m/%d", time.gmtime())
    archived = sorted(p.name for p in (inbox / "archive" / day).iterdir())
    assert archived == sorted(a | b)
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    assert list((inbox / "processing").iterdir()) == []
