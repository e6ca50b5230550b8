"""Progress of a long batch in the task log: records done so far and the pace.

A batch of a million lines is one transaction of many chunks and can take a minute or
more; without a line in between, an operator watching the Airflow task log cannot tell a
slow batch from a stuck one. `Ticker.tick` logs at most every `OMSHUB_PROGRESS_SECONDS`
(default 10 s), so a short batch logs nothing extra and a long one a line per interval.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

log = logging.getLogger("omshub.pipeline")


def every_seconds() -> float:
    """`OMSHUB_PROGRESS_SECONDS` (default 10): the least time between two progress lines."""
    return float(os.environ.get("OMSHUB_PROGRESS_SECONDS", "10"))


class Ticker:
    """Logs `what: N records so far (R/s)` when `every` seconds passed since the last line."""

    def __init__(
        self, what: str, every: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.what, self.clock = what, clock
        self.every = every_seconds() if every is None else every
        self.started = self.last = clock()

    def tick(self, records: int) -> bool:
        """Called after each chunk; True when it logged a line."""
        now = self.clock()
        if now - self.last < self.every:
            return False
        self.last = now
        pace = records / (now - self.started) if now > self.started else 0.0
        log.info("%s: %s records so far (%s/s)", self.what, f"{records:,}", f"{pace:,.0f}")
        return True
