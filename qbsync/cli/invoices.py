"""`qbsync invoices list|show|export|open|void`."""

from __future__ import annotations

import datetime as dt
import sys
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.confirm import YesOption, confirm
from qbsync.cli.output import MODE, Page
from qbsync.errors import NotFoundError, UsageError
from qbsync.sync import links
from qbsync.views import sync_state as views
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console
    from qbsync.sync.context import CycleContext

app = group("Ledger invoices and credit notes, with their QuickBooks sync state.")

_STATE_COLOR = {
    "synced": "green",
    "queued": "cyan",
    "drift": "yellow",
    "error": "red",
    "voided": "dim",
    "not synced": "white",
}


def _render_list(out: Console, rows: list[dict[str, Any]]) -> None:
    from qbsync.cli.render import cells, styled

    if not rows:
        out.print("no invoices")
        return
    from rich.table import Table

    table = Table(title="invoices")
    for column in (
        "id",
        "number",
        "type",
        "status",
        "date",
        "client",
        "total",
        "paid",
        "balance",
        "QuickBooks",
    ):
        money = column in ("total", "paid", "balance")
        table.add_column(column, justify="right" if money else "left")
    for r in rows:
        color = _STATE_COLOR.get(r["sync_state"], "white")
        table.add_row(
            *cells(
                r["id"],
                r["number"],
                r["type"],
                f"held: {r['held']}" if r.get("held") else r["status"],
                r["date"],
                r["client"] or "-",
                r["total"],
                r["paid"],
                r["balance"],
                styled(r["sync_state"], color),
            )
        )
    out.print(table)
    for r in rows:
        if r.get("held"):
            out.print(f"{r['id']} held ({r['held']}): {r['held_reason']}", markup=False)


@command(app, "list", render=_render_list)
def list_(
    company: CompanyOption = None,
    state: Annotated[
        str | None,
        typer.Option("--state", help=f"Only this sync state: {', '.join(views.STATES)}."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")
    ] = 50,
) -> Page:
    """Invoices, newest first, with their QuickBooks sync state.

    An invoice held back from QuickBooks shows as held, with the reason: "wizard review" (its
    number is on another document there, until someone decides) or "csv fallback" (written to
    the CSV file, until QuickBooks holds it or it is released)."""
    from qbsync.views.invoices import invoice_list

    if state and state not in views.STATES:
        raise UsageError(f"unknown state {state!r}", f"states: {', '.join(views.STATES)}")
    with Workspace() as ws:
        key, _ = ws.company(company)
        rows = invoice_list(ws.store, key, limit=limit, sync_state_filter=state)
        return Page(rows, views.invoice_count(ws.store, key, sync_state=state))


def _render_show(out: Console, data: dict[str, Any]) -> None:
    from qbsync.cli.render import key_value_table, rows_table

    lines = data.pop("lines")
    ops = data.pop("ops")
    out.print(key_value_table(data, title=f"invoice {data['number']}"))
    out.print(rows_table(lines, title="lines"))
    if ops:
        out.print(rows_table(ops, title="operations"))


@command(app, "show", render=_render_show)
def show(
    invoice_id: Annotated[str, typer.Argument(metavar="ID")], company: CompanyOption = None
) -> dict[str, Any]:
    """One invoice: lines, payments, its QuickBooks link and the operations queued for it."""
    from qbsync.views.invoices import invoice_detail

    with Workspace() as ws:
        key, _ = ws.company(company)
        return invoice_detail(
            ws.store, key, invoice_id, lambda entity, qbo_id: _ctx(ws, key).qbo_url(entity, qbo_id)
        )


def _ctx(ws: Workspace, key: str) -> CycleContext:
    # The sync engine (and asyncio) only for the commands that act: a listing reads the store.
    from qbsync.sync import context

    return context.for_company(ws, key)


@command(app, "export")
def export(
    invoice_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ID]...", help="Ledger invoice ids (to export them now)."),
    ] = None,
    company: CompanyOption = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            metavar="FILE",
            help="Write finalized invoices to FILE for QuickBooks Online's invoice import "
            "(no connection needed) instead of exporting through the API.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="With --csv: invoices dated on or after."),
    ] = None,
    date_format: Annotated[
        str,
        typer.Option(
            "--date-format",
            help="With --csv: MM/dd/yyyy (US companies) or dd/MM/yyyy; pick the same one on "
            "the import screen.",
        ),
    ] = "MM/dd/yyyy",
) -> dict[str, Any]:
    """Export these finalized invoices now, outside the cycle (go-live does not hold them).

    With --csv FILE: write the finalized invoices QuickBooks does not hold yet (not credit
    notes, nor those before the go-live date) as the CSV that QuickBooks Online's invoice import reads (Settings > Import data > Invoices), one row per line, for
    periods without a live connection. IDs are not used then; --since limits by invoice date.
    The invoices written are held from the sync until QuickBooks holds them (then linked, never
    created twice), or until `qbsync invoices release ID`.
    """
    from qbsync.csvexport import DATE_FORMATS, write_invoices_csv

    if csv_file is None:
        if since is not None:
            raise UsageError("--since goes with --csv")
        if not invoice_ids:
            raise UsageError(
                "give invoice ids to export now, or --csv FILE for the import file",
                "qbsync invoices export INV-1001, or qbsync invoices export --csv invoices.csv",
            )
        from qbsync.sync.actions import export_now  # loads the QuickBooks client

        with Workspace() as ws:
            key, _ = ws.company(company)
            return export_now(ws, key, invoice_ids)
    if invoice_ids:
        raise UsageError("--csv exports every finalized invoice; drop the ids (or use --since)")
    if date_format not in DATE_FORMATS:
        raise UsageError(
            f"unknown date format {date_format!r}", f"use one of {', '.join(DATE_FORMATS)}"
        )
    try:
        since_date = dt.date.fromisoformat(since) if since else None
    except ValueError:
        raise UsageError(f"--since {since!r} is not a date", "use YYYY-MM-DD") from None
    with Workspace() as ws:
        key, settings = ws.company(company)
        return write_invoices_csv(
            ws.store, key, csv_file, since_date, date_format, go_live=settings.go_live
        )


