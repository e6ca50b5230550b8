"""docs/tutorial-first-source.md, run as written: a new user's first source, end to end.

The page's files are written and its commands run in a fresh folder, with the omshub of
this checkout on PATH, and each command's output is checked against what the page shows
(tests/tutorial_runner.py). A tutorial that no longer works fails here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tutorial_runner import matches, parse, run

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "tutorial-first-source.md"


def test_the_page_has_files_and_commands() -> None:
    steps = parse(PAGE.read_text(encoding="utf-8"))
    paths = [s.path for s in steps if s.path]
    commands = [s.command for s in steps if s.command]
    assert "config/sources/shop.yaml" in paths
    assert "mappings/shop/orders.yaml" in paths
    assert any(c.startswith("omshub mapping test") for c in commands)
    assert any(c.startswith("omshub run") for c in commands)


def test_ellipsis_matching() -> None:
    out = "noise\nshop: success (run x1; 1 loaded)\n│ a   │ b │\ntail\n"
    assert matches(["...", "shop: success (run ...; 1 loaded)", "│ a │ b │", "..."], out)
    assert not matches(["shop: success (run ...; 1 loaded)", "..."], out)  # must start there
    assert not matches(["...", "shop: failed (run ...)", "..."], out)
    assert not matches(["...", "│ a │ b │"], out)  # must end there


def test_tutorial_runs_as_written(tmp_path: Path) -> None:
    steps = parse(PAGE.read_text(encoding="utf-8"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMSHUB_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"  # rich wraps at the terminal width; a reader's may be narrower
    results = run(steps, tmp_path, env, timeout=900)
    for i, step in enumerate(steps):
        if step.command is None:
            continue
        assert i in results, f"{PAGE.name}:{step.line}: `{step.command}` did not run"
        rc, output = results[i]
        where = f"{PAGE.name}:{step.line}: `{step.command}`"
        assert rc == 0, f"{where} exited {rc}:\n{output}"
        assert matches(step.expected, output), (
            f"{where}: output differs from the page.\npage:\n"
            + "\n".join(step.expected)
            + f"\nactual:\n{output}"
        )
