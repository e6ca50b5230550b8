"""`omshub mapping check`: every mistake in the project's YAML, found before a run.

Each problem names file, line and column (`file:line:col: message`, the form editors and
CI annotate). One bad file is reported and every other file is still checked; an error
that several mappings run into (a broken code list) is reported once, at its own file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oms.db import project_home
from oms.errors import OmshubError
from transforms.yamlsrc import Lines, col_of, line_of, load_yaml


@dataclass(frozen=True)
class Problem:
    """One mistake: where it is and what is wrong (`severity` error or warning)."""

    file: str
    line: int | None
    column: int | None
    message: str
    severity: str = "error"

    def render(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line, self.column) if x is not None)
        return f"{where}: {self.message}"


@dataclass
class MappingOk:
    """A mapping that compiled: what it writes, and its parts that run per value."""

    file: str
    mapping: str
    version: str
    entities: list[str]
    per_value: list[str] = field(default_factory=list)


@dataclass
class Report:
    mappings: list[MappingOk] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "mappings": [asdict(m) for m in self.mappings],
            "problems": [asdict(p) for p in self.problems],
            "errors": len(self.errors),
        }


def display(file: str | Path | None) -> str:
    """A path as users read it: relative to the project when it is inside it."""
    if file is None:
        return "?"
    p = Path(file)
    if not p.is_absolute():
        return str(p)
    try:
        return str(p.resolve().relative_to(project_home().resolve()))
    except ValueError:
        return str(file)


def problem_of(e: BaseException, file: str | Path | None = None) -> Problem:
    """The `Problem` an omshub error describes (its file, line and column when it has them)."""
    efile = getattr(e, "file", None) or file
    line, column = getattr(e, "line", None), getattr(e, "column", None)
    detail = getattr(e, "detail", None)
    if detail is None:  # a message that starts with its own `file:line` prefix
        detail = str(e)
        for prefix in (f"{efile}:{line} ", f"{efile}:{line}: ", f"{efile}: "):
            if efile and detail.startswith(prefix):
                detail = detail[len(prefix) :]
                break
    key = getattr(e, "field", None) or getattr(e, "key", None)
    message = f"{key}: {detail}" if key else detail
    return Problem(display(efile), line, column, message)


def _located(file: Path, lines: Lines, loc: tuple[str | int, ...], msg: str) -> Problem:
    return Problem(display(file), line_of(lines, loc), col_of(lines, loc), msg)


def _companion_files(path: Path) -> list[Problem]:
    """The sample and golden a mapping names must exist (`mapping test` reads them)."""
    try:
        data, lines = load_yaml(path)
    except OmshubError:
        return []  # reported by the compile
    out: list[Problem] = []
    if not isinstance(data, dict):
        return out
    for key in ("sample", "golden"):
        value = data.get(key)
        if isinstance(value, str) and not (path.parent / value).is_file():
            out.append(_located(path, lines, (key,), f"{key}: {value!r} does not exist"))
    if data.get("golden") and not data.get("sample"):
        out.append(_located(path, lines, ("golden",), "golden without a sample to map"))
    return out


def check_mapping(path: Path, report: Report, seen: set[str]) -> None:
    """Compile one mapping; record it or its problem (an already-reported one once)."""
    from omshub.mappings import get_mapping

    try:
        m = get_mapping(str(path.resolve()))
    except OmshubError as e:
        p = problem_of(e, path)
        if p.render() not in seen:
            seen.add(p.render())
            report.problems.append(p)
        report.problems.extend(_companion_files(path))
        return
    report.mappings.append(
        MappingOk(display(path), m.name, m.version, list(dict.fromkeys(m.entities)))
    )
    report.mappings[-1].per_value = list(m.columnar_parts)
    report.problems.extend(_companion_files(path))


def check_code_lists(report: Report, seen: set[str]) -> None:
    """Each broken code-list file once, at its own line (not once per mapping using it)."""
    from omshub.mappings import code_lists

    for e in getattr(code_lists(), "broken", {}).values():
        p = problem_of(e)
        if p.render() not in seen:
            seen.add(p.render())
            report.problems.append(p)


def check_sources(report: Report, seen: set[str]) -> None:
    """Every source and partner file; and each mapping a stream names must compile."""
    from omshub.config import broken_sources, sources
    from omshub.mappings import get_mapping

    for e in broken_sources().values():
        report.problems.append(problem_of(e))
    for src in sources().values():
        try:
            _, lines = load_yaml(Path(src.file))
        except OmshubError:
            lines = Lines()
        for i, stream in enumerate(src.streams):
            for mapping_file in stream.mapping_files():
                try:
                    get_mapping(mapping_file)
                except (OmshubError, OSError) as e:
                    where = (
                        ("streams", i, "mapping")
                        if mapping_file == stream.mapping
                        else ("streams", i, "routes")
                    )
                    p = problem_of(e) if isinstance(e, OmshubError) else None
                    if p is not None and p.render() in seen:
                        continue  # the mapping's own error, reported at its file
                    msg = f"stream {stream.name}: mapping {mapping_file!r}: " + (
                        p.render() if p else f"cannot read: {e}"
                    )
                    report.problems.append(_located(Path(src.file), lines, where, msg))


def _resolve(path: Path) -> Path:
    """A path as given (from the working folder), else relative to the project's mappings/."""
    from omshub.config import mappings_dir

    if path.exists() or path.is_absolute():
        return path
    inside = mappings_dir() / path
    return inside if inside.exists() else path


def check_project(files: list[Path] | None = None, columnar: bool = False) -> Report:
    """Check the given mapping files, or the whole project (mappings, codes, sources)."""
    from omshub.mappings import all_mapping_files

    report = Report()
    seen: set[str] = set()
    if not files:
        check_code_lists(report, seen)
    for path in [_resolve(f) for f in files or []] or all_mapping_files():
        check_mapping(path, report, seen)
    for m in report.mappings:
        for part in m.per_value:
            report.problems.append(
                Problem(
                    m.file, None, None, f"per value: {part}", "error" if columnar else "warning"
                )
            )
    if not files:
        check_sources(report, seen)
    return report
