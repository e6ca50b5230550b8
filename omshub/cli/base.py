"""The `omshub` app, its global options, and how every error ends: one line, an exit code.

Exit codes (docs/cli.md): 0 ok; 1 the work ran and something failed (a run, replay or
retry ended `failed` or `partial`, a check found problems); 2 usage or configuration (bad
option, unknown source, stream, batch, partner or status, a source file that does not
validate); 3 another run holds the source's lock (`run --no-wait`); 4 a source could not be
reached; 5 the store is missing or not at the current schema (a read command never
migrates: run `omshub db upgrade`); 70 an internal error (a bug, or the store itself
failing); 130 interrupted. A traceback never reaches the screen unless `--log-level debug`
(or `--debug`) is given; it always goes to the log file.
"""

from __future__ import annotations

import logging
import os
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.traceback import Traceback
from sqlalchemy import Engine
from typer import _click
from typer.core import TyperGroup
from typer.exceptions import TyperException

from oms.errors import ConfigError, OmshubError, RetriableError, SourceBusy
from omshub.batches import InvalidRequest
from omshub.cli import logs
from omshub.cli.output import at, cell, dump_json, page
from omshub.store import StoreNotReady

__all__ = ["at", "cell", "dump_json", "page"]  # re-exported: every command module uses them

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUSY = 3
EXIT_UNREACHABLE = 4
EXIT_STORE = 5
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

out = Console(width=max(Console().width, 120))
err = Console(stderr=True, width=max(Console().width, 120))
trace = logging.getLogger("omshub.cli.trace")


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Settings:
    """Global options of this invocation (set by the root callback)."""

    debug: bool = False
    json_log: bool = False


def exit_code(e: BaseException) -> int:
    """The documented exit code of an error that ended a command."""
    if isinstance(e, SourceBusy):
        return EXIT_BUSY
    if isinstance(e, RetriableError):
        return EXIT_UNREACHABLE
    if isinstance(e, StoreNotReady):
        return EXIT_STORE
    if isinstance(e, ConfigError | InvalidRequest):
        return EXIT_USAGE
    if isinstance(e, OmshubError):
        return EXIT_FAILED
    return EXIT_INTERNAL


def one_line(e: BaseException) -> str:
    """The error as one line: our own messages whole, foreign ones cut to their first line
    (a database error's text carries the SQL statement and its parameters)."""
    text = str(e).strip() or type(e).__name__
    if isinstance(e, OmshubError):
        return " ".join(text.split("\n"))
    lines = text.splitlines()
    first = lines[0][:500]
    return f"internal error: {type(e).__name__}: {first}"


def report_error(e: BaseException) -> int:
    """Print `error: ...` on stderr, the traceback to the log (and the screen with --debug)."""
    code = exit_code(e)
    trace.error("omshub %s: exit %d", " ".join(sys.argv[1:]), code, exc_info=e)
    message = one_line(e)
    if code == EXIT_INTERNAL:
        where = logs.log_file()
        if Settings.debug:
            message += f" (traceback below{f'; also in {where}' if where else ''})"
        else:
            hint = f"traceback in {where}" if where else "no log file"
            message += f" ({hint}; run with --log-level debug to see it here)"
    say_error(message, code)
    show_traceback(e)
    return code


def say_error(message: str, code: int) -> None:
    """The one error line on stderr: `error: ...`, or with `--log-format json` a JSON line."""
    if Settings.json_log:
        sys.stderr.write(logs.json_line("ERROR", "omshub.cli", message, exit_code=code) + "\n")
        return
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)


def show_traceback(e: BaseException) -> None:
    """With --debug, the traceback on stderr too (it is in the log file either way)."""
    if Settings.debug:
        err.print(Traceback.from_exception(type(e), e, e.__traceback__))


class OmshubGroup(TyperGroup):
    """Root group: whatever a command raises ends as one line and a documented exit code."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # exits and usage errors: typer's
            raise
        except BrokenPipeError:  # `omshub ... | head`: the reader left early, not our error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            err.print("[bold red]interrupted[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as e:
            raise typer.Exit(report_error(e)) from None
        finally:
            logs.teardown()


def sub_app(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False)


app = typer.Typer(
    cls=OmshubGroup,
    help="omshub: order-management integration hub. Exit codes: 0 ok, 1 something failed, "
    "2 usage or configuration, 3 source busy, 4 source unreachable, 5 store not ready "
    "(run `omshub db upgrade`), 70 internal error, 130 interrupted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"omshub {version('omshub')}", highlight=False)
        except PackageNotFoundError:  # a checkout run without `pip install -e .`
            out.print("omshub (version unknown: not installed)", highlight=False)
        raise typer.Exit(EXIT_OK)


@app.callback()
def main(
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            envvar="OMSHUB_LOG_LEVEL",
            case_sensitive=False,
            help="what reaches stderr; debug also shows an error's traceback",
        ),
    ] = LogLevel.warning,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format", envvar="OMSHUB_LOG_FORMAT", help="text, or one JSON object a line"
        ),
    ] = LogFormat.text,
    debug: Annotated[
        bool, typer.Option("--debug", envvar="OMSHUB_DEBUG", help="same as --log-level debug")
    ] = False,
    _: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """omshub: order-management integration hub."""
    level = LogLevel.debug if debug else log_level
    Settings.debug = level is LogLevel.debug
    Settings.json_log = log_format is LogFormat.json
    logs.setup(level.value, json_lines=Settings.json_log, explicit=debug or level != "warning")


def progress() -> None:
    """Per-batch progress lines on stderr (runs over many files take a while)."""
    logs.show_progress()


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """End a command with `error: message` and `code` (for checks the CLI makes itself)."""
    trace.info("omshub %s: exit %d: %s", " ".join(sys.argv[1:]), code, message)
    say_error(message, code)
    raise typer.Exit(code)


def engine() -> Engine:
    """The store for a command that writes: migrated to the current schema (idempotent)."""
    from oms.db import get_engine, upgrade

    upgrade()
    return get_engine()


def store() -> Engine:
    """The store for a command that only reads: never migrated; a store that is missing or
    behind the schema ends the command with exit 5 and "run `omshub db upgrade`"."""
    from oms.db import get_engine
    from omshub.store import check_migrated

    eng = get_engine()
    check_migrated(eng)
    return eng
