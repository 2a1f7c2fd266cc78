"""The chaos run: money integrity end to end, against `qbsync sim serve` on a real socket.

One company, the demo lists mapped (`qbsync mappings import` of the demo mappings), then:
  - 500 ledger documents: two lines each (one taxed at Harbor County's 8.25 %, one exempt), one
    in five discounted before tax, one in seven after tax, one in twenty-five a credit note;
  - hand-keyed duplicates in QuickBooks before the first cycle: exact copies (same number,
    customer and total: linked) and wrong ones (same number, another total: held as
    `duplicate_number`; the accountant deletes the twin, the exception is retried);
  - the CSV fallback for a slice: `qbsync invoices export --csv`, imported into QuickBooks;
  - local payments in the ledger (pushed by the cycle) and payments keyed in QuickBooks, some
    split over several invoices of one customer, some moved between invoices, voided, deleted;
  - credits applied by QuickBooks itself (AutoApplyCredit, on by default) on later invoices;
  - voids on both sides: `qbsync invoices void` (invoices, and open credit notes, which
    QuickBooks deletes), voids and deletes made in QuickBooks (accepted into the ledger);
  - a 35-day gap on the simulator's clock, with deletes and payments made inside it.
Afterwards `qbsync reconcile` must exit 0, QuickBooks must hold each DocNumber once, and every
payment must be counted once (per invoice, the ledger's paid total equals what QuickBooks'
payments put on it in cash).

    uv run python bench/chaos.py [--docs 500] [--payments 200]

The scenario (class Chaos) is driven through a `cli` callable, so that the slow test
(tests/sync/test_chaos.py) runs the same story with the CLI in-process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import qbsync
from qbsync.sim.control import SimControl

Cli = Callable[..., tuple[int, Any]]  # cli(*args) -> (exit code, parsed --json output)

MAPPINGS = Path(qbsync.__file__).parent / "demo" / "data" / "mappings.yaml"
CLIENTS = [
    {"id": "CL-1", "name": "Acme Dental", "currency": "USD"},
    {"id": "CL-2", "name": "Brightside Law LLP", "currency": "USD"},
    {"id": "CL-3", "name": "Cedar Clinic"},
    {"id": "CL-4", "name": "Delta Logistics", "currency": "USD"},
]
LISTS: dict[str, Any] = {
    "clients": CLIENTS,
    "services": [
        {"id": "S-MSP", "name": "Managed services (per seat)"},
        {"id": "S-HOURS", "name": "Consulting hours"},
        {"id": "S-HW", "name": "Hardware setup"},
        {"id": "S-BACKUP", "name": "Cloud backup (per 100 GB)"},
    ],
    "tax_regions": [
        {"id": "TR-HC", "name": "Harbor County", "rate": "8.25"},
        {"id": "TR-EX", "name": "Exempt"},
    ],
    "terms": [
        {"id": "T-DUE", "name": "Due on receipt", "due_days": 0},
        {"id": "T-15", "name": "Net 15", "due_days": 15},
        {"id": "T-30", "name": "Net 30", "due_days": 30},
    ],
}
CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0")).quantize(CENT)


class Plan:
    """Which document plays which part, by its index (1..n): deterministic, no randomness."""

    def __init__(self, docs: int, payments: int) -> None:
        self.n = docs
        self.payments = payments
        self.csv_from = docs - docs // 10 + 1  # the last tenth goes through the CSV fallback
        self.wave2_from = docs * 6 // 10 + 1  # imported after the first cycle

    def number(self, i: int) -> str:
        return f"X{i:04d}"

    def is_credit(self, i: int) -> bool:
        return i % 25 == 0 and i < self.csv_from

    def is_csv(self, i: int) -> bool:
        return i >= self.csv_from

    def client(self, i: int) -> str:
        if self.is_credit(i):
            return "CL-4" if i % 50 else "CL-3"  # AutoApplyCredit spends them on later invoices
        return CLIENTS[i % 4]["id"]

    def discount(self, i: int) -> list[dict[str, Any]]:
        if self.is_csv(i) or self.is_credit(i):
            return []
        if i % 5 == 1:
            return [{"kind": "discount", "description": "Loyalty", "percent": "10"}]
        if i % 7 == 3:
            return [
                {"kind": "discount", "description": "Voucher", "amount": "5.00", "taxable": False}
            ]
        return []

    def doc(self, i: int) -> dict[str, Any]:
        credit = self.is_credit(i)
        lines = [
            {
                "service": "S-HOURS" if credit else "S-MSP",
                "description": "Service credit" if credit else "Managed seats",
                "quantity": 1 + i % 9,
                "unit_price": "40.00" if credit else f"{95 + i % 61}.{i % 100:02d}",
                "tax_region": "TR-EX",
            },
            {
                "service": "S-BACKUP",
                "description": "Backup storage",
                "quantity": 1 + i % 3,
                "unit_price": "45.00",
                "tax_region": "TR-HC",
            },
            *self.discount(i),
        ]
        day = 25 if self.is_csv(i) else 1 + i % 20
        return {
            "id": f"D-{i}",
            "number": self.number(i),
            "type": "credit_note" if credit else "standard",
            "client": self.client(i),
            "date": f"2026-11-{day:02d}",
            "terms": LISTS["terms"][i % 3]["id"],
            "status": "finalized",
            "lines": lines,
        }


class Chaos:
    def __init__(
        self,
        cli: Cli,
        control: SimControl,
        realm: str,
        key: str,
        workdir: Path,
        shift_clock: Callable[[float], None],
        docs: int = 500,
        payments: int = 200,
        gap_deletes: bool = False,
    ) -> None:
        self.cli, self.ctl, self.realm, self.key, self.dir = cli, control, realm, key, workdir
        self.shift_clock = shift_clock
        self.gap_deletes = gap_deletes
        self.plan = Plan(docs, payments)
        self.cycles: list[dict[str, Any]] = []
        self.events: Counter[str] = Counter()
        self.resolved: Counter[str] = Counter()
        self.refused: list[str] = []
        self.problems: list[str] = []
        self.twins: dict[str, str] = {}  # number -> QuickBooks id of a wrong hand-keyed twin

    # ------------------------------------------------------------------ helpers

    def ok(self, *args: str) -> Any:
        code, out = self.cli(*args)
        if code != 0:
            raise AssertionError(f"qbsync {' '.join(args)} exited {code}: {out}")
        return out.get("data") if isinstance(out, dict) else out

    def sync(self) -> dict[str, Any]:
        cycle: dict[str, Any] = self.ok("sync", "run", "--company", self.key)["cycles"][0]
        self.cycles.append(cycle)
        if cycle["result"] != "succeeded":
            self.problems.append(f"cycle {cycle.get('id')} {cycle['result']}: {cycle}")
        return cycle

    def import_file(self, name: str, data: dict[str, Any]) -> None:
        path = self.dir / name
        path.write_text(json.dumps({"version": 1, **data}), encoding="utf-8")
        self.ok("ledger", "import", str(path), "--company", self.key)

    def exported(self) -> dict[str, dict[str, Any]]:
        """The ledger's documents as `ledger export invoices` hands them over, by id."""
        rows = self.ok("ledger", "export", "invoices", "--company", self.key)
        return {r["id"]: r for r in rows}

    def qbo(self, entity: str, obj_id: str) -> dict[str, Any]:
        return self.ctl.get(self.realm, entity, obj_id)

    def maybe(self, entity: str, obj_id: str) -> dict[str, Any]:
        """The object, or {} when QuickBooks no longer holds it."""
        from qbsync.sim.control import SimControlError

        try:
            return self.qbo(entity, obj_id)
        except SimControlError:
            return {}

    def act(self, what: str, fn: Callable[[], Any]) -> Any:
        self.events[what] += 1
        return fn()

    # ------------------------------------------------------------------ the story

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        self.ctl.clear_request_log()
        plan = self.plan
        self.ok("mappings", "import", str(MAPPINGS), "--company", self.key)
        # A company that gives discounts has a discount account (QuickBooks books discount lines
        # there when none is named); the demo company is seeded without one.
        self.ctl.create(
            self.realm,
            "Account",
            {
                "Name": "Discounts given",
                "AccountType": "Income",
                "AccountSubType": "DiscountsRefundsGiven",
            },
        )
        wave1 = [i for i in range(1, plan.n + 1) if i < plan.wave2_from or plan.is_csv(i)]
        wave2 = [i for i in range(plan.wave2_from, plan.csv_from)]
        self.import_file("wave1.json", {**LISTS, "invoices": [plan.doc(i) for i in wave1]})
        self.csv_fallback()
        self.hand_keyed_twins(wave1)
        self.sync()  # exports wave 1, links the CSV slice and the exact twins
        self.clear_twins()
        self.import_file("wave2.json", {"invoices": [plan.doc(i) for i in wave2]})
        self.sync()  # wave 2: QuickBooks spends the open credit notes on it
        self.local_payments()
        self.sync()
        self.quickbooks_payments()
        self.voids_both_sides()
        self.sync()
        self.gap()
        self.sync()
        self.settle_exceptions()
        self.sync()
        self.settle_exceptions()
        self.sync()
        seconds = time.perf_counter() - started
        return self.figures(seconds)

    def csv_fallback(self) -> None:
        """The last tenth goes out as the CSV QuickBooks imports (the connection was down)."""
        path = self.dir / "fallback.csv"
        out = self.ok(
            "invoices", "export", "--company", self.key, "--csv", str(path), "--since", "2026-11-25"
        )
        self.events["csv_exported"] = out["invoices"]
        self.import_csv(path)

    def maps(self) -> dict[tuple[str, str], str]:
        from qbsync.mappings.store import list_mappings
        from qbsync.workspace import Workspace

        with Workspace() as ws:
            return {(m.kind, m.local_id): m.qbo_id for m in list_mappings(ws.store, self.key)}

    def body(
        self,
        number: str,
        client: str,
        date: str,
        lines: list[tuple[str, str, Decimal, Decimal, str]],
    ) -> dict[str, Any]:
        """A QuickBooks document as a person keys it: lines of (service, description, quantity,
        unit price, tax region), the tax code of the taxed lines on the document."""
        maps = self.maps()
        tax_code = None
        out = []
        for service, text, qty, price, region in lines:
            code = maps.get(("tax_codes", region), "NON")
            if code != "NON":
                tax_code = code
            out.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": str((qty * price).quantize(CENT)),
                    "Description": text,
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": maps[("items", service)]},
                        "Qty": str(qty),
                        "UnitPrice": str(price),
                        "TaxCodeRef": {"value": "NON" if code == "NON" else "TAX"},
                    },
                }
            )
        body: dict[str, Any] = {
            "CustomerRef": {"value": maps[("customers", client)]},
            "DocNumber": number,
            "TxnDate": date,
            "Line": out,
        }
        if tax_code:
            body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": tax_code}}
        return body

    def import_csv(self, path: Path) -> None:
        """What QuickBooks' invoice import does with the file: one invoice per InvoiceNo."""
        import csv

        by_name = {name: local for local, name in ((c["id"], c["name"]) for c in CLIENTS)}
        services = {
            "Managed Services": "S-MSP",
            "Backup Storage": "S-BACKUP",
            "Consulting Hours": "S-HOURS",
            "Hardware Setup": "S-HW",
        }
        rows: dict[str, list[dict[str, str]]] = defaultdict(list)
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                rows[row["InvoiceNo"]].append(row)
        for number, lines in rows.items():
            month, day, year = lines[0]["InvoiceDate"].split("/")
            body = self.body(
                number,
                by_name[lines[0]["Customer"]],
                f"{year}-{month}-{day}",
                [
                    (
                        services[r["Item(Product/Service)"]],
                        r["ItemDescription"],
                        Decimal(r["ItemQuantity"]),
                        Decimal(r["ItemRate"]),
                        "TR-HC" if r["ItemTaxCode"] == "Harbor County" else "TR-EX",
                    )
                    for r in lines
                ],
            )
            self.act(
                "csv_imported_in_quickbooks",
                lambda b=body: self.ctl.create(self.realm, "Invoice", b),
            )

    def twin_body(self, i: int, extra: Decimal = Decimal(0)) -> dict[str, Any]:
        doc = self.plan.doc(i)
        lines = [
            (
                ln["service"],
                ln["description"],
                Decimal(ln["quantity"]),
                Decimal(ln["unit_price"]) + (extra if n == 0 else 0),
                ln["tax_region"],
            )
            for n, ln in enumerate(doc["lines"])
        ]
        return self.body(doc["number"], doc["client"], doc["date"], lines)

    def hand_keyed_twins(self, wave1: list[int]) -> None:
        """Before the first cycle, the accountant keyed some invoices in QuickBooks by hand:
        exact copies (to be linked), and copies with a wrong price (to be held)."""
        plain = [
            i
            for i in wave1
            if not self.plan.is_csv(i) and not self.plan.is_credit(i) and not self.plan.discount(i)
        ]
        for i in plain[3:23]:
            self.act(
                "twins_exact", lambda i=i: self.ctl.create(self.realm, "Invoice", self.twin_body(i))
            )
        for i in plain[40:45]:
            made = self.act(
                "twins_wrong",
                lambda i=i: self.ctl.create(
                    self.realm, "Invoice", self.twin_body(i, Decimal("10.00"))
                ),
            )
            self.twins[self.plan.number(i)] = str(made["Id"])

    def clear_twins(self) -> None:
        """The accountant deletes the wrong twins in QuickBooks and retries the held exports."""
        for qbo_id in self.twins.values():
            self.act(
                "twins_deleted_in_quickbooks",
                lambda q=qbo_id: self.ctl.delete_invoice(self.realm, q),
            )
        for item in self.open_exceptions("duplicate_number"):
            self.resolve(item, "retry")

    # ------------------------------------------------------------------ payments

    def local_payments(self) -> int:
        """Two fifths of the payments are recorded in the billing system (imported, then pushed
        by the cycle): the full balance or half of it, on invoices of clients without credits."""
        rows = self.exported()
        wanted = self.plan.payments * 2 // 5
        pays = []
        for i in range(1, self.plan.n + 1):
            row = rows.get(f"D-{i}")
            if len(pays) >= wanted or row is None or row["type"] == "credit_note":
                continue
            if self.plan.client(i) not in ("CL-1", "CL-2") or i % 3 != 0:
                continue
            balance = money(row["balance"])
            amount = balance if i % 2 else (balance / 2).quantize(CENT)
            pays.append(
                {
                    "id": f"P-{i}",
                    "invoice": f"D-{i}",
                    "amount": str(amount),
                    "date": "2026-11-26",
                    "method": "check",
                    "reference": f"CHK-{i}",
                }
            )
        self.import_file("payments.json", {"payments": pays})
        self.events["payments_local"] = len(pays)
        return len(pays)

    def links(self) -> dict[str, str]:
        """Ledger id -> QuickBooks id of every linked invoice and credit note."""
        return {r["id"]: str(r["qbo_id"]) for r in self.exported().values() if r.get("qbo_id")}

    def quickbooks_payments(self) -> None:
        """The other three fifths keyed in QuickBooks: single payments, split payments over two
        or three invoices of one customer, then some moved, voided and deleted."""
        links, rows = self.links(), self.exported()
        left = self.plan.payments - self.events["payments_local"]
        open_docs: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        for local, row in rows.items():
            if row["type"] == "credit_note" or local not in links or row["status"] == "void":
                continue
            doc = self.qbo("Invoice", links[local])
            balance = money(doc.get("Balance"))
            if balance > 0:
                open_docs[str(doc["CustomerRef"]["value"])].append((links[local], balance))
        splits = left // 4
        made: list[str] = []
        customers = sorted(open_docs)
        n = 0
        while len(made) < left and any(open_docs.values()):
            customer = customers[n % len(customers)]
            n += 1
            pool = open_docs[customer]
            if not pool:
                continue
            if len(made) < splits and len(pool) >= 3:
                take = [pool.pop(), pool.pop()] + ([pool.pop()] if len(made) % 2 else [])
                take = [(q, (b / 2).quantize(CENT)) for q, b in take]
                total = sum((b for _, b in take), Decimal(0))
                pay = self.act(
                    "payments_quickbooks_split",
                    lambda c=customer, t=take, a=total: self.ctl.create(
                        self.realm,
                        "Payment",
                        {
                            "CustomerRef": {"value": c},
                            "TotalAmt": str(a),
                            "Line": [
                                {
                                    "Amount": str(b),
                                    "LinkedTxn": [{"TxnId": q, "TxnType": "Invoice"}],
                                }
                                for q, b in t
                            ],
                        },
                    ),
                )
            else:
                qbo_id, balance = pool.pop()
                amount = balance if len(made) % 3 else (balance / 3).quantize(CENT)
                pay = self.act(
                    "payments_quickbooks_single",
                    lambda c=customer, q=qbo_id, a=amount: self.ctl.record_payment(
                        self.realm, c, a, invoice_id=q
                    ),
                )
            made.append(str(pay["Id"]))
        self.sync()
        # Some are changed afterwards: a split moved between its invoices, voids, deletes.
        for pay_id in made[:splits:4]:
            pay = self.qbo("Payment", pay_id)
            lines = pay["Line"]
            if len(lines) >= 2:
                a, b = money(lines[0]["Amount"]), money(lines[1]["Amount"])
                moved = min(a, Decimal("10.00"))
                lines[0]["Amount"], lines[1]["Amount"] = str(a - moved), str(b + moved)
                self.act(
                    "payments_moved_in_quickbooks",
                    lambda p=pay_id, ln=lines: self.ctl.edit_payment(self.realm, p, {"Line": ln}),
                )
        for pay_id in made[splits + 1 :: 12]:
            self.act(
                "payments_voided_in_quickbooks",
                lambda p=pay_id: self.ctl.void_payment(self.realm, p),
            )
        for pay_id in made[splits + 5 :: 12]:
            self.act(
                "payments_deleted_in_quickbooks",
                lambda p=pay_id: self.ctl.delete_payment(self.realm, p),
            )
        self.qbo_payments = made

    # ------------------------------------------------------------------ voids and the gap

    def voids_both_sides(self) -> None:
        rows, links = self.exported(), self.links()
        open_invoices = [
            r["id"]
            for r in rows.values()
            if r["type"] != "credit_note"
            and r["status"] == "open"
            and r["id"] in links
            and money(r["credited"]) == 0
            and money(r["paid"]) == 0
        ]
        open_credits = [
            r["id"]
            for r in rows.values()
            if r["type"] == "credit_note"
            and r["id"] in links
            and money(r["balance"]) == money(r["total"])
        ]
        applied_credits = [
            r["id"]
            for r in rows.values()
            if r["type"] == "credit_note" and money(r["balance"]) < money(r["total"])
        ]
        paid = [
            r["id"] for r in rows.values() if r["type"] != "credit_note" and money(r["paid"]) > 0
        ]
        # Guard rails: voiding a paid invoice or an applied credit note is refused (exit 2).
        for local in paid[:2] + applied_credits[:2]:
            code, _ = self.cli(
                "invoices",
                "void",
                local,
                "--company",
                self.key,
                "--reason",
                "chaos: should be refused",
            )
            self.events["ledger_voids_refused" if code == 2 else "ledger_voids_not_refused"] += 1
            if code != 2:
                self.problems.append(f"void of {local} (money applied) exited {code}, not 2")
        for local in open_invoices[:8] + open_credits[:2]:
            self.ok("invoices", "void", local, "--company", self.key, "--reason", "chaos", "-y")
            self.events["ledger_voids"] += 1
        rest = open_invoices[8:]
        for local in rest[:4]:
            self.act(
                "invoices_voided_in_quickbooks",
                lambda q=links[local]: self.ctl.void_invoice(self.realm, q),
            )
        for local in rest[4:8]:
            self.act(
                "invoices_deleted_in_quickbooks",
                lambda q=links[local]: self.ctl.delete_invoice(self.realm, q),
            )
        for local in open_credits[2:3]:
            self.act(
                "credit_memos_deleted_in_quickbooks",
                lambda q=links[local]: self.ctl.delete_credit_memo(self.realm, q),
            )
        self.gap_candidates = rest[8:]

    def gap(self) -> None:
        """35 days without a cycle (the change feed reaches back 30): inside them QuickBooks
        deletes invoices and a payment, and takes new payments."""
        self.advance(10 * 86400)
        links = self.links()
        for local in self.gap_candidates[:3]:
            self.act(
                "gap_invoices_voided_in_quickbooks",
                lambda q=links[local]: self.ctl.void_invoice(self.realm, q),
            )
        for local in self.gap_candidates[3:8]:
            doc = self.qbo("Invoice", links[local])
            self.act(
                "gap_payments_quickbooks",
                lambda d=doc: self.ctl.record_payment(
                    self.realm, d["CustomerRef"]["value"], money(d["Balance"]), invoice_id=d["Id"]
                ),
            )
        alive = [
            p for p in self.qbo_payments if money(self.maybe("Payment", p).get("TotalAmt")) > 0
        ]
        for pay_id in alive[-3:-1]:
            self.act(
                "gap_payments_voided_in_quickbooks",
                lambda p=pay_id: self.ctl.void_payment(self.realm, p),
            )
        if self.gap_deletes:
            # Deletions inside the gap: only a full id reconciliation can see them.
            for local in self.gap_candidates[8:11]:
                self.act(
                    "gap_invoices_deleted_in_quickbooks",
                    lambda q=links[local]: self.ctl.delete_invoice(self.realm, q),
                )
            for pay_id in alive[-1:]:
                self.act(
                    "gap_payments_deleted_in_quickbooks",
                    lambda p=pay_id: self.ctl.delete_payment(self.realm, p),
                )
        self.advance(25 * 86400)

    def advance(self, seconds: float) -> None:
        """Time passes for both: QuickBooks' clock (the simulator's) and this machine's (the
        clock qbsync reads, shifted by the driver)."""
        self.ctl.advance_clock(seconds)
        self.shift_clock(seconds)

    # ------------------------------------------------------------------ exceptions

    def open_exceptions(self, kind: str | None = None) -> list[dict[str, Any]]:
        args = ["exceptions", "list", "--open", "--company", self.key]
        rows: list[dict[str, Any]] = self.ok(*args, *(["--kind", kind] if kind else []))
        return rows

    def resolve(self, item: dict[str, Any], action: str) -> None:
        self.ok("exceptions", "resolve", str(item["id"]), f"--{action}", "--note", "chaos run")
        self.resolved[f"{item['kind']}: {action}"] += 1

    POLICY: ClassVar[dict[str, str]] = {
        "drift_voided_or_deleted": "accept",
        "duplicate_number": "retry",
    }

    def settle_exceptions(self) -> None:
        """What the accountant does with each open exception: a void or delete made in
        QuickBooks is accepted into the ledger; anything else is left open (and reported)."""
        for item in self.open_exceptions():
            action = self.POLICY.get(item["kind"])
            if action:
                self.resolve(item, action)

    # ------------------------------------------------------------------ the proof

    def quickbooks(self) -> dict[str, list[dict[str, Any]]]:
        """Every invoice, credit memo and payment QuickBooks holds (paged queries)."""
        from qbsync.companies.session import open_client
        from qbsync.companies.session import run as run_async
        from qbsync.workspace import Workspace

        async def read() -> dict[str, list[dict[str, Any]]]:
            with Workspace() as ws:
                client = open_client(ws, self.key)
                async with client:
                    return {
                        e: await client.query_all(e, order_by="Id")
                        for e in ("Invoice", "CreditMemo", "Payment")
                    }

        return run_async(read())

    def checks(self) -> dict[str, Any]:
        code, out = self.cli("reconcile", "--company", self.key)
        summary = (out.get("data") or {}).get("summary", {}) if isinstance(out, dict) else {}
        rows = (out.get("data") or {}).get("rows", []) if isinstance(out, dict) else []
        untied = [r for r in rows if r.get("outcome") != "tied"]
        qbo = self.quickbooks()
        numbers = Counter(
            str(d.get("DocNumber")) for e in ("Invoice", "CreditMemo") for d in qbo[e]
        )
        twice = sorted(n for n, k in numbers.items() if k > 1)
        # Cash QuickBooks' payments put on each invoice (a credit memo line moves credit, no
        # cash: a payment's cash on an invoice is its invoice line less the credit it spends).
        cash: dict[str, Decimal] = defaultdict(Decimal)
        for pay in qbo["Payment"]:
            inv_lines = [
                (ln["LinkedTxn"][0]["TxnId"], money(ln["Amount"]))
                for ln in pay.get("Line") or []
                if ln["LinkedTxn"][0]["TxnType"] == "Invoice"
            ]
            credit = sum(
                (
                    money(ln["Amount"])
                    for ln in pay.get("Line") or []
                    if ln["LinkedTxn"][0]["TxnType"] == "CreditMemo"
                ),
                Decimal(0),
            )
            for qbo_id, amount in inv_lines:
                take = min(credit, amount)
                credit -= take
                cash[str(qbo_id)] += amount - take
        ledger = self.exported()
        mismatched = []
        for row in ledger.values():
            if row["type"] == "credit_note" or not row.get("qbo_id"):
                continue
            want, got = cash.get(str(row["qbo_id"]), Decimal(0)), money(row["paid"])
            if want != got:
                mismatched.append(f"{row['id']}: ledger paid {got}, QuickBooks cash {want}")
        # Each QuickBooks payment that moved cash is in the ledger once (one source), and a
        # payment that only moved credit is not in it at all.
        pays = self.ok("payments", "list", "--company", self.key, "--limit", "1000000")
        sources: dict[str, set[str]] = defaultdict(set)
        for p in pays:
            sources[str(p["qbo_id"])].add(p["source"])
        held = {str(p["Id"]): money(p.get("TotalAmt")) for p in qbo["Payment"]}
        cash_ids = {q for q, amount in held.items() if amount > 0}
        linked = {str(r["qbo_id"]) for r in ledger.values() if r.get("qbo_id")}
        orphan_cash = sorted(q for q, a in cash.items() if a and q not in linked)
        return {
            "reconcile_exit": code,
            "reconcile_summary": summary,
            "reconcile_untied": untied[:20],
            "numbers_held_twice": twice,
            "paid_mismatches": mismatched,
            "cash_on_unlinked_invoices": orphan_cash,
            "payments_missing_in_ledger": sorted(cash_ids - set(sources)),
            "ledger_payments_not_in_quickbooks": sorted(set(sources) - cash_ids),
            "payments_from_two_sources": sorted(q for q, s in sources.items() if len(s) > 1),
            "credit_moves_counted_as_cash": sorted(q for q in sources if held.get(q) == Decimal(0)),
            "credit_only_payments_in_quickbooks": sum(1 for a in held.values() if a == 0),
            "ledger_paid_total": str(sum((money(r["paid"]) for r in ledger.values()), Decimal(0))),
            "quickbooks_cash_total": str(sum(cash.values(), Decimal(0))),
            "qbo_documents": len(qbo["Invoice"]) + len(qbo["CreditMemo"]),
            "qbo_payments": len(qbo["Payment"]),
        }

    def figures(self, seconds: float) -> dict[str, Any]:
        ledger = self.exported()
        kinds = Counter(f"{r['type']}:{r['status']}" for r in ledger.values())
        counts = self.ctl.counts(self.realm)
        every = self.ok("exceptions", "list", "--company", self.key)
        opened = Counter(e["kind"] for e in every)
        first_open = {e["kind"]: e.get("message") for e in every if e["status"] == "open"}
        how = Counter(f"{e['kind']}: {e['status']}/{e.get('resolution') or '-'}" for e in every)
        payments = self.ok("payments", "list", "--company", self.key, "--limit", "100000")
        return {
            "documents": len(ledger),
            "documents_by_state": dict(sorted(kinds.items())),
            "ledger_payments_by_source": dict(Counter(p["source"] for p in payments)),
            "events": dict(sorted(self.events.items())),
            "requests": counts.get("total"),
            "requests_by_endpoint": counts.get("endpoints"),
            "throttled": counts.get("throttled"),
            "cycles": len(self.cycles),
            "cycle_seconds": round(sum(float(c.get("seconds") or 0) for c in self.cycles), 2),
            "per_cycle": [
                {
                    k: c["stats"].get(k)
                    for k in (
                        "exported",
                        "ops_processed",
                        "payments_applied",
                        "exceptions_raised",
                        "api_calls",
                    )
                }
                | {"seconds": round(float(c.get("seconds") or 0), 2)}
                for c in self.cycles
            ],
            "credited_documents": sum(
                1
                for r in ledger.values()
                if r["type"] != "credit_note" and money(r["credited"]) > 0
            ),
            "credited_total": str(
                sum(
                    (money(r["credited"]) for r in ledger.values() if r["type"] != "credit_note"),
                    Decimal(0),
                )
            ),
            "seconds": round(seconds, 1),
            "exceptions_opened": dict(sorted(opened.items())),
            "exceptions_outcome": dict(sorted(how.items())),
            "resolved_by_hand": dict(sorted(self.resolved.items())),
            "left_open_example": first_open,
            "problems": self.problems,
        }


