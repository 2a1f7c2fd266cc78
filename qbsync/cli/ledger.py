"""`qbsync ledger import|export`: the billing system's files in, QuickBooks' answers out."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.dataout import write_data
from qbsync.cli.output import MODE, holds_any_text
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console

app = group("Import the billing system's ledger; export what came back from QuickBooks.")


def _render_import(out: Console, data: dict[str, Any]) -> None:
    from qbsync.cli.render import rows_table

    rows = [
        {"kind": kind, **counts} for kind, counts in data["counts"].items() if any(counts.values())
    ]
    # Listed again, left as the ledger holds them: payments taken off since (reversed),
    # invoices voided since (kept_void). A column only when some kind has them.
    for rare in ("reversed", "kept_void"):
        if any(rare in r for r in rows):
            rows = [{**r, rare: r.get(rare, 0)} for r in rows]
    if rows:
        out.print(rows_table(rows, title=f"{data['company']}: ledger import"))
    ops = ", ".join(f"{n} {kind}" for kind, n in data["ops"].items()) or "none"
    if not data["changed"] and not data["ops"]:
        out.print("nothing to change: the ledger already holds these files", markup=False)
    elif data["dry_run"]:
        out.print(f"dry run, nothing written; would queue: {ops}", markup=False)
    else:
        out.print(f"queued for QuickBooks: {ops}", markup=False)


@command(app, "import", render=_render_import)
def import_(
    paths: Annotated[
        list[Path], typer.Argument(help="Files (.yaml, .yml, .json, .csv) or directories.")
    ],
    company: CompanyOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and show the changes; write nothing.")
    ] = False,
) -> dict[str, Any]:
    """Import clients, services, tax regions, terms, invoices, payments and credit applications.

    Upserts by the billing system's ids. All or nothing: every file is validated first, and any
    problem (named by file, line or row, and field) exits 2 with nothing written. Finalized
    invoices, payments and credit applications cannot change once imported.
    """
    from qbsync.ledger.importer import import_files

    with Workspace() as ws:
        key, _ = ws.company(company)
        return import_files(ws.store, key, paths, dry_run=dry_run)


def _parse_since(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        from qbsync.errors import UsageError

        raise UsageError(f"--since {value!r}: expected a date as YYYY-MM-DD") from None


@command(app, "export")
def export(
    what: Annotated[
        Literal["payments", "invoices", "clients"],
        typer.Argument(help="payments, invoices or clients."),
    ],
    company: CompanyOption = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only records changed on or after this date (YYYY-MM-DD)."),
    ] = None,
    fmt: Annotated[Literal["csv", "json"], typer.Option("--format", help="csv or json.")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> Any:
    """Hand back to the billing system what QuickBooks settled.

    payments: payments recorded in QuickBooks (source quickbooks), one row per movement: a
    payment as first handed over, then a reversal row (kind reversal, negative amount,
    original_id, reason voided, deleted or reduced) when QuickBooks voids, deletes or reduces
    it. invoices: every finalized or void invoice and credit note with its status (open,
    partially_paid, paid, void), what was paid and credited, its balance, and the QuickBooks
    id (and number, when QuickBooks numbers them) it holds now. clients: every client in the
    import file's fields (addresses, terms, parent, ...) with its QuickBooks customer id,
    including changes accepted from QuickBooks.
    """
    from qbsync.ledger.export import payment_rows, render
    from qbsync.views.invoices import ledger_export_rows, payment_reasons

    with Workspace() as ws:
        key, _ = ws.company(company)
        if what == "clients":
            from qbsync.ledger.clients import export_rows
            from qbsync.mappings.store import list_mappings

            qbo_ids = {m.local_id: m.qbo_id for m in list_mappings(ws.store, key, "customers")}
            since_date = _parse_since(since)
            rows = export_rows(ws.store, key, qbo_ids, since_date.isoformat() if since_date else "")
        elif what == "payments":
            reasons = payment_reasons(ws.store, key)
            rows = payment_rows(ws.store, key, _parse_since(since), reasons)
        else:
            rows = ledger_export_rows(ws.store, key, what, _parse_since(since))
    if output is not None:
        try:
            output.write_text(render(rows, what, fmt), encoding="utf-8")
        except OSError as exc:
            from qbsync.errors import UsageError

            raise UsageError(f"{output}: cannot write: {exc.strerror}") from None
        return {"company": key, "what": what, "count": len(rows), "file": str(output)}
    if MODE.json:
        return rows
    # JSON can say any character in ASCII; CSV cannot, so it is written as it is or not at all.
    ascii_only = not holds_any_text(sys.stdout)
    write_data(render(rows, what, fmt, ascii_only=ascii_only), fmt, to_file="-o FILE")
    return None
