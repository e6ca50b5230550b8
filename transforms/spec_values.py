"""The value half of mapping language v2, as pydantic models (part of the JSON Schema).

Conditionals (`when:`, `match:`), coalesce chains (in `spec.FieldSpec`, which nests
itself), named date formats declared once per file (`formats:`) and `pick:` for a value
that is a list. Kept apart from `transforms/spec.py` so the file format stays readable.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scalar = str | int | float | bool | None
Pick = Literal["max", "min", "first", "last"]


class MatchCase(BaseModel):
    """One case of a `match:`: a condition on the record and the value it gives."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    when: str | None = Field(
        None, description='expression over the record, e.g. "cancelled_at != None"'
    )
    is_: Scalar | list[Scalar] = Field(
        None,
        alias="is",
        description="with `value:`: the case holds when the value equals this (or one of a list)",
    )
    then: Any = Field(description="the value of the field when this case holds first")

    @model_validator(mode="after")
    def _one_test(self) -> MatchCase:
        given = [k for k in ("when", "is_") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("a case gives exactly one of `when` or `is`")
        return self


class MatchSpec(BaseModel):
    """Cases tried in order; the first that holds gives the value, else `default`."""

    model_config = ConfigDict(extra="forbid")
    value: str | None = Field(
        None, description="expression whose value the `is:` cases compare, e.g. status"
    )
    cases: list[MatchCase] = Field(min_length=1, description="tried in order")
    default: Any = Field(None, description="the value when no case holds (default null)")

    @model_validator(mode="after")
    def _is_needs_on(self) -> MatchSpec:
        if self.value is None and any("is_" in c.model_fields_set for c in self.cases):
            raise ValueError("`is:` cases compare the result of `value:`; give `value:`")
        return self

    def conditions(self) -> list[tuple[str, Any]]:
        """Every case as (expression, result): `is:` becomes `(value) == literal`."""
        out = []
        for c in self.cases:
            if c.when is not None:
                out.append((c.when, c.then))
                continue
            options = c.is_ if isinstance(c.is_, list) else [c.is_]
            test = " or ".join(f"({self.value}) == {_literal(v)}" for v in options)
            out.append((test or "False", c.then))
        return out


def _literal(value: Scalar) -> str:
    """A YAML scalar as expression text (repr of str, int, bool and None parses back)."""
    if isinstance(value, float):
        return repr(str(value))[1:-1]  # a decimal literal: 2.5
    return repr(value)


class NamedFormat(BaseModel):
    """A date format declared once per file (`formats:`) and used as `format: <name>`."""

    model_config = ConfigDict(extra="forbid")
    format: str = Field(
        description="a built-in (rfc2822, iso8601, epoch_s, epoch_ms, sap_dats, "
        "excel_serial) or a strptime pattern such as %d.%m.%Y %H:%M"
    )
    tz: str | None = Field(
        None, description="IANA zone of naive times in this format (a field's `tz:` wins)"
    )
