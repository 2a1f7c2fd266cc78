"""The qbsync command line: a registration table of command groups and top-level commands.

Each entry names a module. Group modules expose `app` (a Typer group); top-level modules expose
`register(root)`. Add a row when an issue lands its commands; `--help` lists what exists.
"""

from __future__ import annotations

import importlib
from typing import Annotated

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
]

TOP_LEVEL: list[str] = [
    # modules whose register(root) adds top-level commands
    "qbsync.cli.doctor",
    "qbsync.cli.connect",
    "qbsync.cli.token",
    "qbsync.cli.daemon",
    "qbsync.cli.status",
    "qbsync.cli.demo",
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qbsync {__version__}")
        raise typer.Exit()


def build() -> typer.Typer:
    root = typer.Typer(
        name="qbsync",
        help="Keep a billing ledger and QuickBooks Online in two-way sync.",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_show_locals=False,  # locals could hold tokens
    )

    @root.callback()
    def main_options(
        version: Annotated[
            bool,
            typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
        ] = False,
    ) -> None:
        """Keep a billing ledger and QuickBooks Online in two-way sync.

        Every command takes --json (machine output) and --quiet (for cron). Exit codes: 0 done,
        1 failed, 2 bad usage or input, 3 reconnect needed, 75 another run holds the lock.
        """

    for name, module in GROUPS:
        root.add_typer(importlib.import_module(module).app, name=name)
    for module in TOP_LEVEL:
        importlib.import_module(module).register(root)
    return root


app = build()


def main() -> None:
    app(prog_name="qbsync")
