"""X12 transaction set schemas as data: segments, loops, elements, and partner overlays.

A schema is a YAML file per set and version family (`schemas/850.004010.yaml`), written
from the X12 structure: the body as an ordered list of segment uses and loops (each with
its requirement and maximum use) and, per segment tag, its elements (requirement, type,
length, a small code list where it matters). Segment definitions shared by many sets
(N1, N3, N4, REF, DTM, ...) live once in `schemas/_segments.yaml`; a set file may
override them. A partner overlay tightens or loosens one set for one trading partner
without copying it (see `Overlay`).

Everything is loaded with a safe YAML loader and checked by pydantic, so a wrong schema
fails at load time naming its file and key, never in the middle of a validation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.errors import ConnectorConfigError

SCHEMA_DIR = Path(__file__).with_name("schemas")
COMMON_FILE = "_segments.yaml"

Requirement = Literal["M", "O", "X"]  # X: conditional (relational): checked as optional
ElementType = Literal["AN", "ID", "DT", "TM", "N", "N0", "N1", "N2", "N3", "N4", "R", "C"]


class X12SchemaError(ConnectorConfigError):
    """A schema or overlay file is wrong or missing; the message names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _max_use(value: Any) -> int | None:
    """`>1` (X12's "any number") is None; otherwise a positive integer."""
    if value is None or value == ">1":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"max must be a positive integer or '>1', not {value!r}")


def _parse_compact(text: str) -> dict[str, Any]:
    parts = text.split()
    if len(parts) < 3 or "/" not in parts[2]:
        raise ValueError(f"element {text!r}: expected 'REQ TYPE MIN/MAX [REF] [name]'")
    low, high = parts[2].split("/", 1)
    out: dict[str, Any] = {"req": parts[0], "type": parts[1], "min": low, "max": high}
    rest = parts[3:]
    if rest and rest[0].isdigit():
        out["ref"] = int(rest.pop(0))
    if rest:
        out["name"] = " ".join(rest)
    return out


MaxUse = Annotated[int | None, BeforeValidator(_max_use)]


class ElementSpec(_Strict):
    """One data element of a segment, at its position (index + 1 in `elements`)."""

    ref: int | None = None  # data element reference number (AK402), e.g. 324
    name: str = ""
    req: Requirement = "O"
    type: ElementType = "AN"
    min: int = Field(default=1, ge=0)
    max: int = Field(default=80, ge=1)
    codes: tuple[str, ...] | None = None  # allowed values (ID elements), None = any

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data: Any) -> Any:
        """`"M ID 2/2 353 Purpose"` (req, type, min/max, ref, name) stands for the dict;
        `{e: "M ID 2/2 353", codes: [...]}` adds keys to it."""
        if isinstance(data, str):
            return _parse_compact(data)
        if isinstance(data, dict) and "e" in data:
            rest = {k: v for k, v in data.items() if k != "e"}
            return {**_parse_compact(str(data["e"])), **rest}
        return data


class SegmentSpec(_Strict):
    """A segment's definition: its elements in position order (None = not used)."""

    name: str = ""
    elements: tuple[ElementSpec | None, ...] = ()
    #: position of the first qualifier of repeated (qualifier, product id) pairs, as in
    #: PO106/PO107, LIN02/LIN03: the format lists them as `ids` ({'VN': 'SKU-1', ...})
    pairs: int | None = Field(default=None, ge=1)


class SegmentUse(_Strict):
    """A segment at one place of the body, with its requirement and maximum use."""

    seg: str
    req: Requirement = "O"
    max: MaxUse = 1  # None: unbounded ('>1')


class LoopSpec(_Strict):
    """A loop: its id (AK303), requirement, maximum repeats and body.

    The first entry of `body` is the loop's trigger segment: a loop starts each time it is
    seen where the loop can be.
    """

    loop: str
    req: Requirement = "O"
    max: MaxUse = 1
    body: tuple[BodyEntry, ...]

    @field_validator("body")
    @classmethod
    def _starts_with_segment(cls, body: tuple[Any, ...]) -> tuple[Any, ...]:
        if not body or not isinstance(body[0], SegmentUse):
            raise ValueError("a loop's body must start with its trigger segment")
        return body

    @property
    def trigger(self) -> str:
        first = self.body[0]
        assert isinstance(first, SegmentUse)
        return first.seg


Entry = SegmentUse | LoopSpec


