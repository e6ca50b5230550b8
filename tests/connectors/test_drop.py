"""The claimed local folder (`local_folder` with `claim: true`): the drop-folder rules of
connectors.drop on a real filesystem, the same the SFTP transport follows."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from connectors import drop, dropconfig
from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.errors import ConnectorConfigError
from connectors.local import LocalFolderConfig, LocalFolderTransport, LocalFS


def claiming(folder: Path, **options: Any) -> LocalFolderTransport:
    config = LocalFolderConfig.model_validate(
        {"type": "local_folder", "path": str(folder), "claim": True, **options}
    )
    return LocalFolderTransport(config, TransportContext(source="s", base=folder))


def fetch(t: Any, pattern: str = "*.json", **options: Any) -> list[RawBatch]:
    return list(t.fetch(StreamRequest("orders", "json", {"pattern": pattern, **options})))


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def today() -> str:
    return time.strftime("%Y/%m/%d", time.gmtime())


def test_claim_archive_error_and_finish_twice(tmp_path: Path) -> None:
    for name in ("a.json", "b.json", "c.json.tmp", "d.json.part", ".e.json"):
        (tmp_path / name).write_text(f'["{name}"]')
    t = claiming(tmp_path)
    a, b = fetch(t)
    assert (a.name, a.content, b.name) == ("a.json", b'["a.json"]', "b.json")
    assert Path(a.metadata["path"]).parent == tmp_path / "processing"
    assert fetch(t) == []
    assert t.finish(a.metadata, True) == str(tmp_path / "archive" / today() / "a.json")
    assert t.finish(a.metadata, True) is None
    assert t.finish(b.metadata, False, "b.json:1: no orders") == str(tmp_path / "error/b.json")
    assert t.finish(b.metadata, False, "again") is None
    assert (tmp_path / "error/b.json.reason").read_text() == "b.json:1: no orders\n"
    left = [".e.json", "c.json.tmp", "d.json.part"]
    done = [f"archive/{today()}/a.json", "error/b.json", "error/b.json.reason"]
    assert tree(tmp_path) == sorted(left + done)


def test_names_are_never_overwritten_and_folders_can_be_renamed(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    t = claiming(inbox, archive_dir="done")
    for n in range(3):
        (inbox / "daily.json").write_text(f"[{n}]")
        (batch,) = fetch(t)
        t.finish(batch.metadata, True)
    names = ("daily.json", "daily~2.json", "daily~3.json")
    assert [(inbox / "done" / today() / n).read_text() for n in names] == ["[0]", "[1]", "[2]"]
    # a stream may name its own folders: relative to the inbox, or absolute
    (inbox / "x.json").write_text("[9]")
    elsewhere = tmp_path / "elsewhere"
    (batch,) = fetch(t, processing_dir="claimed", archive_dir=str(elsewhere))
    assert Path(batch.metadata["path"]).parent == inbox / "claimed"
    assert t.finish(batch.metadata, True) == str(elsewhere / today() / "x.json")


def test_names_near_the_255_byte_limit_are_claimed_archived_and_errored(tmp_path: Path) -> None:
    long = "é" * 120 + ".json"  # 245 bytes: legal, but not with a claim prefix or `.reason`
    t = claiming(tmp_path)
    for ok in (True, False):
        (tmp_path / long).write_text("[1]" if ok else "[2]")
        (batch,) = fetch(t)
        assert batch.name == long and len(Path(batch.metadata["path"]).name.encode()) <= 255
        moved = Path(t.finish(batch.metadata, ok, "bad") or "")
        assert moved.is_file() and moved.name.endswith(".json") and moved.name.startswith("é")
        assert len(moved.name.encode()) <= 248
    assert (moved.parent / (moved.name + ".reason")).read_text() == "bad\n"


def test_links_and_other_non_regular_files_are_never_taken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, outside = tmp_path / "in", tmp_path / "secret.json"
    inbox.mkdir()
    outside.write_text("[0]")
    (inbox / "evil.json").symlink_to(outside)
    (inbox / "inside.json").symlink_to(inbox / "evil.json")
    (inbox / "dir.json").mkdir()
    os.mkfifo(inbox / "fifo.json")
    (inbox / "good.json").write_text("[1]")
    with caplog.at_level(logging.WARNING, logger="connectors.drop"):
        assert [b.name for b in fetch(claiming(inbox))] == ["good.json"]
    assert "evil.json: skipped, a link is never followed" in caplog.text
    assert outside.read_text() == "[0]" and (inbox / "evil.json").is_symlink()


def test_settle_seconds_and_a_file_that_changes_while_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "fresh.json").write_text("[1]")
    with caplog.at_level(logging.INFO, logger="connectors.drop"):
        assert fetch(claiming(tmp_path, settle_seconds=60)) == []
    assert "fresh.json: skipped, modified" in caplog.text
    past = time.time() - 120
    os.utime(tmp_path / "fresh.json", (past, past))

    class Appending(LocalFS):  # a writer still at it while the file is downloaded
        @contextmanager
        def open_read(self, path: str, size: int) -> Iterator[BinaryIO]:
            with super().open_read(path, size) as f:
                with open(path, "a") as w:
                    w.write(" ")
                yield f

    rules = dropconfig.rules(
        claiming(tmp_path).config, dropconfig.DropStream(pattern="*.json"), "orders", str(tmp_path)
    )
    assert list(drop.DropFolder(Appending(), rules).fetch("json")) == []
    assert (tmp_path / "fresh.json").read_text() == "[1] "  # back in the inbox
    assert [b.content for b in fetch(claiming(tmp_path))] == [b"[1] "]


def test_done_markers(tmp_path: Path) -> None:
    for name in ("a.json", "b.json", "a.json.done"):
        (tmp_path / name).write_text("[1]")
    assert [b.name for b in fetch(claiming(tmp_path, done_marker="{name}.done"))] == ["a.json"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["b.json"]
    folder = claiming(tmp_path, done_marker="_SUCCESS")
    assert fetch(folder) == []
    (tmp_path / "_SUCCESS").touch()
    assert [b.name for b in fetch(folder, "*")] == ["b.json"]


def test_a_stale_claim_is_taken_again_and_finished_through_its_first_ref(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1]")
    t = claiming(tmp_path, claim_timeout_seconds=60)
    (first,) = fetch(t)
    assert fetch(t) == []
    claimed = Path(first.metadata["path"])
    old = claimed.with_name("20200101T000000Z-" + claimed.name.split("-", 1)[1])
    claimed.rename(old)
    (again,) = fetch(t)
    assert again.content == b"[1]" and not old.exists()
    assert t.finish({**first.metadata, "path": str(old)}, True) is not None
    assert t.finish(again.metadata, True) is None
    assert tree(tmp_path) == [f"archive/{today()}/a.json"]


def test_two_pollers_take_each_of_200_files_once(tmp_path: Path) -> None:
    for n in range(200):
        (tmp_path / f"{n:04d}.json").write_text(f"[{n}]")
    got: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def poll(i: int) -> None:
        t = claiming(tmp_path)
        start.wait()
        for batch in fetch(t):
            got[i].append(batch.name)
            t.finish(batch.metadata, True)

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    a, b = set(got[0]), set(got[1])
    assert len(a) + len(b) == 200 and not a & b
    assert len(list((tmp_path / "archive" / today()).iterdir())) == 200
    assert list((tmp_path / "processing").iterdir()) == []


def test_unclaimed_folders_are_untouched_and_finish_does_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1]")
    config = LocalFolderConfig.model_validate({"type": "local_folder", "path": str(tmp_path)})
    t = LocalFolderTransport(config, TransportContext(source="s", base=tmp_path))
    (batch,) = fetch(t)
    assert t.finish(batch.metadata, True) is None
    assert tree(tmp_path) == ["a.json"]


@pytest.mark.parametrize(
    ("options", "stream", "message"),
    [
        ({}, {"pattern": "*/x.json"}, "put wildcards in the file name only"),
        ({}, {"pattern": None}, "needs `pattern`"),
    ],
)
def test_stream_mistakes(tmp_path: Path, options: dict, stream: dict, message: str) -> None:
    with pytest.raises(ConnectorConfigError, match=message):
        list(claiming(tmp_path, **options).fetch(StreamRequest("orders", "json", stream)))


def test_config_mistakes_and_backfill_windows(tmp_path: Path) -> None:
    from pydantic import ValidationError

    for bad, message in (
        ({"claim_timeout_seconds": 0}, "greater than 0"),
        ({"processing_dir": "../up"}, "without '..'"),
        ({"archive_dir": " "}, "without '..'"),
    ):
        with pytest.raises(ValidationError, match=message):
            claiming(tmp_path, **bad)
    window = StreamRequest("orders", "json", {"pattern": "*"}, window=(None, None))
    with pytest.raises(ConnectorConfigError, match="cannot re-read a time window"):
        list(claiming(tmp_path).fetch(window))


def test_a_claimed_folder_source_end_to_end_with_a_resent_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str
) -> None:
    """Through omshub.pipeline: loaded -> archive; the same bytes sent again -> archived at
    once (that batch is loaded); a format error parked dead -> error/ with its reason."""
    import json

    from projects import shop_order, write_source

    from oms.db import get_engine
    from omshub import pipeline

    home = write_source(tmp_path / "proj")
    yaml = home / "config/sources/shop.yaml"
    text = yaml.read_text().replace("path: drop}", "path: drop, claim: true}")
    yaml.write_text(text.replace("retries: 0", "retries: 0\nmax_batch_attempts: 1"))
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    engine, inbox = get_engine(sqlite_store), home / "drop"
    good = json.dumps({"orders": [shop_order(1, "L1", updated_at="2026-11-20T10:00:00Z")]})
    (inbox / "a.json").write_text(good)
    (inbox / "b.json").write_text('{"orders": [')
    pipeline.run_source("shop", engine=engine)
    (inbox / "a_again.json").write_text(good)
    pipeline.run_source("shop", engine=engine)
    done = [f"archive/{today()}/a.json", f"archive/{today()}/a_again.json", "error/b.json"]
    assert tree(inbox) == sorted([*done, "error/b.json.reason"])
    assert "invalid JSON" in (inbox / "error/b.json.reason").read_text()
