"""What `ledger export payments` handed to the billing system, kept so that it is never lost.

Each row handed over is a movement, written once and never changed: a payment recorded in
QuickBooks as first handed over (`kind` payment, its id the ledger payment's id); a reversal
(`kind` reversal, negative amount, `original_id` the payment's id, `reason` voided, deleted or
reduced) when QuickBooks later voids, deletes or reduces a payment already handed over; more
money on a payment already handed over (`kind` payment, reason increased). A later row of a
payment has the id `<payment id>#<n>`. Whatever the billing system does with a row it has seen
(skip it, or replace it by id), the rows of a payment add up to what QuickBooks holds for it now.

The reason of a payment the ledger no longer holds comes from the sync engine's record of what
QuickBooks did (`reason_of`, read through qbsync/views/invoices.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qbsync import money as m
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso

REASONS = ("voided", "deleted", "reduced")
ReasonOf = Callable[[str | None], str]

_COLUMNS = (
    "id",
    "payment_id",
    "kind",
    "invoice_id",
    "amount",
    "date",
    "method",
    "reference",
    "qbo_id",
    "reason",
    "updated_at",
    "home_amount",
)


@dataclass
class Handed:
    """What the billing system holds of one payment: the sum of its rows."""

    net: Decimal
    home_net: Decimal | None  # None once a row of it carries no home amount
    rows: int
    invoice_id: str
    qbo_id: str | None
    method: str | None
    reference: str | None


def _handed(db: Database, company: str) -> dict[str, Handed]:
    out: dict[str, Handed] = {}
    for r in db.query(
        "SELECT payment_id, kind, invoice_id, amount, home_amount, method, reference, qbo_id "
        "FROM ledger_payment_handovers WHERE company = ? ORDER BY rowid",
        [company],
    ):
        h = out.get(r["payment_id"])
        if h is None:
            h = out[r["payment_id"]] = Handed(
                Decimal(0), Decimal(0), 0, r["invoice_id"], r["qbo_id"], r["method"], r["reference"]
            )
        h.net += m.dec(r["amount"])
        h.home_net = (
            None
            if h.home_net is None or r["home_amount"] is None
            else h.home_net + m.dec(r["home_amount"])
        )
        h.rows += 1
        if r["kind"] == "payment":
            h.invoice_id = r["invoice_id"]
    return out


def _insert(db: Database, company: str, row: dict[str, Any], now: str) -> None:
    db.execute(
        "INSERT INTO ledger_payment_handovers (company, id, payment_id, kind, invoice_id, amount, "
        "date, method, reference, qbo_id, reason, updated_at, home_amount, handed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [company, *(row[c] for c in _COLUMNS), now],
    )


def hand_over(db: Database, company: str, reason_of: ReasonOf) -> int:
    """Bring what was handed over up to date with the payments the ledger holds from QuickBooks:
    a row for each payment not handed over yet, a reversal for each one handed over that
    QuickBooks since voided, deleted or reduced, a row for more money on one. Returns how many
    rows were written."""
    now = utc_now_iso()
    written = 0
    with transaction(db):
        current = {
            r["id"]: r
            for r in db.query(
                "SELECT id, invoice_id, amount, date, method, reference, qbo_id, updated_at, "
                "home_amount FROM ledger_payments WHERE company = ? AND source = 'quickbooks'",
                [company],
            )
        }
        handed = _handed(db, company)
        # In the order they are handed over: by date, then id (as the export listed them).
        order = sorted(
            set(current) | set(handed),
            key=lambda p: (current[p]["date"] if p in current else "", p),
        )
        for payment_id in order:
            cur = current.get(payment_id)
            before = handed.get(payment_id)
            if before is None:
                assert cur is not None
                _insert(db, company, _payment(cur, payment_id, cur["amount"], None), now)
                written += 1
                continue
            moved = cur is not None and cur["invoice_id"] != before.invoice_id
            held = m.dec(cur["amount"]) if cur is not None and not moved else Decimal(0)
            count = before.rows
            if m.cents(held) < m.cents(before.net):
                reason = "reduced" if cur is not None else reason_of(before.qbo_id)
                count += 1
                _insert(
                    db,
                    company,
                    {
                        "id": f"{payment_id}#{count}",
                        "payment_id": payment_id,
                        "kind": "reversal",
                        "invoice_id": before.invoice_id,
                        "amount": m.text(m.cents(held - before.net)),
                        "date": now[:10],
                        "method": before.method,
                        "reference": before.reference,
                        "qbo_id": before.qbo_id,
                        "reason": reason if reason in REASONS else "reduced",
                        "updated_at": now,
                        "home_amount": _home_change(cur if not moved else None, before),
                    },
                    now,
                )
                written += 1
            elif m.cents(held) > m.cents(before.net) and cur is not None:
                count += 1
                row = _payment(cur, f"{payment_id}#{count}", m.text(held - before.net), "increased")
                row["home_amount"] = _home_change(cur, before)
                _insert(db, company, row | {"payment_id": payment_id, "updated_at": now}, now)
                written += 1
            if moved and cur is not None:
                # The line now settles another invoice: handed over anew, all of it.
                count += 1
                row = _payment(cur, f"{payment_id}#{count}", cur["amount"], "moved")
                _insert(db, company, row | {"payment_id": payment_id, "updated_at": now}, now)
                written += 1
    return written


def _payment(cur: dict[str, Any], row_id: str, amount: str, reason: str | None) -> dict[str, Any]:
    return {
        "id": row_id,
        "payment_id": cur["id"],
        "kind": "payment",
        "invoice_id": cur["invoice_id"],
        "amount": m.text(m.cents(amount)),
        "date": cur["date"],
        "method": cur["method"],
        "reference": cur["reference"],
        "qbo_id": cur["qbo_id"],
        "reason": reason,
        "updated_at": cur["updated_at"],
        "home_amount": cur["home_amount"],
    }


def _home_change(cur: dict[str, Any] | None, before: Handed) -> str | None:
    """The home-currency amount of a reversal or an increase: what the ledger holds now in the
    home currency less what was handed over; None when either side has no home amount."""
    if before.home_net is None:
        return None
    if cur is None:
        return m.text(m.cents(-before.home_net))
    if cur["home_amount"] is None:
        return None
    return m.text(m.cents(m.dec(cur["home_amount"]) - before.home_net))


def handed_rows(db: Database, company: str, since: str) -> list[dict[str, Any]]:
    """Every row handed over, changed on or after `since` (ISO text; "" for all), in the order
    they were handed over."""
    return list(
        db.query(
            "SELECT id, payment_id, kind, invoice_id, amount, date, method, reference, qbo_id, "
            "reason, updated_at, home_amount FROM ledger_payment_handovers WHERE company = ? "
            "AND updated_at >= ? ORDER BY rowid",
            [company, since],
        )
    )