def _entry_kind(value: Any) -> str:
    """A body entry is a loop when it has `loop:`, else a segment use (one clear error)."""
    if isinstance(value, dict):
        return "loop" if "loop" in value else "seg"
    return "loop" if isinstance(value, LoopSpec) else "seg"


BodyEntry = Annotated[
    Annotated[SegmentUse, Tag("seg")] | Annotated[LoopSpec, Tag("loop")],
    Discriminator(_entry_kind),
]
LoopSpec.model_rebuild()


class Schema(_Strict):
    """One transaction set in one version family (`set_id` 850, `version` 004010)."""

    set_id: str = Field(alias="set")
    version: str
    name: str = ""
    functional_group: str = ""  # GS01, e.g. 'PO'
    body: tuple[BodyEntry, ...]
    segments: dict[str, SegmentSpec] = Field(default_factory=dict)
    #: a partner's presence requirements, set by `apply_overlay` (see `Overlay.required`)
    required: tuple[str, ...] = ()
    file: str = ""

    def segment(self, tag: str) -> SegmentSpec | None:
        return self.segments.get(tag)

    def loop(self, path: str) -> LoopSpec | None:
        """The loop at `path` ('PO1' or 'HL/N1' style), None when there is none."""
        entries: tuple[Entry, ...] = self.body
        found: LoopSpec | None = None
        for step in path.split("/"):
            found = next((e for e in entries if isinstance(e, LoopSpec) and e.loop == step), None)
            if found is None:
                return None
            entries = found.body
        return found


class ElementChange(_Strict):
    """What an overlay changes in one element (only the keys it gives)."""

    req: Requirement | None = None
    min: int | None = None
    max: int | None = None
    codes: tuple[str, ...] | None = None


class UsageChange(_Strict):
    """What an overlay changes in one segment use or loop, found by its path ('PO1/PID')."""

    at: str
    req: Requirement | None = None
    max: MaxUse = None


REQUIREMENT = r"^[A-Z][A-Z0-9]{1,2}(\*[A-Z0-9]{1,3}|[0-9]{2})?$"


class Overlay(_Strict):
    """A trading partner's changes to one set: element rules by reference designator
    (`BEG02: {codes: [SA]}`) and segment/loop use by path (`{at: N1, req: M}`)."""

    set_id: str = Field(alias="set")
    partner: str = ""
    elements: dict[str, ElementChange] = Field(default_factory=dict)
    usage: tuple[UsageChange, ...] = ()
    #: what must be in every set, as a partner configuration's `required:` says it: a
    #: segment (`TD5`), a segment with a qualifier in its first element (`REF*IA`), or an
    #: element (`ST03`, `BEG07`: present whenever its segment is)
    required: tuple[Annotated[str, Field(pattern=REQUIREMENT)], ...] = ()


def _read(path: Path) -> Any:
    from transforms.yamlsrc import safe_load

    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise X12SchemaError(f"{path}: cannot read: {e.strerror}") from e
    except Exception as e:  # a YAML syntax error: name the file, never a traceback
        raise X12SchemaError(f"{path}: invalid YAML: {e}") from e


