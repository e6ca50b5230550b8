"""Find, compile and cache mappings and code lists (compiled once per process and file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from omshub.config import config_dir, mappings_dir
from transforms.codes import CodeList, load_code_lists
from transforms.compiler import CompiledMapping, compile_mapping


def _stamp(folder: Path) -> tuple[tuple[str, float], ...]:
    return tuple((p.name, p.stat().st_mtime) for p in sorted(folder.glob("*.yaml")))


@cache
def _codes(folder: str, stamp: tuple[tuple[str, float], ...]) -> dict[str, CodeList]:
    return load_code_lists(Path(folder))


CodesKey = tuple[str, tuple[tuple[str, float], ...]]


def _codes_key() -> CodesKey:
    """Which code lists are current: their folder and every file's mtime."""
    folder = config_dir() / "codes"
    return str(folder), _stamp(folder) if folder.is_dir() else ()


def code_lists() -> dict[str, CodeList]:
    folder, stamp = _codes_key()
    return _codes(folder, stamp) if stamp else {}


@cache
def _compiled(path: str, mtime: float, codes: CodesKey) -> CompiledMapping:
    """Compiled once per file version and code-list version (a change to either recompiles)."""
    p = Path(path)
    try:
        display = str(p.relative_to(mappings_dir().parent))
    except ValueError:
        display = str(p)
    return compile_mapping(p, code_lists(), display=display)


def resolve(mapping: str) -> Path:
    p = Path(mapping)
    return p if p.is_absolute() else mappings_dir() / p


def get_mapping(mapping: str) -> CompiledMapping:
    path = resolve(mapping)
    return _compiled(str(path), path.stat().st_mtime if path.exists() else 0.0, _codes_key())


def all_mapping_files() -> list[Path]:
    return sorted(mappings_dir().glob("**/*.yaml"))
