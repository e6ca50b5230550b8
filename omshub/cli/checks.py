"""Arguments checked against the configuration and the store before a command acts.

A name that matches nothing is a typo far more often than a wish for an empty answer:
an unknown source, stream, batch or partner ends the command with one line naming what
is known and exit 2 (`omshub.cli.base`), instead of an empty table and exit 0.
"""

from __future__ import annotations

from sqlalchemy import Engine

from oms.errors import ConfigError
from omshub.batches import InvalidRequest


def _known(what: str, name: str, known: set[str]) -> None:
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"unknown {what} {name!r} (known: {listed})")


def configured_sources() -> set[str]:
    """Every source with a file in config/sources (valid or not) and every EDI partner's."""
    from omshub.config import broken_sources, sources

    return {*sources(), *broken_sources()}


def source(name: str | None, eng: Engine | None = None) -> None:
    """`name` is a configured source or, when `eng` is given, one the store has history of."""
    if name is None:
        return
    known = configured_sources()
    if name in known:
        return
    if eng is not None:
        from omshub.store import stored_sources

        known |= stored_sources(eng)
    _known("source", name, known)


def stream(source_name: str, name: str | None) -> None:
    """`name` is a stream of the configured source `source_name` (unchecked when the source
    is only in the store's history: its streams are no longer known)."""
    from omshub.config import sources

    config = sources().get(source_name)
    if name is None or config is None:
        return
    names = [s.name for s in config.streams]
    if name not in names:
        raise ConfigError(
            f"source {source_name!r} has no stream {name!r} (its streams: {', '.join(names)})"
        )


def batch(eng: Engine, batch_id: str | None) -> None:
    """`batch_id` is a batch the store has landed."""
    from omshub.batches import find_batch

    if batch_id is not None and find_batch(eng, batch_id) is None:
        raise InvalidRequest(f"no batch {batch_id!r} (see `omshub batches list`)")


def configured_partner(name: str | None) -> bool:
    """True when `name` has a partner file (valid or not) or is None."""
    from omshub.edi.partners import broken_partners, partners

    return name is None or name in partners() or name in broken_partners()


def unknown_partner(name: str) -> ConfigError:
    from omshub.edi.partners import partners

    return ConfigError(f"unknown partner {name!r} (known: {', '.join(sorted(partners()))})")
