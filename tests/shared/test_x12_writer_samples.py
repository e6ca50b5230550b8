"""Conformance: every public X12 sample, written again by the writer in its own delimiters
and envelope, reads back with the same segments and no issue the original did not have.

These files are read where they are (never copied). Where ../shared is absent this module
is skipped as a whole.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from connectors.x12.model import Issue
from connectors.x12.reader import InterchangeNode, read_document
from connectors.x12.writer import (
    GroupSpec,
    TransactionSpec,
    X12EnvelopeError,
    build_interchange,
)

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "x12"
pytestmark = pytest.mark.shared  # tests/shared/conftest.py: run only where the samples are
FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix != ".md") if SAMPLES.is_dir() else []

# what the writer refuses to write back as the partner sent it, by field and why
REFUSED = {
    "ISA11": "ISA12 >= 00402 with 'U' in ISA11: no repetition separator declared",
    "ISA08": "an id with a non-ASCII character cannot sit in a fixed-width ISA",
}


def number(text: str) -> int:
    return int(text) if text.isdigit() and int(text) > 0 else 1


def rewrite(node: InterchangeNode) -> bytes:
    ic = node.interchange
    groups = [
        GroupSpec(
            g.group.functional_id,
            g.group.sender,
            g.group.receiver,
            number(g.group.control),
            g.group.version,
            [
                TransactionSpec(t.set_id, t.control, t.segments, t.implementation)
                for t in g.transactions
            ],
        )
        for g in node.groups
    ]
    return build_interchange(
        sender=(ic.sender_qualifier, ic.sender_id),
        receiver=(ic.receiver_qualifier, ic.receiver_id),
        control=number(ic.control),
        usage=ic.usage,
        version=ic.version,
        delimiters=ic.delimiters,
        groups=groups,
        when=datetime(2026, 12, 3, 8, 0),
        source=ic.delimiters,
        encoding="latin-1",
    )


def bodies(node: InterchangeNode) -> list[tuple[str, list[str]]]:
    """Every set's body segments, trailing empty elements dropped (the writer drops them)."""
    out = []
    for g in node.groups:
        for t in g.transactions:
            for s in t.segments:
                elements = list(s.elements)
                while elements and not elements[-1]:
                    elements.pop()
                out.append((s.tag, elements))
    return out


def codes(issues: list[Issue]) -> set[str]:
    return {f"{i.level}:{i.code}" for i in issues}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sample_written_again_reads_back_the_same(path: Path) -> None:
    doc = read_document(path.read_bytes(), name=path.name)
    for node in doc.interchanges:
        try:
            data = rewrite(node)
        except X12EnvelopeError as e:
            assert e.field in REFUSED, e
            continue
        again = read_document(data)
        assert again.error is None
        (back,) = again.interchanges
        assert back.interchange.delimiters == node.interchange.delimiters
        assert bodies(back) == bodies(node)
        inbound = codes(node.interchange.issues)
        for g in node.groups:
            inbound |= codes(g.group.issues)
            for t in g.transactions:
                inbound |= codes(t.issues)
        assert codes(again.issues()) <= inbound, again.issues()


def test_nearly_every_sample_interchange_is_written_again() -> None:
    written = refused = segments = 0
    for path in FILES:
        for node in read_document(path.read_bytes()).interchanges:
            try:
                rewrite(node)
            except X12EnvelopeError:
                refused += 1
                continue
            written += 1
            segments += len(bodies(node))
    assert written >= 55 and refused <= 6, (written, refused)  # 58 and 6 on 2026-12-03
    assert segments > 2500
