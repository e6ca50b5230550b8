"""Is the store ready to be read, and which names does it know?

A read command never migrates the store (that is `omshub db upgrade`'s job, run
deliberately, with a backup if the operator wants one): it asks `check_migrated` first and
stops with `StoreNotReady` when the store is missing or behind the code's schema head.
The CLI validates a source name against the configuration *and* the store, so history left
by a source since removed from the configuration can still be listed.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, select, union

from oms.errors import ConfigError
from oms.models import LandedBatch, SyncRun, table


class StoreNotReady(ConfigError):
    """The store does not exist or is not at the current schema: run `omshub db upgrade`."""


def schema_head() -> str | None:
    """The newest migration this code ships (what `omshub db upgrade` brings a store to)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import oms.db

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(oms.db.__file__).parent / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


def check_migrated(engine: Engine) -> None:
    """Refuse to read a store that is missing or not at the current schema."""
    from alembic.runtime.migration import MigrationContext

    where = engine.url.render_as_string(hide_password=True).split("@")[-1]
    db = engine.url.database
    if engine.dialect.name == "sqlite" and db and db != ":memory:" and not Path(db).exists():
        raise StoreNotReady(f"no store at {db}: run `omshub db upgrade` to create it")
    head = schema_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        has_table = inspect(conn).has_table(table(SyncRun).name)
    if current != head or not has_table:
        raise StoreNotReady(
            f"the store at {where} is at schema revision {current or 'none'}, not {head}:"
            " run `omshub db upgrade` first"
        )


def stored_sources(engine: Engine) -> set[str]:
    """Every source that ever ran or landed a batch (the configuration may have lost it)."""
    runs, batches = table(SyncRun), table(LandedBatch)
    query = union(select(runs.c.source), select(batches.c.source))
    with engine.connect() as conn:
        return {str(name) for (name,) in conn.execute(query)}