@command(app, "release")
def release(
    invoice_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    company: CompanyOption = None,
) -> dict[str, Any]:
    """Let the sync create invoices written to a CSV file (export --csv) after all.

    An invoice written to the CSV file is held: the next cycle links it once QuickBooks holds
    it (the file imported), and creates nothing meanwhile. Release it when the file will not be
    imported: the next sync run creates it in QuickBooks.
    """
    from qbsync.csvexport import release as release_csv

    with Workspace() as ws:
        key, _ = ws.company(company)
        return release_csv(ws.store, key, invoice_ids)


@command(app, "open")
def open_(
    invoice_id: Annotated[str, typer.Argument(metavar="ID")], company: CompanyOption = None
) -> dict[str, Any]:
    """Print the invoice's QuickBooks address, and open it in a browser on a terminal."""
    with Workspace() as ws:
        key, _ = ws.company(company)
        link = links.by_local(ws.store, key, "invoice", invoice_id)
        if link is None:
            raise NotFoundError(
                f"invoice {invoice_id!r} is not in QuickBooks yet",
                f"export it: qbsync invoices export {invoice_id}",
            )
        url = _ctx(ws, key).qbo_url(link.qbo_entity, link.qbo_id)
    if sys.stdout.isatty() and not MODE.json:
        webbrowser.open(url)
    return {"invoice": invoice_id, "qbo_id": link.qbo_id, "url": url}


def _render_void(out: Console, data: dict[str, Any]) -> None:
    out.print(f"{data['invoice']}: void in the ledger; the next cycle voids it in QuickBooks")
    if "unapplied" in data:
        out.print(f"taken off first ({data['unapplied']['total']}): {data['unapplied_text']}")


@command(app, "void", render=_render_void)
def void(
    invoice_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")],
    company: CompanyOption = None,
    unapply: Annotated[
        bool,
        typer.Option(
            "--unapply",
            help="Void it even with money applied: first take its payments and applied credit "
            "(a credit note: the credit applied from it) off in the ledger, in the same "
            "transaction, and list what was taken off. QuickBooks keeps a payment already "
            "pushed, as the customer's credit once the invoice is void.",
        ),
    ] = False,
    yes: YesOption = False,
) -> dict[str, Any]:
    """Void a finalized invoice in the ledger; the next cycle voids it in QuickBooks (a credit
    note is deleted there, as QuickBooks cannot void credit memos).

    Refused (exit 2) while payments or credits are applied to it, or while a credit note's
    credit is applied: take them off first, or the money would dangle; or void it with
    --unapply, which takes them off in the ledger and lists them."""
    from qbsync.errors import InputError
    from qbsync.ledger.reversals import void_unapplying
    from qbsync.ledger.store import void_invoice

    with Workspace() as ws:
        key, _ = ws.company(company)
        what = "and take its payments and credit off in the ledger " if unapply else ""
        confirm(
            f"void invoice {invoice_id} of {key} {what}(in QuickBooks too, at the next cycle)", yes
        )
        if not unapply:
            try:
                void_invoice(ws.store, key, invoice_id, reason)
            except InputError as err:
                raise InputError(
                    err.message,
                    "or void it anyway, taking them off in the ledger: qbsync invoices void "
                    f"{invoice_id} --reason ... --unapply",
                ) from None
            return {"invoice": invoice_id, "status": "void", "queued": True, "reason": reason}
        taken = void_unapplying(ws.store, key, invoice_id, reason)
        return {
            "invoice": invoice_id,
            "status": "void",
            "queued": True,
            "reason": reason,
            "unapplied": taken.as_data(),
            "unapplied_text": taken.describe() or "nothing was applied",
        }
