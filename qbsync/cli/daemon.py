"""`qbsync daemon`: the 15-minute cycle, for every connected company with auto-sync on.

Made for systemd and cron: nothing on stdout (JSON lines only when --json asks for them), logs
to stderr under systemd (journald) and to the shared log file otherwise, exit 78 (EX_CONFIG) with
one line on stderr when no company can be synced, so that `Restart=on-failure` tries again. A
person at a terminal also sees one line per cycle on stderr; nohup, a redirect or cron do not
(the log file has each line already)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from qbsync.cli.command import command
from qbsync.cli.output import MODE, failure_lines, note, say_failure, to_json
from qbsync.cli.sync_run import worst_exit
from qbsync.config import parse_duration
from qbsync.errors import ExitCode, UsageError
from qbsync.sync.cycle import CycleResult
from qbsync.workspace import Workspace

EX_CONFIG = 78  # sysexits.h: nothing to run with this configuration


def _no_company(why: dict[str, str]) -> None:
    detail = ", ".join(f"{k}: {w}" for k, w in why.items()) or "no company in config.yaml"
    message = f"no company to sync ({detail})"
    hint = "connect one with qbsync connect --company KEY (auto_sync on), then start the daemon"
    if MODE.json:
        typer.echo(to_json({"error": {"code": "config", "message": message, "hint": hint}}))
    else:  # --quiet or not: one line, for the journal and for cron's mail
        say_failure(message, hint)
    raise typer.Exit(EX_CONFIG)


def register(root: typer.Typer) -> None:
    @command(root, "daemon")
    def daemon(
        interval: Annotated[
            str | None,
            typer.Option(
                "--interval",
                help="Time between a company's cycles, with a unit: 90s, 15m, 1h (default: "
                "sync.interval, read again every cycle).",
            ),
        ] = None,
        once: Annotated[
            bool, typer.Option("--once", help="One cycle per company, then exit.")
        ] = False,
    ) -> None:
        """Sync every connected company with auto-sync on, each on its own schedule.

        The company list and settings are read again every cycle and on SIGHUP. Prints nothing
        on stdout (one JSON line per cycle with --json); logs each cycle to stderr under
        systemd and to the log file otherwise. Exits 78 with one line when no company can be
        synced. Stops cleanly on SIGTERM or SIGINT: the operation in flight finishes (a wait to
        retry a request ends at once) and the cycle is recorded as cancelled; exit 0. With
        --once it exits as sync run does: 1 when a cycle failed, 3 when a connection needs
        reconnecting.
        """
        from qbsync import logs
        from qbsync.sync.daemon import Daemon, runnable_companies

        if logs.under_systemd():
            logs.log_to_stderr()
        with Workspace() as ws:
            try:
                seconds = parse_duration(interval) if interval else None
            except ValueError as err:
                raise UsageError(f"--interval: {err}") from None
            if seconds is not None and seconds < 1:
                raise UsageError("--interval must be at least 1s")
            why = runnable_companies(ws)
            if not any(not reason for reason in why.values()):
                _no_company(why)

            # The cycle's line on stderr for a person at a terminal; under systemd stderr is the
            # journal, which has the log's line already, and so has the log file elsewhere.
            at_terminal = sys.stderr.isatty() and not logs.under_systemd()

            def line(result: CycleResult) -> None:
                if MODE.json:
                    typer.echo(to_json({"data": result.as_dict()}))
                elif at_terminal:
                    note(f"{result.finished_at} {result.summary}")  # stderr; not with --quiet

            report = asyncio.run(Daemon(ws, seconds, once=once, on_cycle=line).run())
        # As `sync run`: 3 when a connection needs reconnecting, else 1 when anything failed.
        code = worst_exit([r.exit_code for r in report.cycles])
        if report.errors and code == ExitCode.OK:
            code = ExitCode.FAILED
        if once and code:
            if not MODE.json:
                for error in report.errors:
                    say_failure(error, "qbsync status --all says what to do next")
                failing = [r.as_dict() for r in report.cycles if r.exit_code]
                for what, hint in failure_lines({"cycles": failing}, code) if failing else []:
                    say_failure(what, hint)  # as `sync run` says it
            raise typer.Exit(code)
