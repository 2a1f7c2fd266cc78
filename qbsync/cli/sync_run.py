"""`qbsync sync run`'s work, without Typer: the cycles of one company or all of them, and how
they are drawn. The command (qbsync/cli/sync_cmd.py) and cron's parse without the command line
(qbsync/cli/fast.py) both call run_cycles.

SIGTERM (a systemd unit stopped, `timeout`) stops a run as Ctrl-C does: the cycle is recorded
as `interrupted`, its claimed operations go back to the queue, the lock is released, and one
line says so; the exit code is 143 (128 + SIGTERM), as a shell reports a process it ended."""

from __future__ import annotations

import os
import signal
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from qbsync.cli.output import MODE, Outcome, say_failure, show_progress, to_json
from qbsync.errors import ExitCode, LockHeld, NotFoundError, ReconnectRequired, UsageError
from qbsync.sync import cycles
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rendering loads rich: cron's `sync run --quiet` never does
    from rich.console import Console

RESULT_COLOR = {
    "succeeded": "green",
    "failed": "red",
    "aborted": "red",
    "cancelled": "yellow",
    "interrupted": "yellow",
    "running": "cyan",
    "skipped": "yellow",
}


def render_run(out: Console, data: dict[str, Any]) -> None:
    for item in data["cycles"]:
        color = RESULT_COLOR.get(item["result"], "white")
        out.print(f"[{color}]{item['result']:>9}[/] ", end="")
        out.print(item["summary"], markup=False, highlight=False)
        stats = item.get("stats") or {}
        if "would_send" in stats:
            _render_plan(out, stats)


def _plan_line(send: dict[str, Any]) -> str:
    if "create" in send:
        body = send.get("body") or {}
        number = body.get("DocNumber") or body.get("DisplayName") or f"operation {send['op']}"
        return f"would create {send['create']} {number} (batch {send['batch']})"
    if "void" in send:
        return f"would void {send['void']} {send['id']}"
    rest = ", ".join(f"{k} {v}" for k, v in send.items() if k not in ("op", "body"))
    return f"would send operation {send['op']}: {rest}"


def _render_plan(out: Console, stats: dict[str, Any]) -> None:
    """A dry run's plan: what would be sent, in which batches, and what would open."""
    out.print("dry run, nothing sent or saved:", markup=False)
    for send in stats["would_send"]:
        out.print(f"  {_plan_line(send)}", markup=False, highlight=False)
    for opened in stats.get("would_open") or []:
        out.print(
            f"  would open {opened['kind']}: {opened['subject_id']}: {opened['message']}",
            markup=False,
            highlight=False,
        )
    if not stats["would_send"] and not stats.get("would_open"):
        out.print("  nothing to send", markup=False)


def _companies_to_run(
    ws: Workspace, company: str | None, all_: bool
) -> tuple[list[str], list[str], list[str]]:
    """(companies in turn; those of them --all leaves out because auto_sync is off; the
    companies set up but not connected, which --all names and leaves out). A company named
    with --company syncs whatever its auto_sync says."""
    if company and all_:
        raise UsageError("give --company or --all, not both")
    if not all_:
        return [ws.company(company)[0]], [], []
    from qbsync.companies.records import (
        all_rows,  # here: `sync status` starts without the secrets store
    )

    connected = {r["key"] for r in all_rows(ws.store) if r["connected"] == 1}
    keys = [k for k in ws.config.companies if k in connected]
    if not keys:
        raise NotFoundError("no connected companies", "connect one: qbsync connect --company KEY")
    unconnected = [k for k in ws.config.companies if k not in connected]
    return keys, [k for k in keys if not ws.config.companies[k].auto_sync], unconnected


class _Bars:
    """Rich progress bars on a terminal; nothing for cron, pipes, --json or --quiet."""

    def __init__(self, stack: ExitStack):
        self.progress = None
        self.tasks: dict[str, Any] = {}
        if show_progress():
            from qbsync.cli.render import progress_bars

            self.progress = stack.enter_context(progress_bars())

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1))
        self.progress.update(self.tasks[stage], completed=done, total=max(total, 1))


TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, as Ctrl-C is KeyboardInterrupt: the same clean-up runs on the way out (the
    cycle recorded, its work released, the lock let go)."""


class _SigtermStops:
    """While a run goes, SIGTERM stops it as Ctrl-C does under asyncio.run: a running cycle's
    tasks are cancelled (their `finally` blocks run, the request in flight is let go), and the
    cancellation that comes out of the cycle is Terminated; outside a cycle, Terminated is
    raised where the process is. Once: a second SIGTERM while cleaning up is not acted on."""

    def __init__(self) -> None:
        self.received = False
        self._before: Any = None

    def __enter__(self) -> _SigtermStops:
        try:
            self._before = signal.signal(signal.SIGTERM, self._stop)
        except ValueError:  # not the main thread: SIGTERM is left as it is
            self._before = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._before is not None:
            signal.signal(signal.SIGTERM, self._before)

    def _stop(self, signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.received = True
        asyncio = sys.modules.get("asyncio")  # loaded by a cycle; none without one
        try:
            loop = asyncio.get_running_loop() if asyncio else None
        except RuntimeError:
            loop = None
        if asyncio is None or loop is None:
            raise Terminated
        # Raising here, inside the event loop, would leave a task failed with it and asyncio's
        # "exception was never retrieved" on stderr: cancel the cycle's tasks instead.
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.call_soon_threadsafe(lambda: None)  # wake the loop from its wait

    def how(self, stop: BaseException) -> str | None:
        """What ended a cycle with `stop`: "SIGTERM", "Ctrl-C", or None for anything else."""
        if isinstance(stop, Terminated):
            return "SIGTERM"
        if isinstance(stop, KeyboardInterrupt):
            return "Ctrl-C"
        cancelled = getattr(sys.modules.get("asyncio"), "CancelledError", None)
        if self.received and cancelled is not None and isinstance(stop, cancelled):
            return "SIGTERM"
        return None


def _terminated() -> None:
    """One line on stderr (`{"error": ...}` on stdout under --json), exit 143."""
    if MODE.json:
        error = {"code": "interrupted", "message": "interrupted (SIGTERM)", "hint": None}
        sys.stdout.write(to_json({"error": error}) + "\n")
        sys.stdout.flush()
    if MODE.quiet or not MODE.json:  # --quiet too: cron's mail and the journal say why
        say_failure("interrupted (SIGTERM)")
    raise SystemExit(TERMINATED)


def run_cycles(company: str | None, all_: bool, full: bool, dry_run: bool) -> Outcome:
    """One cycle for `company` (or each connected company with auto_sync on, for --all)."""
    try:
        with _SigtermStops() as stops:
            return _run_cycles(stops, company, all_, full, dry_run)
    except Terminated:
        _terminated()
        raise  # not reached: _terminated exits


def _run_cycles(
    stops: _SigtermStops, company: str | None, all_: bool, full: bool, dry_run: bool
) -> Outcome:
    from qbsync.sync.cycle import run_cycle

    results: list[dict[str, Any]] = []
    with Workspace() as ws, ExitStack() as stack:
        bars = _Bars(stack)
        keys, off, unconnected = _companies_to_run(ws, company, all_)
        results += [
            {
                "company": key,
                "result": "skipped",
                "summary": f"{key}: skipped: not connected (connect it: qbsync connect "
                f"--company {key})",
                "exit_code": ExitCode.OK,
            }
            for key in unconnected
        ]
        for key in keys:
            if key in off:
                results.append(
                    {
                        "company": key,
                        "result": "skipped",
                        "summary": f"{key}: skipped: auto_sync is off "
                        f"(sync it by name: qbsync sync run --company {key})",
                        "exit_code": ExitCode.OK,
                    }
                )
                continue
            try:
                result = run_cycle(
                    ws, key, full=full, dry_run=dry_run, trigger="manual", progress=bars
                )
            except (LockHeld, ReconnectRequired) as err:
                # Another run holds it, or it was disconnected since this run began: the
                # others still sync.
                if len(keys) == 1:
                    raise
                code = ExitCode.TEMPFAIL if isinstance(err, LockHeld) else ExitCode.RECONNECT
                results.append(
                    {
                        "company": key,
                        "result": "skipped",
                        "summary": f"{key}: skipped: {err.message}",
                        "exit_code": code,
                    }
                )
                continue
            except BaseException as stop:
                how = stops.how(stop)  # Ctrl-C or SIGTERM; anything else goes on as it is
                if how is None:
                    raise
                cycles.interrupt(ws.store, os.getpid(), how)  # not left running; work released
                if how == "SIGTERM" and not isinstance(stop, Terminated):
                    raise Terminated from None
                raise
            results.append(result.as_dict())
    return Outcome({"cycles": results}, worst_exit([r["exit_code"] for r in results]))


def worst_exit(codes: list[int]) -> int:
    """Reconnect beats failure beats a skipped company beats success."""
    for code in (ExitCode.RECONNECT, ExitCode.FAILED, ExitCode.TEMPFAIL):
        if code in codes:
            return code
    return ExitCode.OK
