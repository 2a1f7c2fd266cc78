"""`qbsync demo`: the whole story on the embedded simulator, offline, in under a minute."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from qbsync.cli.command import command
from qbsync.cli.output import MODE, show_progress
from qbsync.cli.render import Console, console, progress_bars, safe
from qbsync.cli.status import panel
from qbsync.demo.story import Progress, Step, run_story


def _render(out: Console, data: dict[str, Any]) -> None:
    if data.get("health"):
        out.print(panel(data["health"]))
    where = data["home"] if data["kept"] else "its temporary home (removed)"
    out.print(f"Done in {data['seconds']:.1f} s; the demo ran in {where}.", markup=False)
    out.print("\nExplore further:", style="bold")
    for line in data["explore"]:
        out.print(f"  {line}", markup=False, highlight=False)


def _print_step(step: Step) -> None:
    if MODE.json or MODE.quiet:
        return
    out = console()
    out.print(f"[green]✓[/] [bold]{safe(step.name)}[/]", end="")
    if step.command:
        out.print(f"  [dim]$ {safe(step.command)}[/]", end="")
    out.print()
    out.print(f"    {step.detail}", markup=False, highlight=False)


@contextlib.contextmanager
def _bars() -> Iterator[Progress]:
    """Progress bars for a cycle on a terminal; nothing otherwise."""
    if not show_progress():
        yield lambda stage, done, total: None
        return
    tasks: dict[str, Any] = {}
    with progress_bars("    ") as bars:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=max(total, 1))
            bars.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


def _run_in_process(argv: list[str]) -> tuple[int, str, str]:
    """Run a qbsync command line in this process for the demo story: (exit code, stdout,
    stderr). The output mode is restored after, so the step's --json stays out of the demo's own
    output."""
    from qbsync.cli.app import app

    saved = (MODE.json, MODE.quiet, MODE.format)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = typer.main.get_command(app).main(
                args=argv, prog_name="qbsync", standalone_mode=False
            )
    except SystemExit as exit_:  # a failure: the command ends the process with its exit code
        code = exit_.code
    finally:
        MODE.json, MODE.quiet, MODE.format = saved
    return (0 if code is None else int(code)), out.getvalue(), err.getvalue()


def register(root: typer.Typer) -> None:
    @command(root, "demo", render=_render)
    def demo(
        home: Annotated[
            Path | None,
            typer.Option(
                "--home",
                help="Keep the demo's workspace in this new or empty directory "
                "(default: a temporary one, removed at the end).",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """The whole story on the embedded QuickBooks Online simulator, offline, in seconds.

        Starts the simulator, connects through the real OAuth flow, imports a sample ledger and
        mappings, matches customers, syncs, has a QuickBooks user record a payment and edit an
        invoice, syncs again, resolves the drift and shows the health panel. Nothing configured
        is needed and nothing is left behind (unless --home). Secrets go to a 0600 file inside
        the demo's home.
        """
        if not MODE.json and not MODE.quiet:
            console().print(
                "qbsync demo: a QuickBooks Online simulator, a sample ledger, two-way sync. "
                "Secrets stay in a 0600 file inside the demo's own home.",
                style="bold",
            )
        story = run_story(
            _run_in_process, str(home) if home else None, on_step=_print_step, progress=_bars
        )
        return story.as_dict()
