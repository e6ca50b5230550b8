"""The conformance tests over `../shared/samples` (real public X12 and payloads).

The samples live beside the checkout, not in it, and the core suite must pass where they
are absent. One rule here: where the folder is absent the `shared` tests are not run at
all (deselected, not skipped: there is nothing of theirs that could pass or fail) and the
run's summary says how many and why; with `OMSHUB_REQUIRE_SAMPLES=1` (a CI that has them)
their absence is a usage error, so a missing folder can never pass for a green run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
_REASON = f"{SAMPLES} is not present (conformance samples beside the checkout)"
_left_out: list[pytest.Item] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shared = [item for item in items if item.get_closest_marker("shared")]
    if not shared or SAMPLES.is_dir():
        return
    if os.environ.get("OMSHUB_REQUIRE_SAMPLES"):
        raise pytest.UsageError(f"OMSHUB_REQUIRE_SAMPLES is set but {_REASON}")
    _left_out.extend(shared)
    config.hook.pytest_deselected(items=shared)
    items[:] = [item for item in items if not item.get_closest_marker("shared")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _left_out:
        terminalreporter.write_line(
            f"{len(_left_out)} conformance tests not run: {_REASON}; "
            "OMSHUB_REQUIRE_SAMPLES=1 makes that an error"
        )
