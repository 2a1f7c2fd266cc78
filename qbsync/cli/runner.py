"""Running a command function: the output mode set from --json/--quiet/--format, what it
returns emitted, domain errors (the command's, or emit's own) turned into fail() and Ctrl-C
into exit 130.

Without Typer: the registered commands (qbsync/cli/command.py) and cron's `sync run`, which is
parsed without building the command line (qbsync/cli/fast.py), run through the same code.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from qbsync.cli.output import (
    FORMAT_ENV,
    FORMATS,
    MODE,
    Outcome,
    Renderer,
    emit,
    fail,
    interrupted,
    report_failure,
)
from qbsync.errors import ErrorCode, QbsyncError, UsageError
from qbsync.logs import get_logger
from qbsync.redact import redact

_log = get_logger("cli")
COMPANY_ENV = "QBSYNC_COMPANY"  # --company's default, for every command


def debug_enabled() -> bool:
    return os.environ.get("QBSYNC_DEBUG", "") not in ("", "0", "false")


def output_format(choice: str | None, json_flag: bool, listing: bool, quiet: bool = False) -> str:
    """--format, else --json, else QBSYNC_FORMAT (json for any command, the other formats for
    listings), else table. A flag on the command line beats the environment: under --quiet
    (and no --json or --format) QBSYNC_FORMAT is checked but not applied, so that a quiet run
    stays silent on success and says its failure in one line on stderr."""
    if choice and json_flag and choice != "json":
        raise UsageError(f"--json and --format {choice} disagree", "give one of them")
    if json_flag or choice:
        return "json" if json_flag else str(choice)
    env = os.environ.get(FORMAT_ENV, "").strip().lower()
    if env and env not in FORMATS:
        raise UsageError(f"{FORMAT_ENV}={env!r} is not a format", f"use {', '.join(FORMATS)}")
    if quiet:
        return "table"
    if env == "json" or (env and listing):
        return env
    return "table"


def set_mode(json_output: bool, quiet: bool, format_choice: str | None, listing: bool) -> None:
    MODE.json, MODE.quiet, MODE.format = json_output, quiet, "table"
    try:
        MODE.format = output_format(format_choice, json_output, listing, quiet)
    except QbsyncError as exc:
        fail(exc.code, exc.message, exc.hint)
    MODE.json = MODE.format == "json"


def _unusable(exc: Exception) -> QbsyncError | None:
    """A file or directory of qbsync's that this user cannot create or write, as one line."""
    if not isinstance(exc, OSError):
        return None
    from qbsync.paths import unusable

    return unusable(exc)


def _is_typer_exit(exc: Exception) -> bool:
    # A command may end itself with typer.Exit(code); only a Typer command can, and then
    # Typer is loaded.
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(exc, typer.Exit)


def run_command(fn: Callable[..., Any], render: Renderer | None, *args: Any, **kwargs: Any) -> None:
    try:
        result = fn(*args, **kwargs)
    except QbsyncError as exc:
        if debug_enabled():
            traceback.print_exc()
        fail(exc.code, exc.message, exc.hint)
    except KeyboardInterrupt:
        interrupted()
    except Exception as exc:
        if _is_typer_exit(exc):
            raise
        unusable = _unusable(exc)
        if unusable is not None:  # the home, store or a lock this user cannot write
            if debug_enabled():
                traceback.print_exc()
            _log.warning("%s: %s", fn.__name__, unusable.message)
            fail(unusable.code, unusable.message, unusable.hint)
        _log.exception("unexpected error in %s", fn.__name__)
        if debug_enabled():
            traceback.print_exc()  # plain traceback: no locals, so no secrets
        fail(
            ErrorCode.INTERNAL,
            redact(f"{type(exc).__name__}: {exc}"),
            "run again with QBSYNC_DEBUG=1 for the traceback; the log has details",
        )
    if result is not None:
        try:
            emit(result.data if isinstance(result, Outcome) else result, render)
        except QbsyncError as exc:  # data that stdout cannot hold (qbsync/cli/dataout.py)
            fail(exc.code, exc.message, exc.hint)
    if isinstance(result, Outcome) and result.exit_code:
        report_failure(result.data, result.exit_code)  # --quiet: one line, still
        raise SystemExit(result.exit_code)
