"""Look-ups: a field's value translated through a table built when the batch runs.

A code list (`code:`) is a table written by hand; a look-up is the same join over data
the hub already has:

- `lookup: {stream: catalog, key: id, value: item_variation_data.sku}`: the records of
  another stream of the same source (its latest landed batch), indexed by `key`;
- `lookup: {binding: product_alias, value: sku}`: the store, through the bindings the
  source's earlier loads wrote: the system's external id -> that canonical row's column.

The mapping is compiled once, but the tables belong to one run, so the caller of
`apply`/`apply_table` provides them with `use_lookups(...)` (omshub.lookups builds them
from the landing zone and the store, or from samples for `omshub mapping test`). A key
that is not in the table rejects the record with a reason naming the look-up, unless the
field has a `default:`, which is then used (never a silent null).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from transforms.codes import CodeList
from transforms.paths import compile_path


class LookupSpec(BaseModel):
    """Where a field's value is looked up: another stream, or the store's bindings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    stream: str | None = Field(
        None, description="another stream of the same source: its latest landed records"
    )
    path: str | None = Field(
        None, description="stream: the array of each record to index (e.g. item_data.variations)"
    )
    key: str | None = Field(None, description="stream: path of the key in a looked-up record")
    value: str | None = Field(
        None,
        description="stream: path of the value in a looked-up record; binding: the column"
        " of the canonical row (default: its one natural-key column)",
    )
    binding: str | None = Field(
        None, description="canonical entity whose bindings translate the external id"
    )
    system: str | None = Field(
        None, description="binding: the system of the external ids (default: the source's)"
    )
    sample: str | None = Field(
        None,
        description="for `omshub mapping test`: a file (relative to the mapping) standing in"
        " for the stream's records, or a JSON object {external id: value} for a binding",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> LookupSpec:
        if (self.stream is None) == (self.binding is None):
            raise ValueError("a lookup names exactly one of `stream` or `binding`")
        if self.stream is not None and (self.key is None or self.value is None):
            raise ValueError("a stream lookup needs `key` and `value` (paths in its records)")
        if self.stream is None and (self.path or self.key):
            raise ValueError("`path` and `key` belong to a stream lookup")
        return self

    @property
    def label(self) -> str:
        if self.stream is not None:
            return f"stream {self.stream}"
        return f"binding {self.binding}"


class LookupTable(CodeList):
    """A table of one look-up: a code list whose miss names the look-up."""

    def lookup(self, value: Any) -> Any:
        key = str(value).strip()
        if key in self.codes:
            return self.codes[key]
        raise ValueError(f"lookup {self.name}: no entry for {value!r} ({self.file})")


def table_from_records(spec: LookupSpec, records: Iterable[Any], where: str) -> LookupTable:
    """Index the records of a stream by `key` (each item of `path`, when given); the
    first record holding a key wins, as the latest landed batch is read in order."""
    assert spec.key is not None and spec.value is not None
    explode = compile_path(spec.path) if spec.path else None
    key_of, value_of = compile_path(spec.key), compile_path(spec.value)
    codes: dict[str, Any] = {}
    for rec in records:
        items = _items(explode(rec, ()) if explode else rec)
        for item in items:
            k = key_of(item, (rec,))
            if k is None or k == "":
                continue
            codes.setdefault(str(k).strip(), value_of(item, (rec,)))
    return LookupTable(spec.label, codes, False, where)


def _items(value: Any) -> Iterator[Any]:
    if value is None:
        return iter(())
    return iter(value if isinstance(value, list) else [value])


class Lookups:
    """The tables of one run, built on first use by `build(spec)` (once per spec)."""

    def __init__(self, build: Callable[[LookupSpec], LookupTable]) -> None:
        self._build = build
        self._tables: dict[LookupSpec, LookupTable] = {}

    def table(self, spec: LookupSpec) -> LookupTable:
        found = self._tables.get(spec)
        if found is None:
            found = self._tables[spec] = self._build(spec)
        return found


_CURRENT: ContextVar[Lookups | None] = ContextVar("omshub_lookups", default=None)


@contextmanager
def use_lookups(lookups: Lookups | None) -> Iterator[None]:
    """The look-up tables `apply`/`apply_table` read while the block runs."""
    token = _CURRENT.set(lookups)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_table(spec: LookupSpec) -> LookupTable:
    lookups = _CURRENT.get()
    if lookups is None:
        raise ValueError(
            f"lookup {spec.label}: no look-up tables here (the mapping runs through a"
            " source, or `omshub mapping test` with the lookup's `sample:`)"
        )
    return lookups.table(spec)


@dataclass(frozen=True)
class LookupStep:
    """The step of a field with `lookup:`: miss = reason, or None when a default follows."""

    spec: LookupSpec
    lenient: bool  # the field has a `default:` (it fills a miss)

    def __call__(self, value: Any) -> Any:
        table = current_table(self.spec)
        try:
            return table.lookup(value)
        except ValueError:
            if self.lenient:
                return None
            raise


def lookup_vector(step: LookupStep) -> Callable[[Any], Any]:
    """The Arrow form: the run's table joined as a code list (misses go per value)."""
    from transforms.columnar.values import NotVectorised
    from transforms.columnar.vcasts import code_vector

    def run(arr: Any) -> Any:
        try:
            table = current_table(step.spec)
        except ValueError:
            raise NotVectorised from None  # per value: each row gets the reason
        return code_vector(table)(arr)

    return run


def field_lookups(spec: Any) -> Iterator[LookupSpec]:
    """Every look-up of a mapping (an `EntityMapping`), children included."""
    for f in spec.fields.values():
        lk = getattr(f, "lookup", None)
        if lk is not None:
            yield lk
    for child in spec.children:
        yield from field_lookups(child)
