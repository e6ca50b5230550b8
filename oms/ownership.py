"""Field ownership (`config/ownership.yaml`): which systems may overwrite which fields.

The file maps entity -> field -> ranked list of owners; an owner is a system name
(`shopify`) or a system kind (`erp`). A system ranked lower than the system that last set
a field (or not listed at all) fills that field only while it is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from oms.entities import ENTITIES
from oms.errors import ConfigError


@dataclass(frozen=True)
class Ownership:
    rules: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def owned_fields(self, entity: str) -> dict[str, tuple[str, ...]]:
        return self.rules.get(entity, {})

    @staticmethod
    def rank(owners: tuple[str, ...], system: str | None, kind: str | None) -> int:
        """0 = first owner; len(owners) = not an owner."""
        for i, owner in enumerate(owners):
            if owner in (system, kind):
                return i
        return len(owners)

    @classmethod
    def load(cls, path: Path) -> Ownership:
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: invalid YAML: {e}") from e
        rules: dict[str, dict[str, tuple[str, ...]]] = {}
        for entity, fields in data.items():
            spec = ENTITIES.get(entity)
            if spec is None:
                raise ConfigError(f"{path}: unknown entity {entity!r}")
            if not isinstance(fields, dict):
                raise ConfigError(f"{path}: {entity}: expected field: [owners]")
            for name, owners in fields.items():
                if name not in spec.table.columns:
                    raise ConfigError(f"{path}: {entity} has no field {name!r}")
                if isinstance(owners, str):
                    owners = [owners]
                if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
                    raise ConfigError(f"{path}: {entity}.{name}: owners must be a list of names")
                rules.setdefault(entity, {})[name] = tuple(owners)
        return cls(rules)
