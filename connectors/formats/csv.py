"""Delimited text. Every value stays text: typing is the mapping's job, not the reader's."""

from __future__ import annotations

import csv
import io
from typing import Any, ClassVar

from connectors.errors import FormatError


class CsvFormat:
    kind: ClassVar[str] = "csv"

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        try:
            text = content.decode(options.get("encoding", "utf-8-sig"))
        except UnicodeDecodeError as e:
            raise FormatError(
                f"not {options.get('encoding', 'utf-8')}: {e.reason}", name=name
            ) from e
        reader = csv.DictReader(
            io.StringIO(text, newline=""),
            delimiter=options.get("delimiter", ","),
            quotechar=options.get("quotechar", '"'),
        )
        if not reader.fieldnames:
            raise FormatError("no header row", name=name, line=1)
        width = len(reader.fieldnames)
        rows = []
        for row in reader:
            if None in row:  # more cells than headers
                raise FormatError(
                    f"{width + len(row[None])} cells for {width} columns",
                    name=name,
                    line=reader.line_num,
                )
            rows.append({k: (v if v != "" else None) for k, v in row.items()})
        return rows
