"""YAML keys from the pydantic models that validate them: one table per model.

The models are the truth (an unknown key is refused by them), so the reference is walked
out of them: every field with its type, default and `description=`, and every model a
field nests, each in its own section, linked from the field's type.
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from omshub.refdocs.md import anchor, code, table, value

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Any: "any",
    type(None): "null",
}


@dataclass
class Section:
    """One model's table, titled `title` (its anchor is what field types link to)."""

    title: str
    model: type[BaseModel]
    intro: str = ""
    skip: frozenset[str] = frozenset()


@dataclass
class Walk:
    """Models met so far, in order, so each is documented once and linked by title."""

    #: titles for models met as a field's type (default: the class name)
    names: dict[type[BaseModel], str] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    titles: dict[type[BaseModel], str] = field(default_factory=dict)

    def add(
        self, model: type[BaseModel], title: str | None = None, skip: frozenset[str] = frozenset()
    ) -> str:
        if model not in self.titles:
            self.titles[model] = title or self.names.get(model, model.__name__)
            self.sections.append(Section(self.titles[model], model, _doc(model), skip))
            for f in model.model_fields.values():
                for nested in _models_in(f.annotation):
                    self.add(nested)
        return self.titles[model]

    def render(self, level: str = "##") -> str:
        return "\n\n".join(self._render(s, level) for s in self.sections)

    def _render(self, s: Section, level: str) -> str:
        rows = []
        for name, f in s.model.model_fields.items():
            if name in s.skip:
                continue
            rows.append(
                (
                    code(f.alias or name),
                    self.type_text(f.annotation),
                    _default(f),
                    _describe(f),
                )
            )
        parts = [f"{level} {s.title}"]
        if s.intro:
            parts.append(s.intro)
        parts.append(table(("key", "type", "default", "meaning"), rows))
        if s.model.model_config.get("extra") == "allow":
            parts.append("Other keys are allowed here and passed on as they are.")
        elif s.model.model_config.get("extra") == "forbid":
            parts.append("Any other key is an error naming the file and line.")
        return "\n\n".join(parts)

    def type_text(self, ann: Any) -> str:
        """The annotation in words, nested models as links to their sections."""
        origin = typing.get_origin(ann)
        args = typing.get_args(ann)
        if origin is typing.Annotated:
            return self.type_text(args[0])
        if ann in _SCALARS:
            return _SCALARS[ann]
        if origin is typing.Literal and len(args) == 1:
            return code(str(args[0]))
        if origin is typing.Literal:
            return "one of " + ", ".join(code(str(a)) for a in args)
        if origin in (typing.Union, types.UnionType):
            return " or ".join(self.type_text(a) for a in args if a is not type(None))
        if origin in (list, tuple, set, frozenset):
            return f"list of {self.type_text(args[0])}" if args else "list"
        if origin is dict:
            if not args:
                return "mapping"
            return f"mapping of {self.type_text(args[0])} to {self.type_text(args[1])}"
        if inspect.isclass(ann) and issubclass(ann, BaseModel):
            title = self.titles.get(ann, ann.__name__)
            return f"[{title}](#{anchor(title)})"
        return getattr(ann, "__name__", str(ann))


def _models_in(ann: Any) -> list[type[BaseModel]]:
    if inspect.isclass(ann) and issubclass(ann, BaseModel):
        return [ann]
    return [m for a in typing.get_args(ann) for m in _models_in(a)]


def _doc(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    base_doc = BaseModel.__doc__ or ""
    if not doc or doc == base_doc:
        return ""
    return inspect.cleandoc(doc)


def _default(f: FieldInfo) -> str:
    if f.is_required():
        return "required"
    if f.default_factory is not None:
        return code(value(_plain(f.default_factory())))  # type: ignore[call-arg]
    if f.default is None or f.default is PydanticUndefined:
        return "none"
    return code(value(_plain(f.default)))


def _plain(v: Any) -> Any:
    """A default as YAML would write it (a nested model as its keys)."""
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json", exclude_none=True)
    if hasattr(v, "value") and type(v).__module__ != "builtins":  # an Enum member
        return v.value
    return v


def _describe(f: FieldInfo) -> str:
    text = f.description or ""
    if not text and typing.get_origin(f.annotation) is typing.Literal:
        text = "selects the keys of this section"
    limits = []
    for m in f.metadata:
        for attr, word in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(m, attr, None) is not None:
                limits.append(f"{word} {getattr(m, attr)}")
        for attr, word in (("min_length", "length ≥"), ("max_length", "length ≤")):
            if getattr(m, attr, None) is not None:
                limits.append(f"{word} {getattr(m, attr)}")
        if getattr(m, "pattern", None):
            limits.append(f"matches {code(m.pattern)}")
    extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
    if extra.get("deprecated"):
        limits.append("deprecated")
    if limits:
        text = f"{text} ({', '.join(limits)})" if text else ", ".join(limits)
    return text
