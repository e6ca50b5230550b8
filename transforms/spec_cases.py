"""The `tests:` key of a mapping file: dbt-style cases, run by `omshub mapping test`.

A case gives a few input records inline and says what they must become: rows of an
entity (only the fields it names are compared) and the reasons records are rejected.
It pins one behaviour of a mapping (a status code, a bad value's quarantine) where a
reader sees it, next to the field it tests, without a sample file or a golden.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ExpectedReason(BaseModel):
    """A rejection the case expects; every key given must match one actual reason."""

    model_config = ConfigDict(extra="forbid")
    record: int | None = Field(None, description="position of the record in `given` (from 0)")
    entity: str | None = Field(None, description="canonical entity of the rejected value")
    field: str | None = Field(None, description="canonical field of the rejected value")
    message: str | None = Field(None, description="text the reason's message contains")


class MappingCase(BaseModel):
    """Given records (or the text of a sample), the rows and rejections they give."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="what the case shows, e.g. 'a refunded order is cancelled'")
    given: list[Any] | None = Field(
        None, description="input records as the stream's reader gives them (JSON objects)"
    )
    input: str | None = Field(
        None, description="input as text in the mapping's format (CSV with its header, XML)"
    )
    expect: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict,
        description="entity -> all its rows, in order; only the fields named are compared",
    )
    rejected: list[ExpectedReason] = Field(
        default_factory=list,
        description="the rejections expected; any other rejection fails the case",
    )

    @model_validator(mode="after")
    def _one_input(self) -> MappingCase:
        if (self.given is None) == (self.input is None):
            raise ValueError("give exactly one of given (records) or input (text)")
        return self
