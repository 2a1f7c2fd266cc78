"""Registering a command: adds --json and --quiet (and --format to a listing); the function runs
through qbsync/cli/runner.py, which emits what it returns and turns domain errors into fail()
and Ctrl-C into exit 130. Command functions stay plain: Annotated parameters and a docstring.

Help reads the same everywhere: `-h` is `--help`, metavars are plain words (`KEY`, `FILE`,
`N`), arguments are written `KIND LOCAL [ID]`, and each command ends with an example
(qbsync/cli/examples.py).
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import os
import sys
from collections.abc import Callable, MutableMapping
from typing import Annotated, Any, Literal, get_origin

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from qbsync.cli.output import (
    FORMAT_ENV,
    Page,
    Renderer,
    say_failure,
    to_json,
)
from qbsync.cli.runner import COMPANY_ENV, run_command, set_mode
from qbsync.errors import ErrorCode

HELP_OPTIONS = ["-h", "--help"]


def _company_key(value: str | None) -> str | None:
    """--company (or QBSYNC_COMPANY) checked against the key rule: exit 2 naming the rule."""
    if value is None:
        return None
    import re

    from qbsync.config import COMPANY_KEY_PATTERN, COMPANY_KEY_RULE

    if not re.match(COMPANY_KEY_PATTERN, value):
        raise typer.BadParameter(f"{value!r}: {COMPANY_KEY_RULE}")
    return value


JsonFlag = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")]
FormatOption = Annotated[
    Literal["table", "plain", "csv", "tsv", "json"] | None,
    typer.Option(
        "--format",
        metavar="[table|plain|csv|tsv|json]",
        help=f"Output format (default: ${FORMAT_ENV}, else table).",
        show_default=False,
    ),
]
CompanyOption = Annotated[
    str | None,
    typer.Option(
        "--company",
        "-c",
        metavar="KEY",
        envvar=COMPANY_ENV,
        callback=_company_key,
        help="Company key (default: the default company).",
    ),
]

# Typer carries its own copy of click and exports only BadParameter; its base is click's
# UsageError, which every command-line mistake (unknown option, bad value, missing argument) is.
UsageErrorBase: type[Exception] = typer.BadParameter.__mro__[1]


class _OneLineUsageError(UsageErrorBase):  # type: ignore[valid-type,misc]
    """A mistyped command line under --quiet or --json, as every other failure there: one line
    on stderr (--quiet), `{"error": {"code": "usage", ...}}` on stdout (--json), or both."""

    as_json = False
    quiet = True

    def show(self, file: Any = None) -> None:
        ctx = getattr(self, "ctx", None)
        command = ctx.command_path if ctx else "qbsync"
        message, hint = self.format_message(), f"see {command} --help"
        if self.as_json:
            error = {"code": ErrorCode.USAGE.value, "message": message, "hint": hint}
            sys.stdout.write(to_json({"error": error}) + "\n")
            sys.stdout.flush()
        if self.quiet:
            say_failure(message, hint)


def _flags_before_end(args: list[str]) -> list[str]:
    return args[: args.index("--")] if "--" in args else args


def _machine_usage(args: list[str]) -> tuple[bool, bool]:
    """(JSON, one line) for a usage error of this command line: --json or --format json asks for
    JSON, --quiet (-q) for one line; without either flag QBSYNC_FORMAT=json asks for JSON."""
    words = _flags_before_end(args)
    quiet = "--quiet" in words or "-q" in words
    formats = [b for a, b in itertools.pairwise(words) if a == "--format"]
    formats += [w.removeprefix("--format=") for w in words if w.startswith("--format=")]
    as_json = "--json" in words or "json" in formats
    if not (as_json or quiet or formats):
        as_json = os.environ.get(FORMAT_ENV, "").strip().lower() == "json"
    return as_json, quiet


def _for_machines(err: Exception, args: list[str]) -> Exception | None:
    """The usage error `err` as --json or --quiet shows it, or None to let click show it."""
    if isinstance(err, _OneLineUsageError):
        return None
    as_json, quiet = _machine_usage(args)
    if not (as_json or quiet):
        return None
    message = err.format_message()  # type: ignore[attr-defined]
    machine = _OneLineUsageError(message, ctx=getattr(err, "ctx", None))
    machine.as_json, machine.quiet = as_json, quiet
    machine.exit_code = getattr(err, "exit_code", 2)
    return machine


def _option_metavar(option: TyperOption) -> str:
    """A plain word for an option's value: its choices, FILE, DIR, DATE, N, SECONDS, or its
    name (`--reason REASON`)."""
    kind = option.type
    choices = getattr(kind, "choices", None)
    if choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in choices) + "]"
    name = (option.name or "value").upper()
    if kind.name in ("file", "directory", "path"):
        return "DIR" if name == "HOME" else "FILE"
    words = {"datetime": "DATE", "int": "N", "int range": "N", "float": "SECONDS"}
    return words.get(kind.name, "SECONDS" if kind.name == "float range" else name)


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        return self.metavar if self.metavar is not None else _option_metavar(self)

    def make_metavar(self, ctx: Any) -> str:
        word = self.metavar if self.metavar is not None else _option_metavar(self)
        return word if self.nargs == 1 else f"{word}..."


class _Argument(TyperArgument):
    """An argument written as its name in capitals (`KIND`, `[ID]`, `PATH...`), no type."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        word = (self.metavar or (self.name or "arg").upper()) + ("..." if self.nargs != 1 else "")
        return f"[{word}]" if usage and not self.required else word


