"""`qbsync payments record|list`."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from qbsync import money
from qbsync.cli.command import CompanyOption, command, group
from qbsync.cli.output import Page
from qbsync.errors import InputError
from qbsync.workspace import Workspace

app = group("Payments: recorded locally (pushed to QuickBooks) or read back from QuickBooks.")


@command(app, "record")
def record(
    invoice: Annotated[str, typer.Option("--invoice", help="Ledger invoice id.")],
    amount: Annotated[str, typer.Option("--amount", help="Amount, e.g. 120.50.")],
    date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="stripe, check, manual, ...")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Check number, charge id.")
    ] = None,
    payment_id: Annotated[
        str | None, typer.Option("--id", help="Payment id (default: generated).")
    ] = None,
    company: CompanyOption = None,
) -> dict[str, Any]:
    """Record a payment in the ledger; the next cycle pushes it to QuickBooks."""
    from qbsync.ledger.store import record_local_payment

    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise InputError(f"--amount: {amount!r} is not an amount") from None
    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        raise InputError(f"--date: {date!r} is not a date (YYYY-MM-DD)") from None
    pid = payment_id or f"pay-{uuid.uuid4().hex[:12]}"
    with Workspace() as ws:
        key, _ = ws.company(company)
        recorded = record_local_payment(
            ws.store,
            key,
            id=pid,
            invoice_id=invoice,
            amount=value,
            date=day.isoformat(),
            method=method,
            reference=reference,
        )
        return {
            "payment": pid,
            "invoice": invoice,
            "amount": money.text(money.money(value)),  # as stored: 1e2 is 100.00
            "date": day.isoformat(),
            # The identical payment recorded again changes nothing and queues nothing.
            "queued": recorded,
        }


@command(app, "list")
def list_(
    company: CompanyOption = None,
    invoice: Annotated[
        str | None, typer.Option("--invoice", help="Only this invoice's payments.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")
    ] = 50,
) -> Page:
    """Payments, newest first: source local (pushed) or quickbooks (read back)."""
    from qbsync.ledger.queries import payments

    with Workspace() as ws:
        key, _ = ws.company(company)
        return Page.of(payments(ws.store, key, invoice=invoice, limit=-1), limit)
