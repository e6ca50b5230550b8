"""JSON documents (records under a path) and NDJSON (one record per line)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from connectors.errors import FormatError


def _records_at(doc: Any, path: str | None, name: str) -> list[Any]:
    node = doc
    for part in (path or "").split("."):
        if not part:
            continue
        if not isinstance(node, dict) or part not in node:
            raise FormatError(f"records_path {path!r}: key {part!r} not found", name=name)
        node = node[part]
    if isinstance(node, dict):
        return [node]  # a single-object response (GET /orders/1)
    if not isinstance(node, list):
        raise FormatError(f"records_path {path!r} is not a list or object", name=name)
    return node


class JsonFormat:
    kind: ClassVar[str] = "json"

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        try:
            doc = json.loads(content.decode(options.get("encoding", "utf-8-sig")))
        except UnicodeDecodeError as e:
            raise FormatError(
                f"not {options.get('encoding', 'utf-8')}: {e.reason}", name=name
            ) from e
        except json.JSONDecodeError as e:
            raise FormatError(
                f"invalid JSON: {e.msg} (column {e.colno})", name=name, line=e.lineno
            ) from e
        return _records_at(doc, options.get("records_path"), name)


class NdjsonFormat:
    kind: ClassVar[str] = "ndjson"

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        out = []
        for n, line in enumerate(
            content.decode(options.get("encoding", "utf-8-sig")).splitlines(), 1
        ):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise FormatError(f"invalid JSON: {e.msg}", name=name, line=n) from e
        return out
