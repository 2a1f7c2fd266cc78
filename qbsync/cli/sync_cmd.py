"""`qbsync sync run|status|history|retry|cancel`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.output import Outcome, Page
from qbsync.cli.sync_run import RESULT_COLOR, render_run, run_cycles
from qbsync.errors import NotFoundError, UsageError
from qbsync.sync import cycles
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rendering loads rich: cron's `sync run --quiet` never does
    from rich.console import Console

# The cycle and the actions load the QuickBooks client (httpx): imported by the commands that
# talk to QuickBooks, so that `sync status` and `sync history` start fast.

app = group("Run the sync and look after its queue.")


@command(app, "run", render=render_run)
def run(
    company: CompanyOption = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every connected company, one after another.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read the whole 29-day change window.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and decide, send nothing, save nothing.")
    ] = False,
) -> Outcome:
    """Run one sync cycle: read QuickBooks' changes, then send what is queued.

    Exit 0 when it succeeded (exceptions raised are in its output), 1 when it failed, 3 when the
    connection needs attention, 75 when another run holds the company's lock. Ctrl-C (exit 130)
    and SIGTERM (exit 143) stop it with one line; the cycle is recorded as interrupted.
    """
    return run_cycles(company, all_, full, dry_run)


def _render_cycle(out: Console, data: dict[str, Any]) -> None:
    from qbsync.cli.render import key_value_table

    out.print(key_value_table(data, title=f"cycle {data['id']}"))


@command(app, "status", render=_render_cycle)
def status(
    cycle: Annotated[int | None, typer.Argument(help="Cycle id (default: the latest).")] = None,
    company: CompanyOption = None,
) -> dict[str, Any]:
    """Show one cycle: result, times, cursor before and after, counts."""
    with Workspace() as ws:
        if cycle is None:
            key, _ = ws.company(company)
            rows = cycles.recent(ws.store, key, 1)
            if not rows:
                raise NotFoundError(f"{key} has not synced yet", "run: qbsync sync run")
            return rows[0]
        found = cycles.get(ws.store, cycle)
        if found is None:
            raise NotFoundError(f"no cycle {cycle}", "see qbsync sync history")
        return found


def _bar(value: int, peak: int, width: int = 20) -> str:
    return "█" * (round(width * value / peak) if peak else 0)


def _render_history(out: Console, data: list[dict[str, Any]]) -> None:
    from qbsync.cli.render import cells, styled

    if not data:
        out.print("no cycles yet")
        return
    peak = max((r["ops_processed"] + r["inbound_changes"]) for r in data) or 1
    from rich.table import Table

    # Oldest to newest, one mark per cycle: the run of outcomes at a glance.
    strip = "".join(f"[{RESULT_COLOR.get(r['result'], 'white')}]▮[/]" for r in reversed(data))
    table = Table(title=f"recent cycles {strip}")
    for column in ("id", "company", "started", "result", "volume", "summary"):
        table.add_column(column)
    for r in data:
        color = RESULT_COLOR.get(r["result"], "white")
        volume = r["ops_processed"] + r["inbound_changes"]
        table.add_row(
            *cells(
                r["id"],
                r["company"],
                r["started_at"][:19].replace("T", " "),
                styled(r["result"], color),
                styled(_bar(volume, peak), color).append(f" {volume}"),
                r["summary"] or "",
            )
        )
    out.print(table)


@command(app, "history", render=_render_history)
def history(
    company: CompanyOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many cycles.")] = 20,
) -> Page:
    """Recent cycles, newest first, with a bar for each cycle's volume."""
    with Workspace() as ws:
        key = ws.company(company)[0] if company or ws.config.companies else None
        return Page(cycles.recent(ws.store, key, limit), cycles.count(ws.store, key))


@command(app, "retry")
def retry(
    op: Annotated[
        int | None, typer.Argument(metavar="ID", help="The id of an operation to retry.")
    ] = None,
    cycle: Annotated[
        int | None,
        typer.Option(
            "--cycle", metavar="ID", help="Retry the operations that failed in this cycle."
        ),
    ] = None,
    errored: Annotated[
        bool, typer.Option("--errored", help="Retry every errored operation.")
    ] = False,
    company: CompanyOption = None,
) -> dict[str, Any]:
    """Put failed or errored operations back in the queue, attempts cleared, for the next
    cycle."""
    from qbsync.sync.actions import reset_ops

    chosen = [x for x in (op is not None, cycle is not None, errored) if x]
    if len(chosen) != 1:
        raise UsageError("give exactly one of ID, --cycle ID or --errored")
    with Workspace() as ws:
        key, _ = ws.company(company)
        if op is not None:
            count = reset_ops(ws, key, op_id=op)
            if not count:
                raise NotFoundError(f"operation {op} of {key} is not failed or errored")
        elif cycle is not None:
            count = reset_ops(ws, key, cycle_id=cycle)
        else:
            count = reset_ops(ws, key, errored_only=True)
        return {"company": key, "requeued": count}


@command(app, "cancel")
def cancel(cycle: Annotated[int, typer.Argument(help="The running cycle's id.")]) -> dict[str, Any]:
    """Ask a running cycle to stop at the next operation boundary (recorded as cancelled)."""
    from qbsync.sync.actions import cancel_cycle

    with Workspace() as ws:
        return cancel_cycle(ws, cycle)
