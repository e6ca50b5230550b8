"""Where the CLI's logging goes: a rotating file always, the screen as asked.

The log file (`OMSHUB_LOG_DIR`, default `<project>/.omshub/logs`, file `omshub.log`,
5 x 5 MB) receives INFO and up from omshub's packages and every error's traceback, so a
one-line error on screen can always be followed up. The screen shows warnings, progress
lines for the commands that run sources, and with `--debug` everything, tracebacks too.
A log folder that cannot be written never stops a command: the file is then skipped.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

PACKAGES = ("omshub", "oms", "connectors", "transforms")
FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"


class _State:
    file: Path | None = None
    screen: logging.Handler | None = None
    debug: bool = False
    handlers: list[tuple[logging.Logger, logging.Handler]] = []


def log_dir() -> Path:
    from oms.db import project_home

    env = os.environ.get("OMSHUB_LOG_DIR")
    return Path(env) if env else project_home() / ".omshub" / "logs"


def log_file() -> Path | None:
    """The file this invocation logs to (None when it could not be opened)."""
    return _State.file


def _file_handler() -> logging.Handler | None:
    path = log_dir() / "omshub.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    _State.file = path
    return handler


def _reset() -> None:
    """Drop this module's handlers of an earlier invocation (tests run many in one process)."""
    for logger, handler in _State.handlers:
        logger.removeHandler(handler)
        handler.close()
    _State.handlers, _State.file, _State.screen = [], None, None


def _attach(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.addHandler(handler)
    _State.handlers.append((logger, handler))


def setup(debug: bool) -> None:
    _reset()
    _State.debug = debug
    screen = RichHandler(
        console=Console(stderr=True, width=max(Console().width, 120)),
        show_path=False,
        markup=False,
        show_time=debug,
    )
    screen.setLevel(logging.DEBUG if debug else logging.WARNING)
    _State.screen = screen
    file = _file_handler()
    if file is not None:
        file.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in PACKAGES:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG if debug else logging.INFO)
        logger.propagate = False
        _attach(logger, screen)
        if file is not None:
            _attach(logger, file)
    # errors' tracebacks: to the file only; the screen gets one line (and, with --debug,
    # the traceback printed by the error handler itself)
    trace = logging.getLogger("omshub.cli.trace")
    trace.propagate = False
    trace.setLevel(logging.INFO)
    if file is not None:
        _attach(trace, file)


def show_progress() -> None:
    """Progress (INFO) lines on the screen too: for the commands that run sources."""
    if _State.screen is not None and not _State.debug:
        _State.screen.setLevel(logging.INFO)
