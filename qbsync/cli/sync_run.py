"""`qbsync sync run`'s work, without Typer: the cycles of one company or all of them, and how
they are drawn. The command (qbsync/cli/sync_cmd.py) and cron's parse without the command line
(qbsync/cli/fast.py) both call run_cycles."""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from qbsync.cli.output import Outcome, show_progress
from qbsync.errors import ExitCode, LockHeld, NotFoundError, UsageError
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
) -> tuple[list[str], list[str]]:
    """(companies in turn, those of them --all leaves out because auto_sync is off). A company
    named with --company syncs whatever its auto_sync says."""
    if company and all_:
        raise UsageError("give --company or --all, not both")
    if not all_:
        return [ws.company(company)[0]], []
    from qbsync.companies.records import (
        all_rows,  # here: `sync status` starts without the secrets store
    )

    keys = [
        r["key"]
        for r in all_rows(ws.store)
        if r["connected"] == 1 and r["key"] in ws.config.companies
    ]
    if not keys:
        raise NotFoundError("no connected companies", "connect one: qbsync connect --company KEY")
    return keys, [k for k in keys if not ws.config.companies[k].auto_sync]


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


def run_cycles(company: str | None, all_: bool, full: bool, dry_run: bool) -> Outcome:
    """One cycle for `company` (or each connected company with auto_sync on, for --all)."""
    from qbsync.sync.cycle import run_cycle

    results: list[dict[str, Any]] = []
    with Workspace() as ws, ExitStack() as stack:
        bars = _Bars(stack)
        keys, off = _companies_to_run(ws, company, all_)
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
            except KeyboardInterrupt:
                cycles.interrupt(ws.store, os.getpid())  # not left running; its work released
                raise
            except LockHeld as err:
                if len(keys) == 1:
                    raise
                results.append(
                    {
                        "company": key,
                        "result": "skipped",
                        "summary": f"{key}: skipped: {err.message}",
                        "exit_code": ExitCode.TEMPFAIL,
                    }
                )
                continue
            results.append(result.as_dict())
    return Outcome({"cycles": results}, worst_exit([r["exit_code"] for r in results]))


def worst_exit(codes: list[int]) -> int:
    """Reconnect beats failure beats a skipped company beats success."""
    for code in (ExitCode.RECONNECT, ExitCode.FAILED, ExitCode.TEMPFAIL):
        if code in codes:
            return code
    return ExitCode.OK
