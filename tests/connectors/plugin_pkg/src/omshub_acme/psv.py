"""A format plugin: Acme's pipe-separated exports (a header line, then one record a line)."""

from __future__ import annotations

from typing import Any, BinaryIO, ClassVar


class PipeFormat:
    kind: ClassVar[str] = "acme_psv"

    def records(self, stream: BinaryIO, options: dict[str, Any], name: str = "") -> Any:
        lines = stream.read().decode(options.get("encoding", "utf-8")).splitlines()
        header = lines[0].split("|") if lines else []
        for line in lines[1:]:
            yield dict(zip(header, line.split("|"), strict=False))

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        import io

        return list(self.records(io.BytesIO(content), options, name))
