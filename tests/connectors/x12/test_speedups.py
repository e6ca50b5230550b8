"""The compiled splitter (connectors/x12/_speedups.c) against the Python one: the same
Split or the same refusal on random texts, the same events, issues and errors on damaged
files, no leak, and OMSHUB_X12_PURE=1 forcing Python."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12text import damaged, good_for_fuzz, group, interchange, po, render

from connectors.x12 import X12Error, read_events, splitter
from connectors.x12.model import Delimiters, Segment

ROOT = Path(__file__).resolve().parents[3]
FastSplit = Callable[[str, int, Delimiters, int], splitter.Split | None]


@pytest.fixture(scope="module")
def speedups() -> ModuleType:
    """The compiled module. `make install` builds it wherever a C compiler exists (CI
    included: .ci/ensure-system-deps.sh sees to gcc), so its absence fails these tests,
    never skips them. Without a compiler the reader still runs on the Python splitter;
    only the comparison between the two cannot be made there."""
    try:
        from connectors.x12 import _speedups
    except ImportError:
        pytest.fail(
            "connectors.x12._speedups is not built: run `make install` with a C compiler "
            f"(found: {shutil.which('cc') or shutil.which('gcc') or 'none'})"
        )
    return _speedups


@pytest.fixture
def c_fast(speedups: ModuleType, monkeypatch: pytest.MonkeyPatch) -> FastSplit:
    """splitter._c_fast bound to the compiled module (even under OMSHUB_X12_PURE=1)."""
    monkeypatch.setattr(splitter, "_split", speedups.split)
    return splitter._c_fast


DELIMS = [("*", "~"), ("|", "'"), ("*", "\n"), ("\x1d", "\x1c"), ("é", "~"), ("*", "é"), ("~", "~")]
SUFFIXES = ["", "\n", "\r\n", " ", " \n", "\r", "\n\n"]
TAGS = ["ST", "SE", "GS", "GE", "IEA", "BEG", "N1", "PO1"]
VALUES = ["00", "SA", "A", "", "12.50", "SKU 1"]
RARE = ["ISA", "é", "\x00", "\x1a", "\t", " ", "", "\x00ISA", "\n", "\r"]  # what declines
NOISE = ["\n", "\r\n", "\r", " ", "\t", "\x1a", "\x00", "~", "*", "", "é"]


def token(rng: random.Random, common: list[str]) -> str:
    return rng.choice(RARE) if rng.random() < 0.02 else rng.choice(common)


def random_text(rng: random.Random) -> tuple[str, Delimiters]:
    """Mostly regular blocks (so the fast path accepts many), some damaged in one place."""
    sep, term = rng.choice(DELIMS)
    suffix = rng.choice(SUFFIXES)
    segments = []
    for _ in range(rng.randint(1, 12)):
        elements = [token(rng, VALUES) for _ in range(rng.randint(0, 5))]
        segments.append(sep.join([token(rng, TAGS), *elements]))
    text = (term + suffix).join(segments) + term  # a region ends at a terminator
    if rng.random() < 0.3:
        text = rng.choice([suffix, *NOISE]) + text  # the previous region's suffix
    if rng.random() < 0.3:
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(NOISE + RARE) + text[at:]
    if rng.random() < 0.1:
        text = text[: rng.randrange(len(text) + 1)]
    return text, Delimiters(sep, ":", term)


def test_both_fast_paths_give_the_same_split_or_both_decline(c_fast: FastSplit) -> None:
    rng = random.Random(20261203)
    accepted = declined = 0
    for _ in range(12_000):
        text, delims = random_text(rng)
        base, seq = rng.randrange(10**9), rng.randrange(10**6)
        ours, theirs = c_fast(text, base, delims, seq), splitter._py_fast(text, base, delims, seq)
        assert ours == theirs, (text, delims)
        if ours is None:
            declined += 1
            continue
        accepted += 1
        assert all(type(s) is Segment and type(s.elements) is list for s in ours.segments)
        assert all(type(e) is str for s in ours.segments for e in s.elements)
    assert accepted > 3000 and declined > 3000, (accepted, declined)


def outcome(data: bytes, chunk: int) -> tuple[list[object], str | None]:
    """Every event of reading `data` (in `chunk`-byte blocks, 0: whole), and the error."""
    source = [data[i : i + chunk] for i in range(0, len(data), chunk)] if chunk else data
    events: list[object] = []
    try:
        events.extend(read_events(source, name="fuzz.x12"))
    except X12Error as e:
        return events, f"{type(e).__name__}: {e}"
    return events, None


def test_damaged_files_read_the_same_through_both_paths(
    c_fast: FastSplit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damaged files (3,000; OMSHUB_X12_FUZZ=12000 for more): same events (segments,
    positions, offsets, issues), same X12Error, read whole and in 9-byte blocks (other
    region cuts)."""
    good, rng = good_for_fuzz(), random.Random(12)
    files = [damaged(rng, good) for _ in range(int(os.environ.get("OMSHUB_X12_FUZZ", "3000")))]
    got = {}
    for name, fast in (("c", c_fast), ("python", splitter._py_fast)):
        monkeypatch.setattr(splitter, "_fast", fast)
        got[name] = [outcome(data, 9 if i % 4 == 0 else 0) for i, data in enumerate(files)]
    for data, ours, theirs in zip(files, got["c"], got["python"], strict=True):
        assert ours == theirs, data[:200]
    errors = sum(1 for _, error in got["c"] if error is not None)
    assert 0 < errors < len(files)


