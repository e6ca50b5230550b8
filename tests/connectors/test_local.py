"""The folder transport reads regular files inside its folder only, and only finished ones."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.base import StreamRequest
from connectors.errors import ConnectorConfigError
from connectors.registry import transport


def names(t: Any, pattern: str = "*", **options: object) -> list[str]:
    request = StreamRequest("orders", "json", {"pattern": pattern, **options})
    return [b.name for b in t.fetch(request)]


def test_links_out_of_the_folder_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drop, outside = tmp_path / "drop", tmp_path / "secret"
    drop.mkdir()
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    (drop / "good.json").write_text("[1]")
    (drop / "evil.json").symlink_to("/etc/passwd")
    (drop / "evil2.json").symlink_to(outside / "passwd")
    (drop / "inside.json").symlink_to(drop / "good.json")  # a link inside the folder is fine
    (drop / "subdir.json").mkdir()
    with caplog.at_level(logging.WARNING, logger="connectors.local"):
        assert names(transport("local_folder", {"path": str(drop)})) == ["good.json", "inside.json"]
    warned = caplog.text
    assert "evil.json: skipped, it is a link to /etc/passwd" in warned
    assert "evil2.json: skipped" in warned


def test_temporary_and_hidden_files_are_skipped(tmp_path: Path) -> None:
    for name in ("a.json", "b.json.tmp", "c.json.part", ".d.json", "e.json"):
        (tmp_path / name).write_text("[1]")
    assert names(transport("local_folder", {"path": str(tmp_path)})) == ["a.json", "e.json"]


@pytest.mark.parametrize("pattern", ["../*.json", "/etc/*", "sub/../../x"])
def test_patterns_must_stay_inside_the_folder(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(ConnectorConfigError, match="must stay inside the folder"):
        names(transport("local_folder", {"path": str(tmp_path)}), pattern)


def test_settle_seconds_skips_files_still_being_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old, fresh = tmp_path / "old.json", tmp_path / "fresh.json"
    old.write_text("[1]")
    fresh.write_text("[2]")
    past = time.time() - 120
    os.utime(old, (past, past))
    t = transport("local_folder", {"path": str(tmp_path), "settle_seconds": 60})
    with caplog.at_level(logging.INFO, logger="connectors.local"):
        assert names(t) == ["old.json"]
    assert "fresh.json: skipped, modified" in caplog.text
    assert names(t, settle_seconds=0) == ["fresh.json", "old.json"]  # a stream may override


def test_done_marker_per_file_and_per_folder(tmp_path: Path) -> None:
    for name in ("a.json", "b.json", "a.json.done"):
        (tmp_path / name).write_text("[1]")
    per_file = transport("local_folder", {"path": str(tmp_path), "done_marker": "{name}.done"})
    assert names(per_file) == ["a.json"]  # b has no marker yet; the marker is not data
    folder = transport("local_folder", {"path": str(tmp_path), "done_marker": "_SUCCESS"})
    assert names(folder, "*.json") == []
    (tmp_path / "_SUCCESS").touch()
    assert names(folder, "*.json") == ["a.json", "b.json"]
    assert "_SUCCESS" not in names(folder)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"settle_seconds": -1}, "settle_seconds: Input should be greater than or equal to 0"),
        ({"settle_seconds": "soon"}, "settle_seconds: Input should be a valid number"),
        ({"password": "hunter2"}, "secret written inline in YAML"),
        ({"pathh": "x"}, "pathh: Extra inputs are not permitted"),
        ({"done_marker": "../x.done"}, "done_marker must be a file name"),
        ({"done_marker": "{other}.done"}, "only {name} and {stem}"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(ConnectorConfigError, match=message):
        transport("local_folder", {"path": str(tmp_path), **options})
