"""The `omshub` app, its global options, and how every error ends: one line, an exit code.

Exit codes (docs/operations.md): 0 ok; 1 the work ran and something failed (a run, replay
or retry ended `failed` or `partial`, a check found problems); 2 usage or configuration
(bad option, unknown source, batch or status, a source file that does not validate);
3 another run holds the source's lock (`run --no-wait`); 4 a source could not be reached;
70 an internal error (a bug, or the store itself failing); 130 interrupted.
A traceback never reaches the screen unless `--debug` is given; it always goes to the log.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.traceback import Traceback
from sqlalchemy import Engine
from typer import _click
from typer.core import TyperGroup
from typer.exceptions import TyperException

from oms.errors import ConfigError, OmshubError, RetriableError, SourceBusy
from omshub.batches import InvalidRequest
from omshub.cli import logs

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUSY = 3
EXIT_UNREACHABLE = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

out = Console(width=max(Console().width, 120))
err = Console(stderr=True, width=max(Console().width, 120))
trace = logging.getLogger("omshub.cli.trace")


class Settings:
    """Global options of this invocation (set by the root callback)."""

    debug: bool = False


def exit_code(e: BaseException) -> int:
    """The documented exit code of an error that ended a command."""
    if isinstance(e, SourceBusy):
        return EXIT_BUSY
    if isinstance(e, RetriableError):
        return EXIT_UNREACHABLE
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
            message += f" ({hint}; run with --debug to see it here)"
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    show_traceback(e)
    return code


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
    "2 usage or configuration, 3 source busy, 4 source unreachable, 70 internal error.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    debug: bool = typer.Option(
        False, "--debug", envvar="OMSHUB_DEBUG", help="debug logging and tracebacks on stderr"
    ),
) -> None:
    """omshub: order-management integration hub."""
    Settings.debug = debug
    logs.setup(debug)


def progress() -> None:
    """Per-batch progress lines on stderr (runs over many files take a while)."""
    logs.show_progress()


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """End a command with `error: message` and `code` (for checks the CLI makes itself)."""
    trace.info("omshub %s: exit %d: %s", " ".join(sys.argv[1:]), code, message)
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def engine() -> Engine:
    """The store, migrated to the current schema (idempotent, cheap when up to date)."""
    from oms.db import get_engine, upgrade

    upgrade()
    return get_engine()


def cell(value: Any) -> Text:
    """A table cell shown as is: data ("[x]" in a file name or message) is never markup."""
    return Text("-" if value is None or value == "" else str(value))


def page(shown: int, total: int, offset: int) -> str:
    """`3 of 120 (rows 51-53)`: a page is never presented as the total."""
    if not shown:
        return f"0 of {total}"
    return f"{shown} of {total} (rows {offset + 1}-{offset + shown})"


def when(value: str | None) -> str:
    """`2026-12-02T01:04:05.123+00:00` -> `2026-12-02 01:04:05Z` (times are UTC)."""
    return f"{value[:10]} {value[11:19]}Z" if value else "-"


def dump_json(data: Any) -> None:
    import json

    sys.stdout.write(
        json.dumps(data, default=str, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
