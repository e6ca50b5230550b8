"""What every format shares: the record safety check, line decoding and the list form.

One check (`record_problem`) is used by every format, so a NUL byte, a non-finite number
or a pathological nesting depth is refused the same way whatever the file type.
"""

from __future__ import annotations

import codecs
import io
import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO

from connectors.base import REFUSED_KEY, BadRecord
from connectors.errors import FormatError

#: records nested deeper than this are refused (a legitimate order is a few levels deep)
MAX_DEPTH = 200
DEFAULT_ENCODING = "utf-8-sig"


def record_problem(record: Any) -> str | None:
    """Why `record` must not be loaded, or None. Converts JSON Decimals to floats in place.

    Iterative (never a RecursionError) and written for speed: it visits every value of
    every record. NUL bytes are refused in keys and values because PostgreSQL text cannot
    hold them and SQLite would store them silently; NaN/Infinity because they are not JSON
    and no downstream number means them. A record its transport refused (`REFUSED_KEY`,
    e.g. a REST sub-resource that was gone) is refused with the transport's reason.
    """
    if type(record) is dict and REFUSED_KEY in record:
        return str(record[REFUSED_KEY])
    stack: list[tuple[Any, int]] = [(record, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if type(node) is dict:
            if "\x00" in "".join(k for k in node if type(k) is str):
                key = next(k for k in node if type(k) is str and "\x00" in k)
                return f"NUL byte (\\x00) in key {key!r}"
            pairs: Any = node.items()
        elif type(node) is list:
            pairs = enumerate(node)
        else:
            return _scalar_problem(None, None, node)
        for key, value in pairs:
            kind = type(value)
            if kind is str:
                if "\x00" in value:
                    return f"NUL byte (\\x00) in value of {key!r}"
            elif kind is dict or kind is list:
                stack.append((value, depth + 1))
            elif kind is Decimal or kind is float:
                problem = _scalar_problem(node, key, value)
                if problem:
                    return problem
    return None


def _scalar_problem(parent: Any, key: Any, value: Any) -> str | None:
    if isinstance(value, str):
        return "NUL byte (\\x00)" if "\x00" in value else None
    if isinstance(value, Decimal):  # ijson's numbers: floats, as json.loads gives them
        value = float(value)
        if parent is not None:
            parent[key] = value
    if isinstance(value, float) and not math.isfinite(value):
        return f"number out of range or not finite ({value}) in {key!r}"
    return None


def refuse_constant(constant: str) -> Any:
    """`parse_constant` for json.loads: NaN, Infinity and -Infinity are not JSON."""
    raise NonFiniteError(constant)


class NonFiniteError(ValueError):
    def __init__(self, constant: str) -> None:
        super().__init__(f"{constant} is not valid JSON")


def is_ascii_compatible(encoding: str) -> bool:
    """Whether a line can be split on b'\\n' before decoding (not UTF-16/32)."""
    name = codecs.lookup(encoding).name
    return not name.startswith(("utf-16", "utf-32"))


def decoded_lines(
    stream: BinaryIO, encoding: str, name: str, bad_lines: bool = False
) -> Iterator[tuple[int, str | BadRecord]]:
    """(1-based line number, text with its line end) from a binary stream, one line at a time.

    Each line is decoded strictly on its own, so an invalid byte names its line: a
    FormatError, or with `bad_lines` a BadRecord for that line (line-per-record formats).
    """
    if not is_ascii_compatible(encoding):
        text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="")
        n = 0
        try:
            for n, line in enumerate(text, 1):
                yield n, line
        except UnicodeDecodeError as e:
            raise FormatError(f"not {encoding}: {e.reason}", name=name, line=n + 1) from e
        finally:
            text.detach()
        return
    rest = "utf-8" if codecs.lookup(encoding).name == "utf-8-sig" else encoding
    for n, raw in enumerate(stream, 1):
        try:
            yield n, raw.decode(encoding if n == 1 else rest)  # a BOM only on line 1
        except UnicodeDecodeError as e:
            reason = decode_error_reason(e, rest)
            if not bad_lines:
                raise FormatError(reason, name=name, line=n) from e
            shown = raw.decode(rest, errors="backslashreplace").rstrip("\r\n")
            yield n, BadRecord(raw=shown, line=n, reason=reason)


def decode_error_reason(e: UnicodeDecodeError, encoding: str) -> str:
    """The reason for a line that is not valid `encoding` (one wording for every reader)."""
    return f"not {encoding}: {e.reason} at byte {e.start + 1} of the line"


def checked(record: Any, line: int | None, index: int | None, raw: Any = None) -> Any:
    """The record itself, or a BadRecord when `record_problem` refuses it."""
    if isinstance(record, Decimal):  # a bare number as the record (rare, but as json.loads)
        record = float(record)
    problem = record_problem(record)
    if problem is None:
        return record
    if raw is None and problem.startswith("nested deeper"):  # too deep to copy safely
        raw = f"<{problem}: see the landed file>"
    kept = _printable(record if raw is None else raw)
    return BadRecord(raw=kept, line=line, reason=problem, index=index)


def _printable(raw: Any) -> Any:
    """Raw values for quarantine: JSON-serialisable (Decimals already floats; NaN as text)."""
    if isinstance(raw, float) and not math.isfinite(raw):
        return str(raw)
    if isinstance(raw, Decimal):
        return str(raw)
    if isinstance(raw, dict):
        return {str(k): _printable(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_printable(v) for v in raw]
    return raw


def seekable(stream: BinaryIO) -> BinaryIO:
    """The stream itself, or a spooled copy (for formats that look ahead)."""
    if getattr(stream, "seekable", lambda: False)():
        return stream
    copy = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    shutil.copyfileobj(stream, copy)
    copy.seek(0)
    return copy  # type: ignore[return-value]


def read_all(
    records: Callable[[BinaryIO, dict[str, Any], str], Iterator[Any]],
    content: bytes,
    options: dict[str, Any],
    name: str,
) -> list[Any]:
    """The list form of a format: every record, FormatError on the first bad one."""
    out: list[Any] = []
    for rec in records(io.BytesIO(content), options, name):
        if isinstance(rec, BadRecord):
            raise FormatError(
                rec.reason,
                name=name,
                line=rec.line,
                record=None if rec.index is None else rec.index + 1,
            )
        out.append(rec)
    return out
