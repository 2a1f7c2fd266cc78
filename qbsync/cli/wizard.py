"""`qbsync wizard [customers|history|go-live]`: link what already exists in QuickBooks before
the first export. Bare `qbsync wizard` at a terminal runs every step interactively."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, PolishedGroup, command
from qbsync.cli.output import can_prompt, plural
from qbsync.cli.render import Console, console, rows_table
from qbsync.cli.runner import run_command
from qbsync.errors import UsageError
from qbsync.wizard import golive, service
from qbsync.wizard.interactive import Quit, Wizard, render_go_live
from qbsync.workspace import Workspace

app = typer.Typer(
    help="Reconcile before go-live: match customers, link invoice history, set the cutover.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    cls=PolishedGroup,
)

PlanOut = Annotated[
    Path | None, typer.Option("--plan-out", help="Write the proposed decisions to this YAML file.")
]
PlanIn = Annotated[
    Path | None,
    typer.Option("--plan", help="Apply an edited plan file (all-or-nothing).", exists=False),
]
Revisit = Annotated[
    bool, typer.Option("--revisit", help="Ask again about what was skipped before.")
]


def _interactive(company: str | None, revisit: bool) -> None:
    """Every step, at a terminal; a `q` stops it with what was decided saved."""
    with Workspace() as ws:
        key, _ = ws.company(company)
        Wizard(ws, key, console(), revisit=revisit).run_all()


@app.callback()
def wizard_main(
    ctx: typer.Context,
    company: CompanyOption = None,
    revisit: Revisit = False,
) -> None:
    """Reconcile before go-live: match customers, link invoice history, set the cutover.

    Bare, at a terminal: every step, interactively (resumable: each decision is saved as it is
    made). Scripted: the customers, history and go-live commands with --json, --plan-out and
    --plan.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not (can_prompt() and sys.stdout.isatty()):
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    run_command(_interactive, None, company, revisit)


def _exclusive(**flags: Any) -> None:
    given = [name for name, value in flags.items() if value]
    if len(given) > 1:
        raise UsageError(f"give only one of {', '.join('--' + g.replace('_', '-') for g in given)}")


def _render_customers(out: Console, data: dict[str, Any]) -> None:
    if not data:
        return
    if "counts" in data:
        out.print(
            ", ".join(f"{v} {k}" for k, v in data["counts"].items()), markup=False, highlight=False
        )
    if data.get("accepted") is not None:
        accepted = plural(len(data["accepted"]), "exact match", "exact matches")
        out.print(f"mapped {accepted}", markup=False)
    rows = [
        {
            "client": p["client_id"],
            "name": p["client_name"],
            "status": p["status"],
            "best": (p["candidates"] or [{}])[0].get("name") if p["candidates"] else None,
            "score": (p["candidates"] or [{}])[0].get("score") if p["candidates"] else None,
            "inactive": ", ".join(c["name"] for c in p["inactive"]) or None,
            "why": p["why"],
        }
        for p in data.get("proposals", [])
    ]
    if rows:
        out.print(rows_table(rows))
    for key in ("plan", "linked", "created", "skipped", "left_for_review"):
        if key in data:
            out.print(f"{key}: {data[key]}", markup=False, highlight=False)


