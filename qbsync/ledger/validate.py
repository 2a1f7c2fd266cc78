"""Validating an import as a whole, against itself and the store, into a plan of writes.

Nothing is written here. Every problem names the file, the line (or CSV row) and the field;
all problems found are reported together (up to a limit), so a file is fixed in one pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlite_utils import Database

from qbsync.errors import InputError
from qbsync.ledger import money as m
from qbsync.ledger.models import (
    KINDS,
    RECORD_MODELS,
    CreditApplicationIn,
    InvoiceIn,
    PaymentIn,
)
from qbsync.ledger.readers import RawRecord
from qbsync.outbox import OpKind, SubjectType

MAX_REPORTED = 10


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def raise_if_any(self, hint: str | None = None) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_REPORTED]
        more = len(self.items) - len(shown)
        message = "; ".join(shown) + (f" (and {more} more)" if more else "")
        raise InputError(message, hint or "fix the file and import again; nothing was written")


_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "field required",
    "string_type": "expected text",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "list_type": "expected a list",
    "model_type": "expected a mapping of fields",
    "dict_type": "expected a mapping of fields",
}


def _message(err: Any) -> str:
    kind = err["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in ("string_too_short", "too_short") and (err.get("ctx") or {}).get("min_length") == 1:
        return "cannot be empty"
    return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def parse_record(record: RawRecord, problems: Problems) -> BaseModel | None:
    model = RECORD_MODELS[record.kind]
    try:
        return model.model_validate(record.data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.add(record.where(err["loc"]), _message(err))
        return None


# Canonical content: what "the same invoice" means ------------------------------------------


def _opt(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return m.text(value)
    return str(value)


def invoice_content(inv: InvoiceIn, currency: str | None) -> dict[str, Any]:
    """The immutable content of an invoice, keyed by the file's field names (so a difference
    can be pointed at in the file). Status is not content: it has its own transitions."""
    return {
        "number": inv.number,
        "client": inv.client,
        "type": inv.type,
        "date": inv.date.isoformat(),
        "due_date": _opt(inv.due_date),
        "terms": inv.terms,
        "currency": currency,
        "memo": inv.memo,
        "lines": [
            {
                "service": line.service,
                "description": line.description,
                "quantity": m.text(line.quantity),
                "unit_price": m.text(line.unit_price),
                "tax_region": line.tax_region,
                "service_date": _opt(line.service_date),
            }
            for line in inv.lines
        ],
    }


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_content(db: Database, company: str, row: dict[str, Any]) -> dict[str, Any]:
    lines = db.execute(
        "SELECT service_id, description, quantity, unit_price, tax_region_id, service_date "
        "FROM ledger_invoice_lines WHERE company = ? AND invoice_id = ? ORDER BY line_no",
        [company, row["id"]],
    ).fetchall()
    return {
        "number": row["number"],
        "client": row["client_id"],
        "type": row["type"],
        "date": row["date"],
        "due_date": row["due_date"],
        "terms": row["terms_id"],
        "currency": row["currency"],
        "memo": row["memo"],
        "lines": [
            {
                "service": ln[0],
                "description": ln[1],
                "quantity": ln[2],
                "unit_price": ln[3],
                "tax_region": ln[4],
                "service_date": ln[5],
            }
            for ln in lines
        ],
    }


def first_difference(
    old: dict[str, Any], new: dict[str, Any]
) -> tuple[tuple[str | int, ...], Any, Any] | None:
    for key in new:
        if key == "lines":
            continue
        if old.get(key) != new[key]:
            return (key,), old.get(key), new[key]
    old_lines, new_lines = old["lines"], new["lines"]
    for index, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)):
        for key in b:
            if a.get(key) != b[key]:
                return ("lines", index, key), a.get(key), b[key]
    if len(old_lines) != len(new_lines):
        return ("lines",), f"{len(old_lines)} lines", f"{len(new_lines)} lines"
    return None


# The plan -----------------------------------------------------------------------------------


@dataclass
class KindPlan:
    added: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class Plan:
    company: str
    kinds: dict[str, KindPlan] = field(default_factory=lambda: {k: KindPlan() for k in KINDS})
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # invoice id -> rows
    ops: list[tuple[OpKind, SubjectType, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        counts = {
            kind: {"added": len(p.added), "updated": len(p.updated), "unchanged": p.unchanged}
            for kind, p in self.kinds.items()
        }
        ops: dict[str, int] = {}
        for kind, _, _ in self.ops:
            ops[kind.value] = ops.get(kind.value, 0) + 1
        return {"counts": counts, "ops": ops}

    @property
    def changes(self) -> int:
        return sum(len(p.added) + len(p.updated) for p in self.kinds.values())


def _rows(db: Database, sql: str, params: Sequence[Any]) -> dict[str, dict[str, Any]]:
    cursor = db.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return {row[names.index("id")]: dict(zip(names, row, strict=True)) for row in cursor}


def _simple_kind(
    plan: Plan,
    kind: str,
    parsed: list[tuple[RawRecord, Any]],
    existing: dict[str, dict[str, Any]],
    columns: tuple[str, ...],
) -> None:
    for _, item in parsed:
        row = {c: getattr(item, c) for c in columns}
        old = existing.get(item.id)
        if old is None:
            plan.kinds[kind].added.append(row)
        elif any(old[c] != row[c] for c in columns):
            plan.kinds[kind].updated.append(row)
        else:
            plan.kinds[kind].unchanged += 1


@dataclass
class _Doc:
    """An invoice as it will stand after the import (for references from payments)."""

    type: str
    status: str
    client: str


def build_plan(db: Database, company: str, records: list[RawRecord]) -> Plan:
    """Validate every record, its references and its transition; return what to write."""
    problems = Problems()
    parsed: dict[str, list[tuple[RawRecord, Any]]] = {k: [] for k in KINDS}
    first_seen: dict[tuple[str, str], RawRecord] = {}
    for record in records:
        item = parse_record(record, problems)
        if item is None:
            continue
        key = (record.kind, item.id)  # type: ignore[attr-defined]
        if key in first_seen:
            problems.add(
                record.where(("id",)),
                f"duplicate id {key[1]!r} (also at {first_seen[key].where(('id',))})",
            )
            continue
        first_seen[key] = record
        parsed[record.kind].append((record, item))
    problems.raise_if_any()

    plan = Plan(company)
    q = "SELECT * FROM {} WHERE company = ?"
    clients = _rows(db, q.format("ledger_clients"), [company])
    services = _rows(db, q.format("ledger_services"), [company])
    regions = _rows(db, q.format("ledger_tax_regions"), [company])
    terms = _rows(db, q.format("ledger_terms"), [company])
    invoices = _rows(db, q.format("ledger_invoices"), [company])
    payments = _rows(db, q.format("ledger_payments"), [company])
    applications = _rows(db, q.format("ledger_credit_applications"), [company])

    _simple_kind(plan, "clients", parsed["clients"], clients, ("id", "name", "email", "currency"))
    _simple_kind(plan, "services", parsed["services"], services, ("id", "name"))
    _simple_kind(plan, "tax_regions", parsed["tax_regions"], regions, ("id", "name"))
    _simple_kind(plan, "terms", parsed["terms"], terms, ("id", "name", "due_days"))

    client_currency: dict[str, str | None] = {cid: row["currency"] for cid, row in clients.items()}
    client_currency.update({c.id: c.currency for _, c in parsed["clients"]})
    service_ids = set(services) | {s.id for _, s in parsed["services"]}
    region_ids = set(regions) | {r.id for _, r in parsed["tax_regions"]}
    terms_ids = set(terms) | {t.id for _, t in parsed["terms"]}

    docs: dict[str, _Doc] = {
        iid: _Doc(row["type"], row["status"], row["client_id"]) for iid, row in invoices.items()
    }
    for record, inv in parsed["invoices"]:
        _plan_invoice(
            db,
            plan,
            problems,
            record,
            inv,
            invoices.get(inv.id),
            client_currency,
            service_ids,
            region_ids,
            terms_ids,
        )
        docs[inv.id] = _Doc(inv.type, inv.status, inv.client)

    for record, pay in parsed["payments"]:
        _plan_payment(plan, problems, record, pay, payments.get(pay.id), docs)
    for record, app in parsed["credit_applications"]:
        _plan_application(plan, problems, record, app, applications.get(app.id), docs)

    problems.raise_if_any()
    return plan


def _plan_invoice(
    db: Database,
    plan: Plan,
    problems: Problems,
    record: RawRecord,
    inv: InvoiceIn,
    old: dict[str, Any] | None,
    client_currency: dict[str, str | None],
    service_ids: set[str],
    region_ids: set[str],
    terms_ids: set[str],
) -> None:
    before = len(problems.items)
    if inv.client not in client_currency:
        problems.add(record.where(("client",)), f"unknown client {inv.client!r}")
    if inv.terms is not None and inv.terms not in terms_ids:
        problems.add(record.where(("terms",)), f"unknown terms {inv.terms!r}")
    for index, line in enumerate(inv.lines):
        if line.service not in service_ids:
            problems.add(
                record.where(("lines", index, "service")), f"unknown service {line.service!r}"
            )
        if line.tax_region is not None and line.tax_region not in region_ids:
            problems.add(
                record.where(("lines", index, "tax_region")),
                f"unknown tax region {line.tax_region!r}",
            )
    own = client_currency.get(inv.client)
    issued = old is not None and old["status"] != "draft"
    if inv.currency and own and inv.currency != own and not issued:
        problems.add(
            record.where(("currency",)),
            f"{inv.currency} differs from client {inv.client}'s currency {own} "
            "(QuickBooks fixes a customer's currency)",
        )
    amounts = [m.line_amount(line.quantity, line.unit_price) for line in inv.lines]
    subtotal = sum(amounts, Decimal("0.00"))
    if subtotal < 0 or (inv.type == "credit_note" and subtotal == 0):
        what = "a credit note's" if inv.type == "credit_note" else "an invoice's"
        need = "greater than 0" if inv.type == "credit_note" else "0 or more"
        problems.add(
            record.where(("lines",)),
            f"{what} subtotal must be {need} (it is {m.text(subtotal)}); "
            "credit notes carry positive amounts",
        )
    if len(problems.items) > before:
        return

    # No currency in the file: the client's; for an invoice already issued, the one it was
    # issued in (a later change to the client does not make the same file "different").
    currency = inv.currency or (old["currency"] if issued and old else own)
    content = invoice_content(inv, currency)
    digest = content_hash(content)
    row = {
        "id": inv.id,
        "number": inv.number,
        "client_id": inv.client,
        "type": inv.type,
        "status": inv.status,
        "date": inv.date.isoformat(),
        "due_date": _opt(inv.due_date),
        "terms_id": inv.terms,
        "currency": currency,
        "memo": inv.memo,
        "subtotal": m.text(subtotal),
        "content_hash": digest,
    }
    line_rows = [
        {
            "invoice_id": inv.id,
            "line_no": index + 1,
            "service_id": line.service,
            "description": line.description,
            "quantity": m.text(line.quantity),
            "unit_price": m.text(line.unit_price),
            "amount": m.text(amount),
            "tax_region_id": line.tax_region,
            "service_date": _opt(line.service_date),
        }
        for index, (line, amount) in enumerate(zip(inv.lines, amounts, strict=True))
    ]
    export_op = OpKind.EXPORT_CREDIT_MEMO if inv.type == "credit_note" else OpKind.EXPORT_INVOICE
    void_op = OpKind.DELETE_CREDIT_MEMO if inv.type == "credit_note" else OpKind.VOID_INVOICE
    kind_plan = plan.kinds["invoices"]

    if old is None:
        kind_plan.added.append(row)
        plan.lines[inv.id] = line_rows
        if inv.status == "finalized":
            plan.ops.append((export_op, SubjectType.INVOICE, inv.id))
        return

    was = old["status"]
    same = old["content_hash"] == digest
    if was == "draft":
        if same and inv.status == "draft":
            kind_plan.unchanged += 1
            return
        kind_plan.updated.append(row)
        plan.lines[inv.id] = line_rows
        if inv.status == "finalized":
            plan.ops.append((export_op, SubjectType.INVOICE, inv.id))
        return

    noun = "credit note" if old["type"] == "credit_note" else "invoice"
    if not same:
        diff = first_difference(stored_content(db, plan.company, old), content)
        path, stored, given = diff if diff else (("lines",), "?", "?")
        fix = (
            "void it and re-issue it under a new id"
            if was == "finalized"
            else "issue a new one under a new id"
        )
        problems.add(
            record.where(path),
            f"{noun} {inv.id} is {was} and cannot change (stored {stored!r}, file {given!r}); "
            + fix,
        )
        return
    if was == "void":
        if inv.status != "void":
            problems.add(
                record.where(("status",)),
                f"{noun} {inv.id} is void and cannot be un-voided; issue a new one under a new id",
            )
        else:
            kind_plan.unchanged += 1
        return
    # was finalized
    if inv.status == "finalized":
        kind_plan.unchanged += 1
    elif inv.status == "draft":
        problems.add(
            record.where(("status",)),
            f"{noun} {inv.id} is finalized and cannot go back to draft; "
            "void it and re-issue it under a new id",
        )
    else:
        kind_plan.updated.append(row)  # finalized -> void: same content, new status
        plan.ops.append((void_op, SubjectType.INVOICE, inv.id))


def _plan_payment(
    plan: Plan,
    problems: Problems,
    record: RawRecord,
    pay: PaymentIn,
    old: dict[str, Any] | None,
    docs: dict[str, _Doc],
) -> None:
    row = {
        "id": pay.id,
        "invoice_id": pay.invoice,
        "amount": m.text(pay.amount),
        "date": pay.date.isoformat(),
        "method": pay.method,
        "reference": pay.reference,
    }
    if old is not None:
        if old["source"] != "local":
            problems.add(
                record.where(("id",)),
                f"payment {pay.id} came from QuickBooks; choose another id for a local payment",
            )
            return
        for key, value in row.items():
            if old[key] != value:
                name = "invoice" if key == "invoice_id" else key
                problems.add(
                    record.where((name,)),
                    f"payment {pay.id} is recorded and cannot change (stored {old[key]!r}, "
                    f"file {value!r}); record a new payment (or a refund) under a new id",
                )
                return
        plan.kinds["payments"].unchanged += 1
        return
    doc = docs.get(pay.invoice)
    if doc is None:
        problems.add(record.where(("invoice",)), f"unknown invoice {pay.invoice!r}")
        return
    if doc.type != "standard":
        problems.add(
            record.where(("invoice",)),
            f"{pay.invoice} is a credit note; apply it with a credit application instead",
        )
        return
    if doc.status != "finalized":
        problems.add(
            record.where(("invoice",)),
            f"invoice {pay.invoice} is {doc.status}; only a finalized invoice takes payments",
        )
        return
    plan.kinds["payments"].added.append(row)
    plan.ops.append((OpKind.PUSH_PAYMENT, SubjectType.PAYMENT, pay.id))


def _plan_application(
    plan: Plan,
    problems: Problems,
    record: RawRecord,
    app: CreditApplicationIn,
    old: dict[str, Any] | None,
    docs: dict[str, _Doc],
) -> None:
    row = {
        "id": app.id,
        "credit_note_id": app.credit_note,
        "invoice_id": app.invoice,
        "amount": m.text(app.amount),
        "date": app.date.isoformat(),
    }
    if old is not None:
        for key, value in row.items():
            if old[key] != value:
                name = key.removesuffix("_id")
                problems.add(
                    record.where((name,)),
                    f"credit application {app.id} is recorded and cannot change (stored "
                    f"{old[key]!r}, file {value!r}); record a new one under a new id",
                )
                return
        plan.kinds["credit_applications"].unchanged += 1
        return
    before = len(problems.items)
    note, invoice = docs.get(app.credit_note), docs.get(app.invoice)
    if note is None:
        problems.add(record.where(("credit_note",)), f"unknown credit note {app.credit_note!r}")
    elif note.type != "credit_note":
        problems.add(record.where(("credit_note",)), f"{app.credit_note} is not a credit note")
    elif note.status != "finalized":
        problems.add(
            record.where(("credit_note",)),
            f"credit note {app.credit_note} is {note.status}; only a finalized one can be applied",
        )
    if invoice is None:
        problems.add(record.where(("invoice",)), f"unknown invoice {app.invoice!r}")
    elif invoice.type != "standard":
        problems.add(record.where(("invoice",)), f"{app.invoice} is not a standard invoice")
    elif invoice.status != "finalized":
        problems.add(
            record.where(("invoice",)),
            f"invoice {app.invoice} is {invoice.status}; credit applies to finalized invoices",
        )
    if note and invoice and note.client != invoice.client:
        problems.add(
            record.where(("invoice",)),
            f"credit note {app.credit_note} (client {note.client}) and invoice {app.invoice} "
            f"(client {invoice.client}) belong to different clients",
        )
    if len(problems.items) > before:
        return
    plan.kinds["credit_applications"].added.append(row)
    plan.ops.append((OpKind.APPLY_CREDIT, SubjectType.CREDIT_APPLICATION, app.id))
