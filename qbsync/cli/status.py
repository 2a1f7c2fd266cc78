"""`qbsync status`: the Sync Health panel, per company."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command
from qbsync.cli.output import MODE, Outcome
from qbsync.config import format_duration
from qbsync.errors import ExitCode, UsageError
from qbsync.health import workspace_health
from qbsync.timeutil import parse_iso, utc_now
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from qbsync.cli.render import Console

_BORDER = {"green": "green", "yellow": "yellow", "red": "red"}
_LABEL = {"green": "healthy", "yellow": "needs a look", "red": "needs attention"}
_RESULT = {
    "succeeded": "green",
    "failed": "red",
    "aborted": "red",
    "cancelled": "yellow",
    "interrupted": "yellow",
}


def _ago(iso: str | None, now: dt.datetime) -> str:
    if not iso:
        return "-"
    seconds = int((now - parse_iso(iso)).total_seconds())
    return f"{_span(abs(seconds))} {'ago' if seconds >= 0 else 'from now'}"


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _when(iso: str) -> str:
    return parse_iso(iso).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _token_line(tokens: dict[str, Any]) -> str:
    parts = []
    for label, key in (
        ("access", "access_expires"),
        ("refresh", "refresh_expires"),
        ("hard cap", "refresh_hard_expires"),
    ):
        t = tokens.get(key)
        if t is None:
            continue
        left = t["seconds_left"]
        parts.append(f"{label} {'expired' if left <= 0 else 'in ' + _span(left)}")
    return ", ".join(parts) if parts else "no tokens"


def panel(data: dict[str, Any], now: dt.datetime | None = None) -> Panel:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    now = now or utc_now()
    level = data["level"]
    rows = Text()

    def line(label: str, value: str | Text) -> None:
        rows.append(f"{label:<14}", style="bold")
        rows.append(value if isinstance(value, Text) else Text(value))
        rows.append("\n")

    last = data["last_cycle"]
    if last is None:
        line("Last cycle", "never")
    else:
        value = Text()
        value.append(last["result"], style=_RESULT.get(last["result"], ""))
        value.append(f" {_ago(last['started_at'], now)} (#{last['id']}) ")
        value.append(last["summary"] or last["error"] or "", style="dim")
        line("Last cycle", value)
    if data["running_cycle"]:
        line("Running", f"cycle #{data['running_cycle']}")
    ops = data["ops"]
    queue = f"{ops['queued']} pending, {ops['errored']} errored"
    if ops["retrying"]:
        queue += f" ({ops['retrying']} retrying)"
    if ops["held_before_go_live"]:
        queue += f"; {ops['held_before_go_live']} held before go-live"
    line("Queue", queue)
    by_kind = ", ".join(f"{k} {n}" for k, n in data["open_exceptions_by_kind"].items())
    line("Exceptions", f"{data['open_exceptions']} open" + (f" ({by_kind})" if by_kind else ""))
    line("Drift", str(data["drift"]))
    if data["needs_reconnect"]:
        conn = "needs reconnect"
    elif data["connected"]:
        conn = f"connected ({data['environment']}, realm {data['realm_id']})"
    else:
        conn = "not connected"
    line("Connection", conn)
    # Refused by QuickBooks, the stored tokens' times say nothing: none of them works.
    line("Tokens", "refused: reconnect" if data["needs_reconnect"] else _token_line(data["tokens"]))
    auto = "on" if data["auto_sync"] else "off"
    if data["auto_sync"]:
        auto += f", every {format_duration(data['interval_seconds'])}"
        nxt = data["next_cycle"]
        if data["needs_reconnect"]:
            auto += "; no cycle runs until it is reconnected"
        elif nxt:
            auto += "; next cycle " + ("due now" if nxt["overdue"] else _when(nxt["at"]))
    line("Auto-sync", auto)
    line("Go-live", data["go_live"] or "not set (everything finalized goes out)")
    for problem in data["problems"]:
        rows.append("• ", style=_BORDER[level])
        rows.append(problem + "\n")
    nxt_text = Text()
    nxt_text.append("Next: ", style="bold")
    nxt_text.append(data["next"]["command"], style="bold cyan")
    nxt_text.append(f"  ({data['next']['why']})", style="dim")
    title = f"{data['company']}" + (f" · {data['name']}" if data["name"] else "")
    return Panel(
        Group(rows, nxt_text),
        title=Text(title, style="bold"),
        subtitle=f"[{_BORDER[level]}]{_LABEL[level]}[/]",
        border_style=_BORDER[level],
        expand=False,
    )


def _render(out: Console, data: dict[str, Any]) -> None:
    for company in data["companies"]:
        out.print(panel(company))


def register(root: typer.Typer) -> None:
    @command(root, "status", render=_render)
    def status(
        company: CompanyOption = None,
        all_: Annotated[bool, typer.Option("--all", help="One panel per company.")] = False,
        watch: Annotated[
            bool, typer.Option("--watch", "-w", help="Refresh in place until Ctrl-C.")
        ] = False,
        every: Annotated[
            float, typer.Option("--every", min=0.2, help="Seconds between refreshes (--watch).")
        ] = 2.0,
    ) -> Outcome | None:
        """Sync health: last cycle, queue, exceptions, drift, tokens, schedule, and the one next
        thing to do. Green when nothing waits, yellow or red otherwise. Reads only the local
        store (no QuickBooks call).

        Exits 0 when green or yellow, 1 when red, 3 when a connection needs reconnecting (the
        worst company decides with --all)."""
        if company and all_:
            raise UsageError("give --company or --all, not both")
        if watch and MODE.json:
            raise UsageError("--watch is for people; with --json, poll `qbsync status --json`")
        if watch:
            _watch(company, all_, every)
            return None
        with Workspace() as ws:
            items = workspace_health(ws.store, ws.config, company, all_)
        return Outcome({"companies": items}, health_exit(items))


def health_exit(items: list[dict[str, Any]]) -> int:
    """3 when any company needs reconnecting, else 1 when any is red, else 0."""
    if any(item["needs_reconnect"] for item in items):
        return ExitCode.RECONNECT
    if any(item["level"] == "red" for item in items):
        return ExitCode.FAILED
    return ExitCode.OK


def _watch(company: str | None, all_: bool, every: float) -> None:
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from qbsync.cli.render import console

    def frame() -> Group:
        with Workspace() as ws:
            items = workspace_health(ws.store, ws.config, company, all_)
        stamp = Text(f"updated {utc_now():%H:%M:%S} UTC · Ctrl-C to stop", style="dim")
        return Group(*(panel(item) for item in items), stamp)

    out = console()
    try:
        with Live(frame(), console=out, auto_refresh=False) as live:
            while True:
                time.sleep(every)
                live.update(frame(), refresh=True)
    except KeyboardInterrupt:
        pass
