"""`qbsync daemon`: the 15-minute cycle, for every connected company with auto-sync on."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from qbsync.cli.command import command
from qbsync.cli.output import MODE, Outcome, to_json
from qbsync.config import parse_duration
from qbsync.errors import ExitCode, UsageError
from qbsync.sync.cycle import CycleResult
from qbsync.sync.daemon import Daemon
from qbsync.workspace import Workspace


def register(root: typer.Typer) -> None:
    @command(root, "daemon")
    def daemon(
        interval: Annotated[
            str | None,
            typer.Option(
                "--interval", help="Time between a company's cycles (default: sync.interval, 15m)."
            ),
        ] = None,
        once: Annotated[
            bool, typer.Option("--once", help="One cycle per company, then exit.")
        ] = False,
    ) -> Outcome:
        """Sync every connected company with auto-sync on, each on its own schedule.

        Prints one line per cycle (JSON lines with --json). Stops cleanly on SIGTERM or SIGINT:
        the operation in flight finishes and the cycle is recorded as cancelled.
        """
        with Workspace() as ws:
            try:
                seconds = parse_duration(interval) if interval else ws.config.sync.interval
            except ValueError as err:
                raise UsageError(f"--interval: {err}") from None
            if seconds < 1:
                raise UsageError("--interval must be at least 1s")

            def line(result: CycleResult) -> None:
                if MODE.json:
                    typer.echo(to_json({"data": result.as_dict()}))
                elif not MODE.quiet:
                    typer.echo(f"{result.finished_at} {result.summary}")

            report = asyncio.run(Daemon(ws, seconds, once=once, on_cycle=line).run())
        codes = [r.exit_code for r in report.cycles]
        failed = bool(report.errors) or any(c != 0 for c in codes)
        summary: dict[str, Any] = {
            "cycles": len(report.cycles),
            "skipped": report.skipped,
            "errors": report.errors,
        }
        return Outcome(summary, ExitCode.FAILED if failed and once else ExitCode.OK)
