"""The read-and-map thread that runs one chunk ahead of the load (omshub.prefetch)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from omshub.prefetch import prefetched


def test_results_come_in_order_and_all() -> None:
    assert list(prefetched(range(100), lambda i: i * i)) == [i * i for i in range(100)]


def test_work_runs_in_another_thread_while_the_caller_consumes() -> None:
    threads = set()

    def work(i: int) -> int:
        threads.add(threading.get_ident())
        return i

    assert list(prefetched(range(5), work)) == [0, 1, 2, 3, 4]
    assert threading.get_ident() not in threads


def test_an_error_in_the_background_is_raised_at_its_item() -> None:
    def work(i: int) -> int:
        if i == 3:
            raise ValueError("bad chunk 3")
        return i

    seen = []
    with pytest.raises(ValueError, match="bad chunk 3"):
        for value in prefetched(range(10), work):
            seen.append(value)
    assert seen == [0, 1, 2]


def test_an_error_while_reading_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("truncated file")

    seen = []
    with pytest.raises(OSError, match="truncated file"):
        for value in prefetched(items(), lambda i: i):
            seen.append(value)
    assert seen == [1, 2]


def test_leaving_early_stops_the_thread_before_it_reads_everything() -> None:
    read = []

    def items() -> Iterator[int]:
        for i in range(1000):
            read.append(i)
            yield i

    gen = prefetched(items(), lambda i: i, depth=1)
    with pytest.raises(RuntimeError):
        for value in gen:
            if value == 2:
                raise RuntimeError("load failed")
    gen.close()
    assert len(read) <= 6  # one item in hand, one queued, one being mapped
    assert not any(t.name == "omshub-prefetch" for t in threading.enumerate())
