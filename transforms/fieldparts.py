"""Pieces of a field's compilation that do not need the compiler's context.

The compiler (`transforms/compiler.py`) wraps each in its error handling (file, line,
field); kept apart so the compiler stays one readable module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from transforms.conditionals import match_getter
from transforms.dates import resolve
from transforms.expr import compile_expr
from transforms.paths import compile_path
from transforms.spec import FieldSpec, as_field
from transforms.spec_values import NamedFormat

if TYPE_CHECKING:
    from transforms.compiler import CompiledField

Getter = Callable[[Any, Sequence[Any]], Any]


def source_getter(spec: FieldSpec) -> Getter | None:
    """The per-record reader of a field's source (None: parent, index, coalesce).

    Raises `PathSyntaxError` / `ExprError` for a bad path, expression or condition."""
    if spec.path is not None:
        return compile_path(spec.path)
    if spec.expr is not None:
        return compile_expr(spec.expr)
    if spec.match is not None:
        return match_getter(spec.match)
    if "const" in spec.model_fields_set:
        const = spec.const

        def getter(r: Any, p: Sequence[Any], c: Any = const) -> Any:
            return c

        return getter
    return None


def with_format(spec: FieldSpec, declared: Mapping[str, NamedFormat | str]) -> FieldSpec:
    """The spec with a `formats:` name replaced by the format (and zone) it declares
    (raises `ValueError` for an unknown name)."""
    fmt, tz = resolve(spec.format, spec.tz, declared)
    if (fmt, tz) == (spec.format, spec.tz):
        return spec
    return spec.model_copy(update={"format": fmt, "tz": tz})


def alternative_specs(spec: FieldSpec, typed: str | None) -> list[FieldSpec]:
    """`coalesce:` alternatives; one with a `format:` is converted to the field's type."""
    out = []
    for raw in spec.coalesce or []:
        alt = as_field(raw)
        alt_type = alt.type or (typed if alt.format and typed else None)
        out.append(alt.model_copy(update={"type": alt_type}) if alt_type else alt)
    return out


def own_field_problems(
    fields: Sequence[CompiledField],
    external_id: CompiledField | None,
    updated_at: CompiledField | None,
    mapped: Sequence[str],
) -> list[tuple[tuple[str, ...], str]]:
    """Misuses of `field:` (location, message): only external_id and updated_at (and
    their coalesce alternatives) may use it, naming a field mapped on this entity."""
    out: list[tuple[tuple[str, ...], str]] = [
        (("fields", f.name), "`field:` is for external_id and updated_at")
        for f in fields
        if f.own_field is not None
    ]
    for key, cf in (("external_id", external_id), ("updated_at", updated_at)):
        for f in [] if cf is None else [cf, *cf.alternatives]:
            if f.own_field is not None and f.own_field not in mapped:
                msg = f"field {f.own_field!r} is not mapped here (mapped: {', '.join(mapped)})"
                out.append(((key,), msg))
    return out
