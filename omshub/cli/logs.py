"""Where the CLI's logging goes: a rotating file always, the screen as asked.

The log file (`OMSHUB_LOG_DIR`, default `<project>/.omshub/logs`, file `omshub.log`,
5 x 5 MB) receives everything from omshub's packages, debug lines included (the pipeline
logs a failed batch's traceback at DEBUG), and every command error's traceback, so a
one-line error on screen can always be followed up. The screen (stderr) shows what
`--log-level` asks (default: warnings, plus progress lines for the commands that run
sources; `debug`: everything, tracebacks too), as rich text or, with `--log-format json`,
one JSON object a line (`time`, `level`, `logger`, `message`) for log collectors.
A log folder that cannot be written never stops a command: the file is then skipped.
"""

from __future__ import annotations

import datetime as dt
import json
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
    explicit: bool = False
    handlers: list[tuple[logging.Logger, logging.Handler]] = []
    levels: dict[str, tuple[int, bool]] = {}


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


def teardown() -> None:
    """Detach and close this invocation's handlers, restore the loggers as they were
    (tests and embedding programs run many commands in one process)."""
    for logger, handler in _State.handlers:
        logger.removeHandler(handler)
        handler.close()
    for name, (level, propagate) in _State.levels.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).propagate = propagate
    _State.handlers, _State.file, _State.screen, _State.levels = [], None, None, {}


def _own(name: str, propagate: bool) -> logging.Logger:
    logger = logging.getLogger(name)
    _State.levels.setdefault(name, (logger.level, logger.propagate))
    logger.setLevel(logging.DEBUG)
    logger.propagate = propagate
    return logger


def _attach(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.addHandler(handler)
    _State.handlers.append((logger, handler))


def json_line(level: str, logger: str, message: str, **extra: object) -> str:
    """One log record as a JSON object (time in ISO 8601 UTC with `Z`)."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {"time": now, "level": level, "logger": logger, "message": message, **extra}
    return json.dumps(record, ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    """`--log-format json`: one object a line; a traceback is the `exception` field."""

    def format(self, record: logging.LogRecord) -> str:
        extra = {"exception": self.formatException(record.exc_info)} if record.exc_info else {}
        return json_line(record.levelname, record.name, record.getMessage(), **extra)


def _screen(level: str, json_lines: bool) -> logging.Handler:
    handler: logging.Handler
    if json_lines:
        handler = logging.StreamHandler()  # stderr
        handler.setFormatter(JsonFormatter())
    else:
        handler = RichHandler(
            console=Console(stderr=True, width=max(Console().width, 120)),
            show_path=False,
            markup=False,
            show_time=level == "debug",
        )
    handler.setLevel(level.upper())
    return handler


def setup(level: str = "warning", json_lines: bool = False, explicit: bool = False) -> None:
    """Log to the file and to stderr at `level` (`explicit`: the user chose it, so
    progress lines do not override it)."""
    teardown()
    _State.debug, _State.explicit = level == "debug", explicit
    screen = _screen(level, json_lines)
    _State.screen = screen
    file = _file_handler()
    if file is not None:
        file.setLevel(logging.DEBUG)  # batch failures' tracebacks are logged at DEBUG
    for name in PACKAGES:
        logger = _own(name, propagate=False)
        _attach(logger, screen)
        if file is not None:
            _attach(logger, file)
    # errors' tracebacks: to the file only; the screen gets one line (and, with --debug,
    # the traceback printed by the error handler itself)
    trace = _own("omshub.cli.trace", propagate=False)
    if file is not None:
        _attach(trace, file)


def show_progress() -> None:
    """Progress (INFO) lines on the screen too: for the commands that run sources."""
    if _State.screen is not None and not _State.explicit:
        _State.screen.setLevel(logging.INFO)
