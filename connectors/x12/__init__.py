"""ANSI X12 EDI: a tolerant streaming reader and a writer in each partner's delimiters.

Reading: `read_events` / `iter_transactions` stream any size of file; `read_document`
holds a small file as a tree. See docs/edi.md ("Reading X12").
"""

from connectors.x12.envelope import (
    Event,
    GroupEnd,
    GroupStart,
    InterchangeEnd,
    InterchangeStart,
)
from connectors.x12.errors import X12Error
from connectors.x12.model import Delimiters, Group, Interchange, Issue, Segment, Transaction
from connectors.x12.reader import (
    Document,
    GroupNode,
    InterchangeNode,
    iter_segments,
    iter_transactions,
    read_document,
    read_events,
)

__all__ = [
    "Delimiters",
    "Document",
    "Event",
    "Group",
    "GroupEnd",
    "GroupNode",
    "GroupStart",
    "Interchange",
    "InterchangeEnd",
    "InterchangeNode",
    "InterchangeStart",
    "Issue",
    "Segment",
    "Transaction",
    "X12Error",
    "iter_segments",
    "iter_transactions",
    "read_document",
    "read_events",
]
