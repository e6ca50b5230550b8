"""`omshub mapping test --watch`: re-run a mapping's test on every save.

One long-lived process watches mappings/ and the code lists (watchfiles, native file
events) and re-runs the mappings a change touches: a mapping file, its sample or golden
re-run that mapping, a code list re-runs them all. The compiled mapping and code lists
are cached by file and modification time (`omshub.mappings`), and nothing slow is
imported again, so a re-run costs the mapping itself: tens of milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from omshub.config import config_dir, mappings_dir
from omshub.mappingtest.locate import mapping_path
from omshub.mappingtest.runner import Result

#: wait this long for a burst of events from one save (editors write, rename, chmod)
DEBOUNCE_MS = 30


def _deps(arg: str, result: Result | None) -> set[Path]:
    if result is not None and result.target is not None:
        return result.target.files()
    try:
        return {mapping_path(arg)}
    except Exception:  # a mapping that is not there yet: nothing of it to watch
        return set()


def affected(
    changed: Iterable[Path], deps: dict[str, set[Path]], codes: Path, everything: list[str]
) -> list[str]:
    """The mappings to re-run for a set of changed files (a code list: all of them)."""
    files = {p.resolve() for p in changed}
    if any(p.parent == codes.resolve() for p in files):
        return everything
    return [arg for arg, those in deps.items() if those & files]


def watch(
    args: Callable[[], list[str]],
    run: Callable[[list[str], set[Path]], list[Result]],
    stop: threading.Event | None = None,
) -> None:
    """Run `run` once on `args()`, then again on the mappings each change touches.

    `args` is called again on a change (with `--all`, a new mapping file joins);
    `run(mappings, changed files)` tests and shows them. Ends on Ctrl-C or `stop`.
    """
    from watchfiles import watch as watch_files

    codes = config_dir() / "codes"
    folders = [p for p in (mappings_dir(), codes) if p.is_dir()]
    first = args()
    deps = {a: _deps(a, r) for a, r in zip(first, run(first, set()), strict=True)}
    for changes in watch_files(
        *folders, debounce=DEBOUNCE_MS, step=10, stop_event=stop, raise_interrupt=False
    ):
        changed = {Path(p) for _, p in changes}
        everything = args()
        for arg in everything:
            deps.setdefault(arg, _deps(arg, None))
        again = affected(changed, deps, codes, everything)
        if again:
            deps.update({a: _deps(a, r) for a, r in zip(again, run(again, changed), strict=True)})
