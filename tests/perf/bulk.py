"""A big ledger in seconds: invoices and what years of syncing leave behind, bulk-inserted straight
into the store (not through the importer), for the flat-cost tests and bench/local.py.

n invoices of two lines (2% credit notes, 2% void, 1% draft), 500 clients, payments on 60% of
the rest (two thirds local and pushed, one third recorded in QuickBooks), an export op per
finalized document (99% done with its link, 0.5% errored with an open exception, 0.5% failed
waiting for a retry), a void op per void invoice, a push op per local payment, and `cycles`
cycles of history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from qbsync.store.database import Database
from qbsync.store.tx import transaction

CLIENTS = 500


def _insert(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    sql = (
        f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
    )
    db.conn.executemany(sql, [[r[c] for c in cols] for r in rows])


def generate(
    db: Database, company: str, n: int, *, cycles: int = 2880, prefix: str = "L"
) -> dict[str, int]:
    """Bulk-insert n invoices (ids and numbers start with `prefix`) and their sync history for
    `company`; the row counts."""
    now = datetime.now(UTC)
    stamp = now.isoformat()
    later = (now + timedelta(days=1)).isoformat()
    made = {"created_at": stamp, "updated_at": stamp}
    clients = [
        {"company": company, "id": f"CL-G{i}", "name": f"Client {i}",
         "email": f"ap{i}@example.com", "currency": "USD", **made}
        for i in range(CLIENTS)
    ]  # fmt: skip
    services = [
        {"company": company, "id": s, "name": name, **made}
        for s, name in (("S-MSP", "Managed seats"), ("S-BACKUP", "Backup storage"))
    ]
    regions = [
        {"company": company, "id": "TR-EX", "name": "Exempt", "rate": "0", **made},
        {"company": company, "id": "TR-HC", "name": "Harbor County", "rate": "8.25", **made},
    ]
    terms = [{"company": company, "id": "T-30", "name": "Net 30", "due_days": 30, **made}]
    inv: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    pays: list[dict[str, Any]] = []
    ops: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    qpays: list[dict[str, Any]] = []
    excs: list[dict[str, Any]] = []
    start = datetime(2022, 1, 1)
    for i in range(1, n + 1):
        iid = f"INV-{prefix}{i}"
        kind = "credit_note" if i % 50 == 0 else "standard"
        status = "void" if i % 50 == 7 else "draft" if i % 100 == 3 else "finalized"
        date = (start + timedelta(days=i * 1460 // max(n, 1))).date().isoformat()
        client = clients[i % CLIENTS]["id"]
        qty_a, qty_b = 1 + i % 20, 1 + i % 3
        amount_a, amount_b = qty_a * 150, qty_b * 45
        tax_b = f"{amount_b * 0.0825:.2f}"
        total = f"{amount_a + amount_b + float(tax_b):.2f}"
        inv.append(
            {"company": company, "id": iid, "number": f"{prefix}{i}", "client_id": client, "type": kind,
             "status": status, "date": date, "due_date": None, "terms_id": "T-30",
             "currency": "USD", "memo": None, "subtotal": f"{amount_a + amount_b}.00",
             "content_hash": f"h{i:032x}", "finalized_at": stamp if status != "draft" else None,
             "voided_at": stamp if status == "void" else None, "void_reason": None,
             "discount": "0.00", "tax": tax_b, "total": total, "amounts": "exclusive", **made}
        )  # fmt: skip
        for no, (service, qty, price, amount, region, tax) in enumerate(
            (
                ("S-MSP", qty_a, "150.00", amount_a, "TR-EX", "0.00"),
                ("S-BACKUP", qty_b, "45.00", amount_b, "TR-HC", tax_b),
            ),
            start=1,
        ):
            line_total = f"{amount + float(tax):.2f}"
            lines.append(
                {"company": company, "invoice_id": iid, "line_no": no, "service_id": service,
                 "description": None, "quantity": str(qty), "unit_price": price,
                 "amount": f"{amount}.00", "tax_region_id": region, "service_date": None,
                 "discount": "0.00", "tax": tax, "total": line_total}
            )  # fmt: skip
        if status == "draft":
            continue
        qbo_id = f"{prefix}{i}"
        fate = "errored" if i % 200 == 11 else "failed" if i % 200 == 13 else "done"
        done = fate == "done"
        ops.append(
            {"company": company,
             "kind": "export_credit_memo" if kind == "credit_note" else "export_invoice",
             "subject_type": "invoice", "subject_id": iid, "state": fate,
             "attempts": 5 if fate == "errored" else 1,
             "next_attempt_at": later if fate == "failed" else None, "request_id": f"exp-{prefix}{i}",
             "qbo_id": qbo_id if done else None, "qbo_sync_token": "0" if done else None,
             "last_error": None if done else "Invalid Reference Id",
             "last_error_code": None if done else "2500", "uncertain": 0, **made}
        )  # fmt: skip
        if i % 40 == 21:  # resolved long ago: the exceptions' history grows with the ledger
            excs.append(
                {"company": company, "kind": "drift_changed", "subject_type": "invoice",
                 "subject_id": iid, "subject_label": f"invoice {prefix}{i}",
                 "message": f"invoice {prefix}{i} was changed in QuickBooks",
                 "hint": None, "status": "resolved", "occurrences": 1, "raised_at": stamp,
                 "updated_at": stamp}
            )  # fmt: skip
        if fate == "errored":
            excs.append(
                {"company": company, "kind": "export_failing", "subject_type": "invoice",
                 "subject_id": iid, "subject_label": f"invoice {prefix}{i}",
                 "message": f"invoice {prefix}{i}: Invalid Reference Id (after 5 attempts)",
                 "hint": "fix the cause, then: qbsync exceptions resolve ID --retry",
                 "status": "open", "occurrences": 1, "raised_at": stamp, "updated_at": stamp}
            )  # fmt: skip
        if not done:
            continue
        baseline = json.dumps({"total": total, "doc_number": f"{prefix}{i}", "txn_date": date})
        links.append(
            {"company": company, "local_type": "invoice", "local_id": iid,
             "qbo_entity": "CreditMemo" if kind == "credit_note" else "Invoice",
             "qbo_id": qbo_id, "sync_token": "1" if status == "void" else "0",
             "baseline": baseline, "state": "voided" if status == "void" else "synced",
             "linked_by": "export", **made}
        )  # fmt: skip
        if status == "void":
            ops.append(
                {"company": company, "kind": "void_invoice",
                 "subject_type": "invoice", "subject_id": iid, "state": "done", "attempts": 1,
                 "next_attempt_at": None, "request_id": f"void-{prefix}{i}", "qbo_id": qbo_id,
                 "qbo_sync_token": "1", "last_error": None, "last_error_code": None,
                 "uncertain": 0, **made}
            )  # fmt: skip
            continue
        if kind == "standard" and i % 5 < 3:  # 60% paid
            pid, pay_qbo = f"PAY-{prefix}{i}", f"P{prefix}{i}"
            source = "quickbooks" if i % 5 == 2 else "local"
            pays.append(
                {"company": company, "id": pid, "invoice_id": iid, "amount": total,
                 "date": date, "method": "check", "reference": None, "source": source,
                 "qbo_id": pay_qbo, "qbo_sync_token": "0", **made}
            )  # fmt: skip
            qpays.append(
                {"company": company, "qbo_id": pay_qbo, "sync_token": "0",
                 "customer_qbo_id": client, "total": total, "txn_date": date, "lines": None,
                 "state": "applied" if source == "quickbooks" else "ours", "updated_at": stamp}
            )  # fmt: skip
            if source == "local":
                ops.append(
                    {"company": company, "kind": "push_payment",
                     "subject_type": "payment", "subject_id": pid, "state": "done",
                     "attempts": 1, "next_attempt_at": None, "request_id": f"pay-{prefix}{i}",
                     "qbo_id": pay_qbo, "qbo_sync_token": "0", "last_error": None,
                     "last_error_code": None, "uncertain": 0, **made}
                )  # fmt: skip
                links.append(
                    {"company": company, "local_type": "payment", "local_id": pid,
                     "qbo_entity": "Payment", "qbo_id": pay_qbo, "sync_token": "0",
                     "baseline": None, "state": "synced", "linked_by": "export", **made}
                )  # fmt: skip
    history = [
        {"company": company, "started_at": (now - timedelta(minutes=15 * k)).isoformat(),
         "finished_at": (now - timedelta(minutes=15 * k)).isoformat(), "result": "succeeded",
         "trigger": "daemon", "api_calls": 1 if k % 9 else 0, "summary": "bench history"}
        for k in range(cycles, 0, -1)
    ]  # fmt: skip
    with transaction(db):
        for table, rows in (
            ("ledger_clients", clients),
            ("ledger_services", services),
            ("ledger_tax_regions", regions),
            ("ledger_terms", terms),
            ("ledger_invoices", inv),
            ("ledger_invoice_lines", lines),
            ("ledger_payments", pays),
            ("outbox", ops),
            ("qbo_links", links),
            ("qbo_payments", qpays),
            ("sync_exceptions", excs),
            ("sync_cycles", history),
        ):
            _insert(db, table, rows)
    db.execute("ANALYZE")
    return {
        "invoices": len(inv),
        "lines": len(lines),
        "payments": len(pays),
        "ops": len(ops),
        "links": len(links),
        "exceptions": len(excs),
        "cycles": len(history),
    }
