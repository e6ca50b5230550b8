"""NDJSON lines skip the per-value record check only when their text rules out every
problem it finds; the result is always what json.loads plus the full check give."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.base import BadRecord
from connectors.formats.common import MAX_DEPTH, NonFiniteError, checked, refuse_constant
from connectors.formats.json import NdjsonFormat, _LineDecoder


def reference(raw: str) -> Any:
    try:
        value = json.loads(raw, parse_constant=refuse_constant)
    except NonFiniteError as e:
        return ("bad", str(e))
    except json.JSONDecodeError as e:
        return ("bad", f"invalid JSON: {e.msg}")
    except RecursionError:
        return ("bad", "JSON nested too deeply")
    result = checked(value, 1, 0, raw)
    return ("bad", result.reason) if isinstance(result, BadRecord) else result


LINES = [
    '{"a": 1, "b": "x", "c": [1, 2.5, {"d": null}], "e": true}',
    '{"a": 1e999}',  # overflows to inf: refused
    '{"a": -1E400}',
    '{"a": 1e5, "b": "SKU-1e5"}',  # an exponent that is fine: checked the full way
    '{"a": "' + "9" * 400 + '"}',
    '{"a": ' + "9" * 400 + ".5}",  # 400 digits as a float: inf
    '{"a": ' + "9" * 400 + "}",  # an int: fine
    '{"a": "nul \\u0000 here"}',
    '{"k\\u0000": 1}',
    '{"a": "\\\\u0000 is text"}',  # an escaped backslash, then text: fine
    "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5),
    "[" * MAX_DEPTH + "]" * MAX_DEPTH,
    '{"a": "[[[[{{{{"}',
    "\ufeff{}",  # json.loads names the BOM
    '{"a": NaN}',
    '{"a": 1,}',
    '"just text"',
    "12.5",
    "1e999",
]


@pytest.mark.parametrize("raw", LINES, ids=range(len(LINES)))
def test_a_line_reads_as_json_loads_and_the_full_check(raw: str) -> None:
    got = NdjsonFormat._parse(raw + "\n", 1, 0, _LineDecoder())
    if isinstance(got, BadRecord):
        got = ("bad", got.reason)
    assert got == reference(raw)


def test_suspicious_text_takes_the_full_check() -> None:
    decoder = _LineDecoder()
    for raw, safe in [
        ('{"a": "x", "b": [1, 2.5e3]}', True),  # an exponent is fine unless it overflows
        ('{"a": 1e999}', False),
        ('{"a": "\\u0000"}', False),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), False),
    ]:
        decoder.decode(raw)
        assert decoder.surely_safe(raw) is safe, raw
    decoder.decode('{"a": 1}')  # the overflow note is per line
    assert decoder.surely_safe('{"a": 1}')