# ---------------------------------------------------------------------- the machine's clock


class ShiftedClock:
    """qbsync reads the wall clock through qbsync.timeutil; this moves what it reads forward,
    as a real gap moves the machine's clock along with QuickBooks'."""

    def __init__(self) -> None:
        self.offset = 0.0

    def install(self, offset: float = 0.0) -> None:
        import datetime as dt
        import types

        from qbsync import timeutil

        self.offset = offset
        clock = self

        class Shifted(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> Shifted:
                real = dt.datetime.now(tz) + dt.timedelta(seconds=clock.offset)
                return cls.fromtimestamp(real.timestamp(), tz)

        timeutil.dt = types.SimpleNamespace(  # type: ignore[assignment]
            datetime=Shifted, UTC=dt.UTC, timedelta=dt.timedelta
        )

    def shift(self, seconds: float) -> None:
        self.offset += seconds


# ---------------------------------------------------------------------- as a benchmark


LAUNCH = (
    "import os, sys; sys.path.insert(0, os.environ['CHAOS_BENCH_DIR']); import chaos; "
    "chaos.ShiftedClock().install(float(os.environ['CHAOS_CLOCK_OFFSET'])); "
    "from qbsync.cli.app import main; main()"
)
CLOCK = ShiftedClock()


def subprocess_cli(*args: str) -> tuple[int, Any]:
    """`qbsync ARGS --json` in a child process whose clock is shifted by CLOCK's offset."""
    import os

    env = dict(
        os.environ,
        CHAOS_BENCH_DIR=str(Path(__file__).resolve().parent),
        CHAOS_CLOCK_OFFSET=str(CLOCK.offset),
    )
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCH, *args, "--json"], capture_output=True, text=True, env=env
    )
    try:
        out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        out = {"raw": proc.stdout, "stderr": proc.stderr}
    return proc.returncode, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--limits", default="intuit", choices=["intuit", "off"])
    parser.add_argument(
        "--gap-deletes",
        action="store_true",
        help="also delete invoices and a payment inside the 35-day gap",
    )
    parser.add_argument("--keep", type=Path, help="copy the workspace here afterwards")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _harness as h

    CLOCK.install()
    with h.workspace("qbsync-chaos-") as home:
        serve = subprocess.Popen(
            [
                *h.CLI,
                "sim",
                "serve",
                "--port",
                "0",
                "--auto-consent",
                "--json",
                "--limits",
                args.limits,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert serve.stdout is not None
            info = json.loads(serve.stdout.readline())
            sim = type("Served", (), {"url": info["url"], "info": info})()
            h.ensure_company("acme")
            h.connect(sim, "acme")  # type: ignore[arg-type]
            with SimControl(info["url"], info["admin_key"], timeout=60) as control:
                chaos = Chaos(
                    subprocess_cli,
                    control,
                    info["realm_id"],
                    "acme",
                    home,
                    CLOCK.shift,
                    args.docs,
                    args.payments,
                    args.gap_deletes,
                )
                figures = chaos.run()
                checks = chaos.checks()
        finally:
            if args.keep:
                import shutil

                shutil.copytree(home, args.keep, dirs_exist_ok=True)
            serve.terminate()
            serve.wait(10)
    print(f"machine: {h.machine()}")
    print(json.dumps({"figures": figures, "checks": checks}, indent=2, default=str))
    ok = (
        checks["reconcile_exit"] == 0
        and not checks["numbers_held_twice"]
        and not checks["paid_mismatches"]
        and not figures["problems"]
    )
    print(
        f"SUMMARY docs={figures['documents']} requests={figures['requests']} "
        f"cycles={figures['cycles']} seconds={figures['seconds']} "
        f"reconcile_exit={checks['reconcile_exit']} twice={len(checks['numbers_held_twice'])} "
        f"paid_mismatches={len(checks['paid_mismatches'])} ok={ok}"
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
