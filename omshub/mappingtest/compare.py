"""The difference between a golden output and today's, field by field.

Rows are matched by entity and external id (the binding key, the natural key by
default), not by their position in a JSON array: a row that moved is not a difference,
and a changed value is shown as one line `entity | external id | field | golden | actual`
instead of a text diff of the whole file. Rejected records are matched by their position
in the sample, reason by reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

MISSING = "(no row)"


@dataclass(frozen=True)
class Difference:
    """One field that differs (`field` "*" with `MISSING`: a whole row is new or gone)."""

    entity: str
    key: str
    field: str
    golden: Any
    actual: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _keyed(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows by external id; a repeated id gets `#2`, `#3` in the order of the sample."""
    seen: Counter[str] = Counter()
    out = {}
    for row in rows:
        key = str(row.get("_external_id"))
        seen[key] += 1
        out[key if seen[key] == 1 else f"{key} #{seen[key]}"] = row
    return out


def _rows(entity: str, want: list[Any], got: list[Any]) -> list[Difference]:
    old, new = _keyed(want), _keyed(got)
    out = []
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            golden, actual = ("row", MISSING) if b is None else (MISSING, "row")
            out.append(Difference(entity, key, "*", golden, actual))
            continue
        for field in [*a, *(f for f in b if f not in a)]:
            if a.get(field) != b.get(field):
                out.append(Difference(entity, key, field, a.get(field), b.get(field)))
    return out


def _reasons(want: list[Any], got: list[Any]) -> list[Difference]:
    """Per rejected record, reasons paired by field and rule: a changed message is one
    difference, a reason that came or went is one with a null on its other side."""
    old = {r["record"]: r["reasons"] for r in want}
    new = {r["record"]: r["reasons"] for r in got}
    out = []
    for record in sorted({*old, *new}):
        a = [r for r in old.get(record, []) if r not in new.get(record, [])]
        b = [r for r in new.get(record, []) if r not in old.get(record, [])]
        key = f"record {record}"
        for reason in a:
            pair = next(
                (r for r in b if (r["field"], r["rule"]) == (reason["field"], reason["rule"])), None
            )
            if pair is not None:
                b.remove(pair)
            actual = None if pair is None else pair["message"]
            out.append(Difference("rejected", key, reason["field"], reason["message"], actual))
        out += [Difference("rejected", key, r["field"], None, r["message"]) for r in b]
    return out


def differences(golden: dict[str, Any], actual: dict[str, Any]) -> list[Difference]:
    """Every field-level difference between two outputs (empty: they agree)."""
    want, got = golden.get("entities", {}), actual.get("entities", {})
    out = []
    for entity in [*want, *(e for e in got if e not in want)]:
        out += _rows(entity, want.get(entity, []), got.get(entity, []))
    return out + _reasons(golden.get("rejected", []), actual.get("rejected", []))
