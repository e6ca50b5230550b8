"""`omshub edi parse FILE`: an X12 file's envelopes, control numbers and issues.

Reads the file with the tolerant reader (`connectors.x12`) and prints its tree:
interchanges, groups, transaction sets with their control numbers and segment counts,
and every envelope issue with its segment number and acknowledgement code. Exit 0 when
the file is clean, 1 (with one `error:` line) when it has any issue or cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from omshub.cli.base import EXIT_FAILED, dump_json, err, out
from omshub.cli.edi_cmds import edi_app

if TYPE_CHECKING:
    from rich.tree import Tree

    from connectors.x12 import Document, Issue
    from connectors.x12.reader import GroupNode, InterchangeNode

__all__ = ["edi_app", "parse"]


@edi_app.command("parse")
def parse(
    file: Annotated[Path, typer.Argument(help="an X12 file (any delimiters, one or more ISA)")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
) -> None:
    """Show an X12 file's interchanges, groups and sets, and its envelope issues.

    Issues carry their X12 acknowledgement code (TA1 note code for an interchange, AK9
    for a group, AK5 for a set). Exit 1 when there is any issue or the file cannot be read.
    """
    from connectors.errors import ConnectorConfigError
    from connectors.x12 import read_document

    if not file.is_file():
        raise ConnectorConfigError(f"{file}: no such file")
    doc = read_document(file, name=str(file))
    if as_json:
        dump_json(as_data(doc))
    else:
        out.print(tree(doc))
    problem = verdict(doc)
    if problem:
        err.print(Text.assemble(("error:", "bold red"), " ", problem), soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)


def verdict(doc: Document) -> str | None:
    """The one error line for a file that is not clean, else None."""
    if doc.error is not None:
        return str(doc.error)
    issues = doc.issues()
    if not issues:
        return None
    first = issues[0]
    where = f"segment {first.position}: " if first.position else ""
    plural = "" if len(issues) == 1 else "s"
    more = f" ({len(issues)} issue{plural}; first: {where}{first.message})"
    return f"{doc.name}: envelope issues{more}"


def _issue_line(issue: Issue) -> Text:
    where = f"segment {issue.position}" if issue.position else f"byte {issue.offset}"
    style = "red" if issue.fatal else "yellow"
    return Text.assemble((f"{issue.level} {issue.code}", style), f" {where}: {issue.message}")


def tree(doc: Document) -> Tree:
    """The file as a rich tree; every value is plain text (data is never markup)."""
    from rich.tree import Tree  # only when printing one (not at CLI start)

    sets = sum(1 for _ in doc.transactions())
    groups = sum(len(n.groups) for n in doc.interchanges)
    root = Tree(
        Text(
            f"{doc.name}: {len(doc.interchanges)} interchange(s), {groups} group(s), "
            f"{sets} transaction set(s)"
        )
    )
    for node in doc.interchanges:
        _interchange(root, node)
    if doc.error is not None:
        root.add(Text(f"stopped: {doc.error.reason}", style="red"))
    return root


def _branch(parent: Tree, text: str, issues: list[Issue]) -> Tree:
    """A node of the tree and, under it, its issues."""
    branch = parent.add(Text(text))
    for issue in issues:
        branch.add(_issue_line(issue))
    return branch


def _interchange(root: Tree, node: InterchangeNode) -> None:
    ic = node.interchange
    trailer = f"IEA at segment {ic.trailer.position}" if ic.trailer else "no IEA"
    text = (
        f"ISA {ic.control}  {ic.sender_qualifier}:{ic.sender_id} -> "
        f"{ic.receiver_qualifier}:{ic.receiver_id}  version {ic.version}  "
        f"usage {ic.usage}  (segment {ic.header.position}, {trailer})"
    )
    branch = _branch(root, text, ic.issues)
    for group in node.groups:
        _group(branch, group)


def _group(parent: Tree, node: GroupNode) -> None:
    g = node.group
    text = (
        f"GS {g.control}  {g.functional_id}  {g.sender} -> {g.receiver}  {g.version}  "
        f"{g.transaction_count} set(s)  (segment {g.header.position})"
    )
    branch = _branch(parent, text, g.issues)
    for tx in node.transactions:
        count = len(tx.segments) + (2 if tx.trailer else 1)
        first = tx.header.position
        text = (
            f"ST {tx.set_id} {tx.control}  {count} segments  (segments {first}-{first + count - 1})"
        )
        _branch(branch, text, tx.issues)


def _issues(issues: list[Issue]) -> list[dict[str, Any]]:
    return [
        {
            "level": i.level,
            "code": i.code,
            "message": i.message,
            "segment": i.position,
            "offset": i.offset,
            "fatal": i.fatal,
        }
        for i in issues
    ]


def _group_data(node: GroupNode) -> dict[str, Any]:
    g = node.group
    return {
        "functional_id": g.functional_id,
        "control": g.control,
        "sender": g.sender,
        "receiver": g.receiver,
        "version": g.version,
        "segment": g.header.position,
        "transaction_count": g.transaction_count,
        "trailer": g.trailer is not None,
        "issues": _issues(g.issues),
        "transactions": [
            {
                "set_id": tx.set_id,
                "control": tx.control,
                "segment": tx.header.position,
                "segments": len(tx.segments) + (2 if tx.trailer else 1),
                "issues": _issues(tx.issues),
            }
            for tx in node.transactions
        ],
    }


def _interchange_data(node: InterchangeNode) -> dict[str, Any]:
    ic, d = node.interchange, node.interchange.delimiters
    return {
        "control": ic.control,
        "sender": {"qualifier": ic.sender_qualifier, "id": ic.sender_id},
        "receiver": {"qualifier": ic.receiver_qualifier, "id": ic.receiver_id},
        "version": ic.version,
        "usage": ic.usage,
        "ack_requested": ic.ack_requested,
        "segment": ic.header.position,
        "offset": ic.header.offset,
        "delimiters": {
            "element": d.element,
            "sub_element": d.sub_element,
            "segment": d.segment,
            "repetition": d.repetition,
        },
        "group_count": ic.group_count,
        "trailer": ic.trailer is not None,
        "issues": _issues(ic.issues),
        "groups": [_group_data(g) for g in node.groups],
    }


def as_data(doc: Document) -> dict[str, Any]:
    """The document as one JSON-able object."""
    return {
        "file": doc.name,
        "clean": doc.clean,
        "error": str(doc.error) if doc.error else None,
        "issue_count": len(doc.issues()),
        "interchanges": [_interchange_data(n) for n in doc.interchanges],
    }