_WORDLESS: dict[type, type] = {}


def _wordless(kind: type) -> type:
    """An argument's type that adds no word of its own to the help (`<str>`, `[a|b]`)."""
    if kind not in _WORDLESS:
        _WORDLESS[kind] = type(kind.__name__, (kind,), {"get_metavar": lambda s, param, ctx: ""})
    return _WORDLESS[kind]


def _polish(params: list[Any], context_settings: MutableMapping[str, Any]) -> None:
    context_settings.setdefault("help_option_names", HELP_OPTIONS)
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
            param.metavar = param.metavar or (param.name or "arg").upper()
            param.type = copy.copy(param.type)
            param.type.__class__ = _wordless(type(param.type))


def _path_of(ctx: Any) -> str:
    """The command's words after `qbsync` ("invoices list"), whatever the program is called."""
    words: list[str] = []
    while ctx is not None and ctx.parent is not None:
        words.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(words)


def _epilog(ctx: Any, formatter: Any) -> None:
    from qbsync.cli.examples import EXAMPLES, ROOT_EPILOG

    path = _path_of(ctx)
    if not path:
        for title, lines in ROOT_EPILOG:
            with formatter.section(title):
                for line in lines:
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")
    example = EXAMPLES.get(path)
    if example:
        with formatter.section("Example"):
            formatter.write(f"{'':>{formatter.current_indent}}{example}\n")


class _Polished:
    """`-h`, plain metavars and an example in the help, and usage errors (a bad option or value,
    exit 2) that obey --quiet and --json: what commands and command groups share."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _polish(self.params, self.context_settings)  # type: ignore[attr-defined]

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        super().format_epilog(ctx, formatter)  # type: ignore[misc]
        _epilog(ctx, formatter)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)  # click consumes the list it parses
        try:
            parsed: list[str] = super().parse_args(ctx, args)  # type: ignore[misc]
            return parsed
        except UsageErrorBase as err:
            machine = _for_machines(err, given)
            if machine is None:
                raise
            raise machine from None


class PolishedGroup(_Polished, TyperGroup):
    """A command group with `-h`, plain metavars and an example in its help."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # An unknown command (`qbsync sync bogus --quiet`) is found here, not in parse_args.
        try:
            return super().resolve_command(ctx, args)
        except UsageErrorBase as err:
            machine = _for_machines(err, args)
            if machine is None:
                raise
            raise machine from None


class QuietAwareCommand(_Polished, TyperCommand):
    """A command whose usage errors (a bad option or value, exit 2) obey --quiet too, with `-h`,
    plain metavars and an example in its help."""


def _is_listing(annotation: Any) -> bool:
    return annotation is Page or get_origin(annotation) is list or annotation is list


def command(
    app: typer.Typer,
    name: str | None = None,
    *,
    render: Renderer | None = None,
    listing: bool | None = None,
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@command(app, "show")` registers `fn` with --json/--quiet added to its options, and
    --format too when it is a listing (`listing=`, else: it returns a list or a Page)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn, eval_str=True)
        lists = _is_listing(signature.return_annotation) if listing is None else listing

        @functools.wraps(fn)
        def wrapper(
            *args: Any,
            json_output: bool = False,
            quiet: bool = False,
            format_choice: str | None = None,
            **kwargs: Any,
        ) -> None:
            set_mode(json_output, quiet, format_choice, lists)
            run_command(fn, render, *args, **kwargs)

        extra = [
            inspect.Parameter(
                "json_output", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonFlag
            ),
            inspect.Parameter(
                "quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuietFlag
            ),
        ]
        if lists:
            extra.insert(
                0,
                inspect.Parameter(
                    "format_choice",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=FormatOption,
                ),
            )
        params = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            else p
            for p in signature.parameters.values()
        ]
        wrapper.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **{p.name: p.annotation for p in params},
            **{p.name: p.annotation for p in extra},
        }
        app.command(name, **{"cls": QuietAwareCommand, **options})(wrapper)
        return fn

    return decorate


def group(help_text: str) -> typer.Typer:
    """A command group that shows its help when called bare."""
    return typer.Typer(
        help=help_text, no_args_is_help=True, rich_markup_mode=None, cls=PolishedGroup
    )
