"""The qbsync command line: a registration table of command groups and top-level commands.

Each entry names a module. Group modules expose `app` (a Typer group); top-level modules expose
`register(root)`. Add a row when an issue lands its commands, and its summary to
qbsync/cli/root_help.py; `--help` lists what exists.

The root group is lazy: a command's module is imported only when that command runs, its help is
printed or it is completed, so cron's `qbsync sync run` never loads the simulator or the wizard.
`--version` and the root help are answered before Typer is even imported (the root help from the
static table in root_help.py, which a test holds to the real commands).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from qbsync import __version__

if TYPE_CHECKING:
    import typer

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


def _module_of(name: str) -> tuple[str, bool] | None:
    """The module that registers command `name`, and whether it is a group."""
    for group, module in GROUPS:
        if group == name:
            return module, True
    for names, module in TOP_LEVEL:
        if name in names:
            return module, False
    return None


def command_names() -> list[str]:
    """Every root command, in help order: the top-level commands, then the groups."""
    return [n for names, _ in TOP_LEVEL for n in names] + [name for name, _ in GROUPS]


def _version(value: bool) -> None:
    if value:
        import typer

        typer.echo(f"qbsync {__version__}")
        raise typer.Exit()


def _load(name: str) -> Any:
    """The click command for root command `name`, its module imported now; None if unknown."""
    import typer

    found = _module_of(name)
    if found is None:
        return None
    module, is_group = found
    holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_show_locals=False)
    if is_group:
        holder.add_typer(importlib.import_module(module).app, name=name)
    else:
        importlib.import_module(module).register(holder)
    return typer.main.get_group(holder).commands.get(name)


def _lazy_root() -> type:
    """The root group's class: commands listed from the table, each loaded on first use."""
    from qbsync.cli.command import PolishedGroup
    from qbsync.cli.root_help import SUMMARIES, short_help

    class LazyRoot(PolishedGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            return command_names()

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name not in self.commands:
                command = _load(cmd_name)
                if command is None:
                    return None
                self.commands[cmd_name] = command
            return self.commands[cmd_name]

        def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
            # Root completion from the static table: a TAB imports no command's module.
            from typer.core import CompletionItem, TyperGroup

            items = [
                CompletionItem(name, help=short_help(summary, 45))
                for name, summary in SUMMARIES
                if name.startswith(incomplete)
            ]
            return items + super(TyperGroup, self).shell_complete(ctx, incomplete)

    return LazyRoot


def build() -> typer.Typer:
    """The whole app; each command's module is imported when that command is first used."""
    import typer

    from qbsync.cli.command import HELP_OPTIONS

    root = typer.Typer(
        name="qbsync",
        help="Keep a billing ledger and QuickBooks Online in two-way sync.",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_show_locals=False,  # locals could hold tokens
        cls=_lazy_root(),
        context_settings={"help_option_names": HELP_OPTIONS},
    )

    @root.callback()
    def main_options(
        version: bool = typer.Option(  # not Annotated: typer is not a module global here
            False, "--version", callback=_version, is_eager=True, help="Show the version."
        ),
    ) -> None:
        """Keep a billing ledger and QuickBooks Online in two-way sync.

        Every command takes --json (machine output) and --quiet (for cron); every listing takes
        --format table|plain|csv|tsv|json.
        """

    return root


def __getattr__(name: str) -> Any:
    """`app`, the whole command line, built on first use (tests, the reference, the demo)."""
    if name == "app":
        globals()["app"] = built = build()
        return built
    raise AttributeError(name)


def main() -> None:
    import os

    argv = sys.argv[1:]
    if argv == ["--version"]:  # nothing to build for it: the fastest answer
        print(f"qbsync {__version__}")
        return
    if argv in ([], ["--help"], ["-h"]) and not os.environ.get("_QBSYNC_COMPLETE"):
        from qbsync.cli.root_help import render

        # Bare `qbsync` is a usage error that shows the help (stderr, exit 2), as Click does.
        (sys.stdout if argv else sys.stderr).write(render())
        if not argv:
            sys.exit(2)
        return
    # qbsync uses no pydantic plugins; looking for them scans every installed package's entry
    # points on the first model (tens of milliseconds on every start).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        if argv[:2] == ["sync", "run"]:  # cron's command, read without Typer when it can be
            from qbsync.cli.fast import sync_run

            if sync_run(argv[2:]):
                return
        build()(prog_name="qbsync")
    except KeyboardInterrupt:  # Ctrl-C outside a command (while starting up): the same exit
        sys.stderr.write("error: interrupted (Ctrl-C)\n")
        sys.exit(130)
