"""Overlap reading and mapping the next chunk with loading the current one.

A batch is read, mapped and validated chunk by chunk (client CPU: Arrow, the mapping,
great-expectations), then loaded (mostly the database's work, while this process waits
on a socket). On a two-core machine running each in turn leaves one core idle most of
the time; `prefetched` runs the first half in one background thread, one chunk ahead, so
the database loads chunk N while chunk N+1 is mapped. Arrow compute and the database
driver release the GIL, so the overlap is real.

The order of items is kept, at most `depth` results wait in memory (memory stays bounded
by the chunk size), an exception in the background is raised in the caller at the item
where it happened, and leaving the loop early (an error while loading) stops the
thread before the next item is read.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(
    items: Iterable[T], work: Callable[[T], R], depth: int = 1
) -> Generator[R, None, None]:
    """`work(item)` for every item, computed in a background thread up to `depth` ahead."""
    out: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                out.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set() or not put(work(item)):
                    return
        except BaseException as e:
            put(_Failed(e))
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="omshub-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            value = out.get()
            if value is _DONE:
                return
            if isinstance(value, _Failed):
                raise value.error
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
