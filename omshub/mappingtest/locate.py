"""Which sample and golden file belong to a mapping: its own keys, else the convention.

`sample:` and `golden:` in the mapping (relative to it) win; without them the convention
is `samples/<name>.<ext>` (exactly one such file) and `golden/<name>.json` next to the
mapping, `<name>` being the mapping file's name without `.yaml`. One path is all
`omshub mapping test` needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from oms.errors import ConfigError
from omshub.config import mappings_dir
from omshub.mappings import get_mapping, resolve
from transforms.compiler import CompiledMapping


@dataclass(frozen=True)
class Target:
    """A mapping with the files its test reads (None: it has none)."""

    path: Path
    sample: Path | None
    golden: Path | None

    def files(self) -> set[Path]:
        return {p.resolve() for p in (self.path, self.sample, self.golden) if p}


def mapping_path(arg: str) -> Path:
    """A path as given, else relative to mappings/ (`shopify/orders.yaml`)."""
    p = Path(arg)
    if p.exists():
        return p.resolve()
    found = resolve(arg)
    if not found.exists():
        raise ConfigError(f"no mapping file {arg} (nor {found})")
    return found.resolve()


def _conventional_sample(path: Path) -> Path | None:
    folder = path.parent / "samples"
    found = sorted(folder.glob(f"{path.stem}.*")) if folder.is_dir() else []
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ConfigError(f"{path}: several samples ({names}); name one with `sample:`")
    return found[0] if found else None


def locate(
    mapping: CompiledMapping, path: Path, sample: Path | None = None, golden: Path | None = None
) -> Target:
    """The mapping's sample and golden: given, else its keys, else the convention."""
    spec = mapping.spec
    if sample is None:
        sample = path.parent / spec.sample if spec.sample else _conventional_sample(path)
    if sample is not None and not sample.exists():
        raise ConfigError(f"{mapping.file}: sample {sample} does not exist")
    if golden is None and sample is not None:
        golden = path.parent / (spec.golden or f"golden/{path.stem}.json")
    return Target(path, sample, golden)


def target(arg: str, sample: Path | None = None, golden: Path | None = None) -> Target:
    path = mapping_path(arg)
    return locate(get_mapping(str(path)), path, sample, golden)


def all_targets() -> list[Path]:
    """Every mapping file of the project (mappings/**/*.yaml)."""
    return sorted(p.resolve() for p in mappings_dir().glob("**/*.yaml"))
