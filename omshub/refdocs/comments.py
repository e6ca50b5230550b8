"""Column comments of the canonical model, read from its source like Sphinx's autodoc.

A column's doc is the `#:` comment lines just above its assignment, else its trailing
`# comment`. Reading them from the source keeps one place for the words (models.py) and
adds nothing to the tables' DDL (a SQLAlchemy `comment=` would).
"""

from __future__ import annotations

import ast
import inspect
import textwrap


def attribute_comments(cls: type) -> dict[str, str]:
    """Attribute name -> its comment, for the class body of `cls` (not its bases)."""
    src = textwrap.dedent(inspect.getsource(cls))
    lines = src.splitlines()
    tree = ast.parse(src)
    body = tree.body[0]
    assert isinstance(body, ast.ClassDef)
    out: dict[str, str] = {}
    for node in body.body:
        if not isinstance(node, ast.AnnAssign | ast.Assign):
            continue
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names:
            continue
        text = _above(lines, node.lineno - 1) or _trailing(lines, node)
        if text:
            out[names[0]] = text
    return out


def _above(lines: list[str], index: int) -> str:
    """The `#:` lines right above line `index` (0-based), joined."""
    found: list[str] = []
    i = index - 1
    while i >= 0 and lines[i].strip().startswith("#:"):
        found.insert(0, lines[i].strip()[2:].strip())
        i -= 1
    return " ".join(found)


def _trailing(lines: list[str], node: ast.stmt) -> str:
    end = (node.end_lineno or node.lineno) - 1
    line = lines[end]
    code_end = node.end_col_offset or 0
    rest = line[code_end:].strip()
    if rest.startswith("#") and not rest.startswith("# noqa") and not rest.startswith("# type:"):
        return rest[1:].strip()
    return ""