@command(app, "customers", render=_render_customers)
def customers(
    company: CompanyOption = None,
    accept_exact: Annotated[
        bool, typer.Option("--accept-exact", help="Map every exact match, ask nothing.")
    ] = False,
    plan_out: PlanOut = None,
    plan: PlanIn = None,
    revisit: Revisit = False,
) -> dict[str, Any]:
    """Match ledger clients to QuickBooks customers (exact, fuzzy, review, inactive apart).

    At a terminal with no option: interactive. Otherwise it shows the proposals; --accept-exact
    maps the exact matches; --plan-out FILE writes the proposals for editing; --plan FILE applies
    an edited plan, all-or-nothing (exit 2 and nothing written when an entry is wrong).
    """
    _exclusive(accept_exact=accept_exact, plan_out=plan_out, plan=plan)
    with Workspace() as ws:
        key, _ = ws.company(company)
        if plan is not None:
            return service.apply_customers_plan(ws, key, plan)
        if plan_out is not None:
            return service.customers_plan_out(ws, key, plan_out)
        if not accept_exact and can_prompt():
            wizard = Wizard(ws, key, console(), revisit=revisit)
            try:
                wizard.customers()
            except Quit:
                wizard.out.print("stopped; every decision so far is saved.")
            return {}
        from qbsync.wizard.customers import accept_exact as accept

        step = service.customer_step(ws, key)
        summary = service.customers_summary(step)
        if accept_exact:
            summary["accepted"] = accept(ws.store, step, source="accept-exact")
            summary["proposals"] = [p for p in summary["proposals"] if p["status"] != "exact"]
        return summary


def _render_history(out: Console, data: dict[str, Any]) -> None:
    if not data:
        return
    if "counts" in data:
        out.print(
            ", ".join(f"{v} {k}" for k, v in data["counts"].items()), markup=False, highlight=False
        )
    rows = [
        {k: p[k] for k in ("invoice", "number", "total", "status", "qbo_id", "why")}
        for p in data.get("proposals", [])
    ]
    if rows:
        out.print(rows_table(rows))
    for key in (
        "plan",
        "linked",
        "payments_read",
        "payments_applied",
        "payments_waiting",
        "skipped",
        "left_for_review",
    ):
        if key in data:
            out.print(f"{key}: {data[key]}", markup=False, highlight=False)


@command(app, "history", render=_render_history)
def history_cmd(
    company: CompanyOption = None,
    accept_confident: Annotated[
        bool, typer.Option("--accept-confident", help="Link every confident match, ask nothing.")
    ] = False,
    plan_out: PlanOut = None,
    plan: PlanIn = None,
    revisit: Revisit = False,
) -> dict[str, Any]:
    """Link invoices already in QuickBooks to the ledger's, so the sync never exports them.

    Confident: the same number, the same amount before tax to the cent, and the same customer
    when the client is mapped. Anything else goes to review with its reason. Payments recorded
    in QuickBooks for linked invoices are read back into the ledger.
    """
    _exclusive(accept_confident=accept_confident, plan_out=plan_out, plan=plan)
    with Workspace() as ws:
        key, _ = ws.company(company)
        if plan is not None:
            return service.apply_history_plan(ws, key, plan)
        if plan_out is not None:
            return service.history_plan_out(ws, key, plan_out)
        if not accept_confident and can_prompt():
            wizard = Wizard(ws, key, console(), revisit=revisit)
            try:
                wizard.history()
            except Quit:
                wizard.out.print("stopped; every decision so far is saved.")
            return {}
        proposals = service.history_proposals(ws, key)
        summary = service.history_summary(key, proposals)
        if accept_confident:
            chosen = [
                (p.invoice_id, p.entity, p.doc)
                for p in proposals
                if p.status == "confident" and p.doc is not None
            ]
            summary.update(service.link_history(ws, key, chosen, source="accept-confident"))
            summary["proposals"] = [p for p in summary["proposals"] if p["status"] != "confident"]
        return summary


@command(app, "go-live", render=render_go_live)
def go_live(
    company: CompanyOption = None,
    date: Annotated[
        dt.datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="The cutover date (YYYY-MM-DD)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the go-live date.")] = False,
) -> dict[str, Any]:
    """Set the go-live date and show what the first cycle will export.

    Documents dated before it stay out of the automatic sync. Without --date: show the current
    date and the preview.
    """
    _exclusive(date=date, clear=clear)
    with Workspace() as ws:
        key, settings = ws.company(company)
        when = settings.go_live
        if date is not None or clear:
            when = date.date() if date else None
            golive.set_go_live(ws, key, when)
        return golive.preview(ws.store, key, when)
