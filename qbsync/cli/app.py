"""The qbsync command line: a registration table of command groups and top-level commands.

Each entry names a module. Group modules expose `app` (a Typer group); top-level modules expose
`register(root)`. Add a row when an issue lands its commands; `--help` lists what exists.

A run imports only the module of the command it names (cron's `qbsync sync run` need not load
the simulator or the wizard); root help, completion and unknown names build everything.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer

from qbsync import __version__

GROUPS: list[tuple[str, str]] = [
    # (group name, module)
    ("config", "qbsync.cli.config_cmd"),
    ("app", "qbsync.cli.app_cmd"),
    ("companies", "qbsync.cli.companies"),
    ("qbo", "qbsync.cli.qbo"),
    ("sync", "qbsync.cli.sync_cmd"),
    ("exceptions", "qbsync.cli.exceptions_cmd"),
    ("invoices", "qbsync.cli.invoices"),
    ("payments", "qbsync.cli.payments"),
    ("ledger", "qbsync.cli.ledger"),
    ("mappings", "qbsync.cli.mappings"),
    ("sim", "qbsync.cli.sim"),
    ("wizard", "qbsync.cli.wizard"),
    ("notify", "qbsync.cli.notify"),
]

TOP_LEVEL: list[tuple[tuple[str, ...], str]] = [
    # (the commands it adds, module whose register(root) adds them)
    (("doctor",), "qbsync.cli.doctor"),
    (("connect", "disconnect"), "qbsync.cli.connect"),
    (("token",), "qbsync.cli.token"),
    (("daemon",), "qbsync.cli.daemon"),
    (("status",), "qbsync.cli.status"),
    (("demo",), "qbsync.cli.demo"),
    (("reconcile",), "qbsync.cli.reconcile"),
]


def _named_command(argv: list[str]) -> str | None:
    """The command a command line names, if it is one we know; else None (build everything)."""
    if os.environ.get("_QBSYNC_COMPLETE"):
        return None
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    known = {name for name, _ in GROUPS} | {n for names, _ in TOP_LEVEL for n in names}
    return first if first in known else None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qbsync {__version__}")
        raise typer.Exit()


def build(argv: list[str] | None = None) -> typer.Typer:
    """The whole app, or with `argv` only the part that command line needs."""
    from qbsync.cli.command import HELP_OPTIONS, PolishedGroup

    target = _named_command(argv) if argv is not None else None
    root = typer.Typer(
        name="qbsync",
        help="Keep a billing ledger and QuickBooks Online in two-way sync.",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_show_locals=False,  # locals could hold tokens
        cls=PolishedGroup,
        context_settings={"help_option_names": HELP_OPTIONS},
    )

    @root.callback()
    def main_options(
        version: Annotated[
            bool,
            typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
        ] = False,
    ) -> None:
        """Keep a billing ledger and QuickBooks Online in two-way sync.

        Every command takes --json (machine output) and --quiet (for cron); every listing takes
        --format table|plain|csv|tsv|json.
        """

    for name, module in GROUPS:
        if target in (None, name):
            root.add_typer(importlib.import_module(module).app, name=name)
    for names, module in TOP_LEVEL:
        if target is None or target in names:
            importlib.import_module(module).register(root)
    return root


def __getattr__(name: str) -> Any:
    """`app`, the whole command line, built on first use (tests, the reference, the demo)."""
    if name == "app":
        globals()["app"] = built = build()
        return built
    raise AttributeError(name)


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # nothing to build for it: the fastest answer
        print(f"qbsync {__version__}")
        return
    try:
        build(sys.argv[1:])(prog_name="qbsync")
    except KeyboardInterrupt:  # Ctrl-C outside a command (while starting up): the same exit
        sys.stderr.write("error: interrupted (Ctrl-C)\n")
        sys.exit(130)
