"""`qbsync doctor`: diagnostics, each check ok/warn/fail with its fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command
from qbsync.cli.output import Outcome
from qbsync.doctor.runner import run_checks
from qbsync.errors import ExitCode
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console

_MARK = {"ok": "[green]  ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]fail[/]"}


def _render(out: Console, data: dict[str, Any]) -> None:
    for item in data["checks"]:
        out.print(f"{_MARK[item['status']]}  [bold]{item['name']}[/]: ", end="")
        out.print(item["detail"], markup=False, highlight=False)
        if item["fix"] and item["status"] != "ok":
            out.print(f"      fix: {item['fix']}", markup=False, highlight=False)


def register(root: typer.Typer) -> None:
    @command(root, "doctor", render=_render)
    def doctor(
        company: CompanyOption = None,
        refresh: Annotated[
            bool,
            typer.Option(
                "--refresh",
                help="Read the company's preferences (currency, tax) from QuickBooks again now.",
            ),
        ] = False,
    ) -> Outcome:
        """Diagnose config, store, secrets and clock (and the QuickBooks side once connected).

        Exits 1 when any check fails; warnings alone exit 0.
        """
        with Workspace() as ws:
            checks = [c.as_dict() for c in run_checks(ws, company, refresh=refresh)]
        statuses = {c["status"] for c in checks}
        worst = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"
        code = ExitCode.FAILED if worst == "fail" else ExitCode.OK
        return Outcome({"status": worst, "checks": checks}, code)
