"""Code lists: a source system's codes -> canonical values (`config/codes/*.yaml`).

An unknown code is a data problem of one record (quarantine with the code and the list
name), never a crash. A list that declares `target: entity.column` is checked against the
canonical vocabulary when it is loaded, so a typo in a list fails `mapping check`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oms.enums import ENUM_COLUMNS
from transforms.errors import MappingError
from transforms.yamlsrc import col_of, line_of, load_yaml


class CodeListFile(BaseModel):
    """A code list: a source system's codes and the canonical value of each."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="the name mappings use in `code:`")
    description: str | None = Field(None, description="free text")
    target: str | None = Field(None, description="entity.column whose vocabulary the values use")
    case_insensitive: bool = Field(True, description="`PAID` and `paid` are the same code")
    codes: dict[str, Any] = Field(description="source code -> canonical value")


@dataclass(frozen=True)
class CodeList:
    name: str
    codes: dict[str, Any]
    case_insensitive: bool
    file: str

    def lookup(self, value: Any) -> Any:
        key = str(value).strip()
        if self.case_insensitive:
            key = key.lower()
        if key in self.codes:
            return self.codes[key]
        raise ValueError(f"unknown code {value!r} in code list {self.name!r} ({self.file})")


def load_code_list(path: Path) -> CodeList:
    data, lines = load_yaml(path)
    try:
        spec = CodeListFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        raise MappingError(
            err["msg"],
            file=str(path),
            line=line_of(lines, loc),
            column=col_of(lines, loc),
            field=".".join(map(str, loc)),
        ) from e
    if spec.target:
        entity, _, column = spec.target.partition(".")
        allowed = ENUM_COLUMNS.get(entity, {}).get(column)
        if allowed is None:
            raise MappingError(
                f"target {spec.target!r} is not an enumerated canonical column",
                file=str(path),
                line=line_of(lines, ("target",)),
                column=col_of(lines, ("target",)),
            )
        for code, value in spec.codes.items():
            if value is not None and value not in allowed:
                raise MappingError(
                    f"code {code!r} maps to {value!r}, not one of {', '.join(allowed)}",
                    file=str(path),
                    line=line_of(lines, ("codes", code)),
                    column=col_of(lines, ("codes", code)),
                )
    codes = {
        (str(k).lower() if spec.case_insensitive else str(k)): v for k, v in spec.codes.items()
    }
    display = "/".join(path.parts[-3:])  # config/codes/<file>: short, stable in goldens
    return CodeList(spec.name, codes, spec.case_insensitive, display)


class CodeLists(dict[str, CodeList]):
    """Code lists by name; a list whose file is broken raises its error when asked for.

    One bad file must not break every mapping (only those that use it), and the error a
    mapping then reports is the file's own, with its line.
    """

    def __init__(self) -> None:
        super().__init__()
        self.broken: dict[str, MappingError] = {}

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if name in self.broken:
            raise self.broken[name]
        return super().get(name, default)


def _declared_name(path: Path) -> str:
    """The `name:` a broken file declares when it can be read, else its file stem."""
    try:
        data, _ = load_yaml(path)
    except MappingError:  # the file's own error is what load_code_list reported
        return path.stem
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name else path.stem


def load_code_lists(folder: Path) -> CodeLists:
    lists = CodeLists()
    for path in sorted(folder.glob("*.yaml")):
        try:
            cl = load_code_list(path)
        except MappingError as e:
            lists.broken[_declared_name(path)] = e
            continue
        if cl.name in lists:
            lists.broken[cl.name] = MappingError(
                f"code list {cl.name!r} also defined in {lists[cl.name].file}", file=str(path)
            )
            continue
        lists[cl.name] = cl
    return lists