@pytest.mark.parametrize("after", ["", "\n", "\r\n", " "])
def test_regular_files_take_the_compiled_path_with_the_same_events(
    c_fast: FastSplit, monkeypatch: pytest.MonkeyPatch, after: str
) -> None:
    data = render(
        interchange(group(*[po(f"{i:04d}", lines=9) for i in range(1, 400)])), after=after
    )
    calls: list[int] = []

    def counted(text: str, base: int, delims: Delimiters, seq: int) -> splitter.Split | None:
        split = c_fast(text, base, delims, seq)
        calls.append(0 if split is None else len(split.segments))
        return split

    monkeypatch.setattr(splitter, "_fast", counted)
    ours = outcome(data, 0)
    assert len(calls) > 10
    assert sum(calls) == data.count(b"~") - 1  # every segment but the ISA split in C
    monkeypatch.setattr(splitter, "_fast", splitter._py_fast)
    assert ours == outcome(data, 0)


def leaked(calls: Iterator[object]) -> int:
    """Bytes still allocated after running `calls` (a warm-up first: caches, free lists)."""
    run = list(calls)
    for call in run[:50]:
        call()  # type: ignore[operator]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for call in run:
            call()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_no_reference_or_memory_is_leaked(speedups: ModuleType) -> None:
    texts = [
        "ST*850*1~\nBEG*00*SA*1~\nSE*3*1~\n",  # split
        "ST*850*1~\n~\nSE*3*1~",  # declined after splitting into pieces (empty segment)
        "ST*850*1~\nBEG*00*\nSA*1~",  # declined by the line-break counts
        "Café~",  # declined at once
    ]
    calls = [
        (lambda t=t: speedups.split(t, 0, "~", "*", 0, Segment)) for t in texts for _ in range(3000)
    ]
    assert leaked(iter(calls)) < 4096


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((b"ST~", 0, "~", "*", 0, Segment), TypeError),
        (("ST~", 0, "~~", "*", 0, Segment), ValueError),
        (("ST~", 0, "~", "", 0, Segment), ValueError),
        (("ST~", 0, "~", "*", 0, list), TypeError),
        (("ST~", -1, "~", "*", 0, Segment), OverflowError),
        (("ST~", 0, "~", "*", 2**70, Segment), OverflowError),
        (("ST~", 0, "~", "*", 0), TypeError),
    ],
)
def test_wrong_arguments_raise_typed_errors(
    speedups: ModuleType, args: tuple[object, ...], error: type[Exception]
) -> None:
    with pytest.raises(error):
        speedups.split(*args)


@pytest.mark.parametrize(("pure", "expected"), [("1", "python"), ("0", "c")])
def test_omshub_x12_pure_forces_the_python_path(
    speedups: ModuleType, pure: str, expected: str
) -> None:
    code = "from connectors.x12 import splitter; print(splitter.TOKENIZER)"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "OMSHUB_X12_PURE": pure},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == expected
