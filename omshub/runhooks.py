"""What a run of a source does last, by the source's kind, before the run is closed.

A partner's EDI inbox sends what is still pending and marks overdue 997s after every
run, files or not. The pipeline knows no EDI: it asks the hook registered for the
source's `kind`. Built-in hooks are named by module path and imported when first needed,
so closing a run of a web shop never imports the EDI package (and an Airflow worker that
only closes runs still finds the EDI hook); `register_after_run` adds others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

#: hook(engine, source config, run id): runs before the run's status is decided
AfterRun = Callable[[Engine, Any, str], None]

#: source kind -> "module:function" of its built-in after-run hook
BUILTIN: dict[str, str] = {"edi": "omshub.edi.batch:after_run"}
_REGISTERED: dict[str, AfterRun] = {}


def register_after_run(kind: str, hook: AfterRun) -> None:
    """Run `hook` after every run of a source of `kind` (replacing a built-in one)."""
    _REGISTERED[kind] = hook


def after_run_hook(kind: str) -> AfterRun | None:
    """The hook for sources of `kind`, or None."""
    if kind in _REGISTERED:
        return _REGISTERED[kind]
    target = BUILTIN.get(kind)
    if target is None:
        return None
    module, _, name = target.partition(":")
    hook: AfterRun = getattr(importlib.import_module(module), name)
    return hook
