"""Registering a command: adds --json and --quiet, emits what the function returns, and turns
domain errors into fail(). Command functions stay plain: Annotated parameters and a docstring.
"""

from __future__ import annotations

import functools
import inspect
import os
import traceback
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from qbsync.cli.output import MODE, Outcome, Renderer, emit, fail, report_failure, say_failure
from qbsync.errors import ErrorCode, QbsyncError
from qbsync.logs import get_logger
from qbsync.redact import redact

JsonFlag = Annotated[bool, typer.Option("--json", help='Print {"data": ...} or {"error": ...}.')]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")]
CompanyOption = Annotated[
    str | None, typer.Option("--company", "-c", help="Company key (default: the default company).")
]

_log = get_logger("cli")


def debug_enabled() -> bool:
    return os.environ.get("QBSYNC_DEBUG", "") not in ("", "0", "false")


# Typer carries its own copy of click and exports only BadParameter; its base is click's
# UsageError, which every command-line mistake (unknown option, bad value, missing argument) is.
UsageErrorBase: type[Exception] = typer.BadParameter.__mro__[1]


class _OneLineUsageError(UsageErrorBase):  # type: ignore[valid-type,misc]
    """A mistyped command line under --quiet: one line on stderr, like every other failure."""

    def show(self, file: Any = None) -> None:
        ctx = getattr(self, "ctx", None)
        command = ctx.command_path if ctx else "qbsync"
        say_failure(self.format_message(), f"see {command} --help")


class QuietAwareCommand(TyperCommand):
    """A command whose usage errors (a bad option or value, exit 2) obey --quiet too."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        quiet = "--quiet" in args or "-q" in args
        try:
            return super().parse_args(ctx, args)
        except UsageErrorBase as err:
            if not quiet or isinstance(err, _OneLineUsageError):
                raise
            message = err.format_message()  # type: ignore[attr-defined]
            raise _OneLineUsageError(message, ctx=getattr(err, "ctx", None)) from None


def run_command(fn: Callable[..., Any], render: Renderer | None, *args: Any, **kwargs: Any) -> None:
    try:
        result = fn(*args, **kwargs)
    except typer.Exit:
        raise
    except QbsyncError as exc:
        if debug_enabled():
            traceback.print_exc()
        fail(exc.code, exc.message, exc.hint)
    except KeyboardInterrupt:
        fail(ErrorCode.FAILED, "interrupted")
    except Exception as exc:
        _log.exception("unexpected error in %s", fn.__name__)
        if debug_enabled():
            traceback.print_exc()  # plain traceback: no locals, so no secrets
        fail(
            ErrorCode.INTERNAL,
            redact(f"{type(exc).__name__}: {exc}"),
            "run again with QBSYNC_DEBUG=1 for the traceback; the log has details",
        )
    if isinstance(result, Outcome):
        emit(result.data, render)
        if result.exit_code:
            report_failure(result.data, result.exit_code)  # --quiet: one line, still
            raise typer.Exit(result.exit_code)
    elif result is not None:
        emit(result, render)


def command(
    app: typer.Typer, name: str | None = None, *, render: Renderer | None = None, **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@command(app, "show")` registers `fn` with --json/--quiet added to its options."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn, eval_str=True)

        @functools.wraps(fn)
        def wrapper(*args: Any, json_output: bool = False, quiet: bool = False, **kwargs: Any):
            MODE.json, MODE.quiet = json_output, quiet
            run_command(fn, render, *args, **kwargs)

        extra = [
            inspect.Parameter(
                "json_output", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonFlag
            ),
            inspect.Parameter(
                "quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuietFlag
            ),
        ]
        params = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            else p
            for p in signature.parameters.values()
        ]
        wrapper.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **{p.name: p.annotation for p in params},
            "json_output": JsonFlag,
            "quiet": QuietFlag,
        }
        app.command(name, **{"cls": QuietAwareCommand, **options})(wrapper)
        return fn

    return decorate


def group(help_text: str) -> typer.Typer:
    """A command group that shows its help when called bare."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)