def _validated(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(map(str, err["loc"]))
        raise X12SchemaError(f"{path}: {where}: {err['msg']}") from None


@cache
def _common(directory: Path) -> dict[str, SegmentSpec]:
    path = directory / COMMON_FILE
    if not path.exists():
        return {}
    data = _read(path) or {}
    return {
        tag: _validated(SegmentSpec, spec, path)
        for tag, spec in (data.get("segments") or {}).items()
    }


def load_schema_file(path: Path) -> Schema:
    """A schema file, with the shared segment definitions filled in under its own."""
    data = _read(path)
    if not isinstance(data, dict):
        raise X12SchemaError(f"{path}: a schema is a mapping with `set`, `version`, `body`")
    schema: Schema = _validated(Schema, {**data, "file": str(path)}, path)
    merged = {**_common(path.parent), **schema.segments}
    return schema.model_copy(update={"segments": merged})


def version_family(version: str) -> str:
    """GS08 to its family: '004010VICS' and '004010X357' -> '004010'."""
    return version[:6]


@cache
def _index(directory: Path) -> dict[tuple[str, str], Path]:
    found: dict[tuple[str, str], Path] = {}
    for path in directory.glob("*.yaml"):
        parts = path.stem.split(".")
        if len(parts) == 2 and not path.name.startswith("_"):
            found[(parts[0], parts[1])] = path
    return found


def find_schema(set_id: str, version: str, directory: Path = SCHEMA_DIR) -> Schema | None:
    """The schema for `set_id` in `version`'s family; else the newest older family (a
    004030 set read with the 004010 schema); else, for a version that is newer or not a
    version at all, the newest family there is. None when the set has no schema at all.
    The schema's `version` says which one was used."""
    index = _index(directory)
    family = version_family(version)
    path = index.get((set_id, family))
    if path is None:
        families = sorted(v for s, v in index if s == set_id)
        if not families:
            return None
        older = [v for v in families if v <= family]
        path = index[(set_id, (older or families)[-1])]
    return _load_cached(path)


@cache
def _load_cached(path: Path) -> Schema:
    return load_schema_file(path)


def load_schema(set_id: str, version: str, directory: Path = SCHEMA_DIR) -> Schema:
    """Like `find_schema`, but a missing schema is an `X12SchemaError`."""
    schema = find_schema(set_id, version, directory)
    if schema is None:
        raise X12SchemaError(f"no X12 schema for set {set_id} version {version} in {directory}")
    return schema


def available(directory: Path = SCHEMA_DIR) -> list[tuple[str, str]]:
    """Every (set, version family) with a schema file."""
    return sorted(_index(directory))


def load_overlay(path: Path) -> Overlay:
    """A partner overlay file (safe YAML, checked)."""
    data = _read(path)
    if not isinstance(data, dict):
        raise X12SchemaError(f"{path}: an overlay is a mapping with `set` and changes")
    overlay: Overlay = _validated(Overlay, data, path)
    return overlay


def apply_overlay(schema: Schema, overlay: Overlay) -> Schema:
    """A new schema with the overlay's changes; an unknown element or path is an error."""
    if overlay.set_id != schema.set_id:
        raise X12SchemaError(
            f"overlay for set {overlay.set_id} applied to a {schema.set_id} schema"
        )
    segments = dict(schema.segments)
    for designator, change in overlay.elements.items():
        tag, pos = _split_designator(designator)
        spec = segments.get(tag)
        if spec is None or pos > len(spec.elements) or spec.elements[pos - 1] is None:
            raise X12SchemaError(f"overlay {overlay.partner}: unknown element {designator}")
        elements = list(spec.elements)
        old = elements[pos - 1]
        assert old is not None
        update = {k: v for k, v in change.model_dump().items() if v is not None}
        elements[pos - 1] = old.model_copy(update=update)
        segments[tag] = spec.model_copy(update={"elements": tuple(elements)})
    body = schema.body
    for usage in overlay.usage:
        body = _change_use(body, usage.at.split("/"), usage, overlay.partner)
    required = (*schema.required, *(r for r in overlay.required if r not in schema.required))
    return schema.model_copy(update={"segments": segments, "body": body, "required": required})


def overlay_from_required(set_id: str, required: list[str], partner: str = "") -> Overlay:
    """The overlay of a partner configuration's `required:` list for one set."""
    return Overlay.model_validate({"set": set_id, "partner": partner, "required": required})


def _split_designator(designator: str) -> tuple[str, int]:
    """'BEG02' -> ('BEG', 2); 'N101' -> ('N1', 1): the position is the last two digits."""
    if len(designator) < 4 or not designator[-2:].isdigit():
        raise X12SchemaError(f"bad element reference {designator!r} (expected e.g. BEG02)")
    return designator[:-2], int(designator[-2:])


def _change_use(
    body: tuple[Entry, ...], steps: list[str], usage: UsageChange, partner: str
) -> tuple[Entry, ...]:
    head, rest = steps[0], steps[1:]
    out: list[Entry] = []
    hit = False
    for entry in body:
        if isinstance(entry, LoopSpec) and entry.loop == head and rest:
            entry = entry.model_copy(update={"body": _change_use(entry.body, rest, usage, partner)})
            hit = True
        elif not rest and (
            (isinstance(entry, LoopSpec) and entry.loop == head)
            or (isinstance(entry, SegmentUse) and entry.seg == head)
        ):
            update: dict[str, Any] = {"req": usage.req} if usage.req else {}
            if "max" in usage.model_fields_set:
                update["max"] = usage.max
            entry = entry.model_copy(update=update)
            hit = True
        out.append(entry)
    if not hit:
        raise X12SchemaError(f"overlay {partner}: no segment or loop at {usage.at!r}")
    return tuple(out)
