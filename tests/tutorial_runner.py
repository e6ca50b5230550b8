"""Run a markdown tutorial: its files written, its commands run, their output checked.

A fenced block with a `title="path"` annotation is a file the reader writes; a `console`
block holds commands (`$ ...`) each followed by the output the page promises. Everything
runs in document order as one bash script (so `cd` and `export` carry on, as in the
reader's shell); each command's output is compared with the page like a doctest with
ELLIPSIS: a `...` line stands for any lines, `...` inside a line for any text, and runs
of spaces compare equal.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r'^```(?P<lang>[\w-]*)(?:\s+title="(?P<title>[^"]+)")?\s*$')
MARK = "__TUTORIAL_STEP_"
SQLITE_SHIM = r"""sqlite3() {
  "$PYTHON" -c 'import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for row in con.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))' "$@"
}
"""


@dataclass
class Step:
    """A file to write (`path`) or a command to run with its promised output."""

    line: int
    path: str | None = None
    text: str = ""
    command: str | None = None
    expected: list[str] = field(default_factory=list)


def parse(markdown: str) -> list[Step]:
    steps: list[Step] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not (m["title"] or m["lang"] == "console"):
            i += 1
            continue
        start = i + 1
        end = start
        while not lines[end].startswith("```"):
            end += 1
        body = lines[start:end]
        if m["title"]:
            steps.append(Step(start, path=m["title"], text="\n".join(body) + "\n"))
        else:
            for n, text in enumerate(body, start + 1):
                if text.startswith("$ "):
                    steps.append(Step(n, command=text[2:]))
                elif steps and steps[-1].command is not None:
                    steps[-1].expected.append(text)
        i = end + 1
    return steps


def script(steps: list[Step]) -> str:
    """The bash script a reader's session amounts to, with a marker after each command."""
    out = ["exec 2>&1"]
    if shutil.which("sqlite3") is None:  # the same query through Python's sqlite3 module
        out.append(SQLITE_SHIM)
    for i, s in enumerate(steps):
        if s.path is not None:
            out.append(f"cat > '{s.path}' <<'__TUTORIAL_EOF__'\n{s.text}__TUTORIAL_EOF__")
        else:
            out.append(f"echo '{MARK}START'\n{s.command}\necho \"{MARK}{i}_RC=$?\"")
    return "\n".join(out) + "\n"


def run(
    steps: list[Step], cwd: Path, env: dict[str, str], timeout: float
) -> dict[int, tuple[int, str]]:
    """Step index -> (exit code, output) of every command."""
    env = {**env, "PYTHON": sys.executable}
    proc = subprocess.run(
        ["bash", "-c", script(steps)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    results: dict[int, tuple[int, str]] = {}
    for chunk in proc.stdout.split(f"{MARK}START\n")[1:]:
        m = re.search(rf"{MARK}(\d+)_RC=(\d+)\n", chunk)
        assert m, f"a command did not finish:\n{chunk}"
        results[int(m[1])] = (int(m[2]), chunk[: m.start()])
    return results


def _norm(line: str) -> str:
    return " ".join(line.split())


def _line_matches(want: str, got: str) -> bool:
    pattern = ".*".join(re.escape(p) for p in _norm(want).split("..."))
    return re.fullmatch(pattern, _norm(got)) is not None


def matches(expected: list[str], output: str) -> bool:
    """Doctest ELLIPSIS semantics over lines (see the module docstring)."""
    got = [g for g in output.splitlines() if g.strip()]
    want = [w for w in expected if w.strip()]
    return _match(want, got)


def _match(want: list[str], got: list[str]) -> bool:
    if not want:
        return not got
    if _norm(want[0]) == "...":
        return any(_match(want[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and _line_matches(want[0], got[0]) and _match(want[1:], got[1:])
