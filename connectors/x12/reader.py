"""Read X12: a streaming API of envelope events, and a small whole-file tree.

`read_events` and `iter_transactions` stream: they hold one block of input (256 KiB) and
one transaction set at a time, whatever the size of the file, its groups or interchanges.
`read_document` keeps everything in memory: for small files, the CLI and tests.

    from connectors.x12 import read_events, InterchangeEnd, Transaction
    for event in read_events("orders.x12"):
        if isinstance(event, Transaction):
            print(event.set_id, event.control, len(event.segments), event.issues)
        elif isinstance(event, InterchangeEnd):
            print("ISA", event.interchange.control, event.interchange.issues)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from connectors.x12.envelope import (
    Envelope,
    Event,
    GroupEnd,
    GroupStart,
    InterchangeEnd,
    InterchangeStart,
)
from connectors.x12.errors import X12Error
from connectors.x12.lexer import Lexer
from connectors.x12.model import Group, Interchange, Issue, Segment, Transaction

BLOCK_SIZE = 1 << 18  # 256 KiB read at a time; split 8 KiB at a time (lexer.REGION)

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | Iterable[bytes]


def _name_of(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "") or "<x12>")


def _blocks(source: Source) -> Iterator[bytes]:
    """The input as blocks of bytes, read lazily (a path is opened and closed here)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for at in range(0, len(data), BLOCK_SIZE):
            yield data[at : at + BLOCK_SIZE]
    elif isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as stream:
            yield from iter(lambda: stream.read(BLOCK_SIZE), b"")
    elif hasattr(source, "read"):
        read = source.read
        while block := read(BLOCK_SIZE):
            if not isinstance(block, bytes | bytearray):
                raise TypeError("an X12 source file must be opened in binary mode ('rb')")
            yield bytes(block)
    else:
        for block in source:
            yield bytes(block)


def read_events(source: Source, *, name: str | None = None) -> Iterator[Event]:
    """Envelope events in file order, streaming.

    `source`: bytes, a path (str or PathLike), a binary file object, or an iterable of
    byte blocks. Events: InterchangeStart, GroupStart, Transaction (complete, SE read or
    found missing), GroupEnd and InterchangeEnd (complete: trailer, counts and issues
    final). Raises X12Error only when nothing more can be read; the events before it
    stand.
    """
    where = name or _name_of(source)
    yield from Envelope(Lexer(_blocks(source), where)).events()


def iter_transactions(source: Source, *, name: str | None = None) -> Iterator[Transaction]:
    """Only the transaction sets (each knows its group and interchange), streaming."""
    for event in read_events(source, name=name):
        if isinstance(event, Transaction):
            yield event


def iter_segments(source: Source, *, name: str | None = None) -> Iterator[Segment]:
    """Every segment of every envelope, ISA to IEA, in file order, streaming.

    Segments outside any transaction set are not among them (they are `024` issues).
    """
    for event in read_events(source, name=name):
        if isinstance(event, Transaction):
            yield event.header
            yield from event.segments
            if event.trailer is not None:
                yield event.trailer
        elif isinstance(event, InterchangeStart):
            yield event.interchange.header
        elif isinstance(event, GroupStart):
            yield event.group.header
        else:
            closing = event.group if isinstance(event, GroupEnd) else event.interchange
            if closing.trailer is not None:
                yield closing.trailer


@dataclass(slots=True)
class GroupNode:
    group: Group
    transactions: list[Transaction] = field(default_factory=list)


@dataclass(slots=True)
class InterchangeNode:
    interchange: Interchange
    groups: list[GroupNode] = field(default_factory=list)


@dataclass(slots=True)
class Document:
    """A whole X12 file in memory (NOT streaming: use read_events for large files).

    `error` is the X12Error that stopped reading, if any; what was read before it is kept.
    """

    name: str
    interchanges: list[InterchangeNode] = field(default_factory=list)
    error: X12Error | None = None

    def issues(self) -> list[Issue]:
        """Every issue of the file: interchanges, groups, transactions, in file order."""
        found: list[Issue] = []
        for node in self.interchanges:
            found += node.interchange.issues
            for g in node.groups:
                found += g.group.issues
                for tx in g.transactions:
                    found += tx.issues
        return sorted(found, key=lambda i: (i.position or 0, i.offset or 0))

    @property
    def clean(self) -> bool:
        """Read to the end with no issue at all."""
        return self.error is None and not self.issues()

    def transactions(self) -> Iterator[Transaction]:
        for node in self.interchanges:
            for g in node.groups:
                yield from g.transactions


def read_document(source: Source, *, name: str | None = None) -> Document:
    """The whole file as a tree; an X12Error is kept on the document, not raised."""
    doc = Document(name or _name_of(source))
    group: GroupNode | None = None
    try:
        for event in read_events(source, name=doc.name):
            if isinstance(event, InterchangeStart):
                doc.interchanges.append(InterchangeNode(event.interchange))
            elif isinstance(event, GroupStart):
                group = GroupNode(event.group)
                doc.interchanges[-1].groups.append(group)
            elif isinstance(event, Transaction) and group is not None:
                group.transactions.append(event)
            elif isinstance(event, GroupEnd | InterchangeEnd):
                group = None
    except X12Error as e:
        doc.error = e
    return doc
