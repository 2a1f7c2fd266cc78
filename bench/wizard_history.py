"""History benchmark: 5,000 invoices already in QuickBooks, a ledger holding the same documents,
and the wizard's history step (`wizard history --accept-confident`: read every invoice and
credit memo, match, link, read back and apply the QuickBooks payments) timed from the first
QuickBooks read to the last payment applied.

The simulator is filled in-process, saved, and served from its own process (as QuickBooks is
served from Intuit's, so its work is not counted against the wizard's). The client paces itself
at Intuit's limits (10 requests a second), as it does against QuickBooks.

The mix: 4,500 copies (confident), 250 a cent off, 150 under another customer, 100 voided in
QuickBooks; 100 more ledger invoices that QuickBooks does not have; 1,000 of the confident
invoices part-paid in QuickBooks.

Run: uv run python bench/wizard_history.py [--invoices N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from qbsync.store.tx import transaction

SERVE = """
import sys, time
from qbsync.sim.core import Simulator
from qbsync.sim.server import SimServer
sim = Simulator(state_file=sys.argv[1], auto_consent=True)
sim.state_file = None  # loaded; not written back after every POST (a 5,000-invoice state)
server = SimServer(sim=sim, port=int(sys.argv[2]))
server.start()
print(server.url, flush=True)
time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="qbsync-bench-")
    os.environ["QBSYNC_HOME"] = home
    os.environ.setdefault("NO_COLOR", "1")

    from qbsync import config
    from qbsync.companies.connection import connect_company
    from qbsync.companies.credentials import set_app_credentials
    from qbsync.outbox import OpKind, SubjectType, enqueue
    from qbsync.qbo.authorize import headless_browser
    from qbsync.sim.core import Simulator
    from qbsync.timeutil import utc_now_iso
    from qbsync.wizard import golive, service
    from qbsync.wizard.history import propose
    from qbsync.workspace import Workspace

    rng = random.Random(args.seed)
    key = "bench"
    cfg = config.set_value(config.load(), "secrets", "file")
    config.save(config.set_value(cfg, f"companies.{key}.environment", "sim"))
    server = None
    try:
        started = time.perf_counter()
        sim = Simulator("demo", auto_consent=True)
        realm = sim.default_realm
        company = sim.company(realm)
        item = next(i for i in company.data["Item"].values() if i["Name"] == "Managed Services")
        n_customers = 200
        customer_ids = [
            str(sim.create(realm, "Customer", {"DisplayName": f"Bench Client {n:03d}"})["Id"])
            for n in range(n_customers)
        ]
        total = args.invoices
        kinds = ["copy"] * 90 + ["cent"] * 5 + ["customer"] * 3 + ["voided"] * 2
        truth_confident: set[str] = set()
        ledger_rows, qbo_paid = [], 0
        for n in range(total + 100):
            inv_id, number = f"B-{n:05d}", f"{100000 + n}"
            client = n % n_customers
            lines = [Decimal(rng.randrange(1000, 500000)) / 100 for _ in range(rng.randint(1, 3))]
            date = f"2026-{1 + n % 9:02d}-{1 + n % 28:02d}"
            ledger_rows.append((inv_id, number, client, sum(lines, Decimal(0)), date))
            if n >= total:
                continue  # only in the ledger
            kind = kinds[n % len(kinds)]
            if kind == "cent":
                lines[0] += Decimal("0.01")
            body_lines = [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": amount,
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item["Id"]},
                        "Qty": 1,
                        "UnitPrice": amount,
                        "TaxCodeRef": {"value": "NON"},
                    },
                }
                for amount in lines
            ]
            cust = customer_ids[(client + 1) % n_customers if kind == "customer" else client]
            doc = company.create(
                "Invoice",
                {
                    "CustomerRef": {"value": cust},
                    "DocNumber": number,
                    "TxnDate": date,
                    "Line": body_lines,
                },
            )
            if kind == "voided":
                sim.void_invoice(realm, str(doc["Id"]))
            if kind == "copy":
                truth_confident.add(inv_id)
                if len(truth_confident) % 4 == 1 and qbo_paid < 1000:
                    sim.record_payment(realm, cust, Decimal("1.00"), str(doc["Id"]))
                    qbo_paid += 1
        state = Path(home) / "sim-state.json"
        sim.state_file = state
        sim.save()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(state), str(free_port())],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with Workspace() as ws:
            set_app_credentials(ws, key, sim.client_id, sim.client_secret, "sim", url)
            connect_company(ws, key, "sim", url, open_url=headless_browser)
        now = utc_now_iso()
        with Workspace() as ws, transaction(ws.store):
            db = ws.store
            for n in range(n_customers):
                db.execute(
                    "INSERT INTO ledger_clients (company, id, name, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [key, f"C{n:03d}", f"Bench Client {n:03d}", now, now],
                )
                db.execute(
                    "INSERT INTO mappings (company, kind, local_id, qbo_id, qbo_name, updated_at) "
                    "VALUES (?, 'customers', ?, ?, ?, ?)",
                    [key, f"C{n:03d}", customer_ids[n], f"Bench Client {n:03d}", now],
                )
            for inv_id, number, client, subtotal, date in ledger_rows:
                db.execute(
                    "INSERT INTO ledger_invoices (company, id, number, client_id, type, status, "
                    "date, subtotal, content_hash, finalized_at, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, 'standard', 'finalized', ?, ?, ?, ?, ?, ?)",
                    [
                        key,
                        inv_id,
                        number,
                        f"C{client:03d}",
                        date,
                        str(subtotal),
                        inv_id,
                        now,
                        now,
                        now,
                    ],
                )
                enqueue(db, key, OpKind.EXPORT_INVOICE, SubjectType.INVOICE, inv_id)
        print(
            f"setup: {total} QuickBooks invoices, {qbo_paid} QuickBooks payments, "
            f"{len(ledger_rows)} ledger invoices in {time.perf_counter() - started:.1f}s"
        )

        # What `qbsync wizard history --accept-confident` does, phase by phase.
        with Workspace() as ws:
            t0, c0 = time.perf_counter(), time.process_time()
            documents = service.read_documents(ws, key)
            t1 = time.perf_counter()
            proposals = propose(ws.store, key, documents)
            t2 = time.perf_counter()
            chosen = [
                (p.invoice_id, p.entity, p.doc)
                for p in proposals
                if p.status == "confident" and p.doc is not None
            ]
            result = service.link_history(ws, key, chosen, source="bench")
            t3, c3 = time.perf_counter(), time.process_time()
            linked = {
                r[0]
                for r in ws.store.execute(
                    "SELECT local_id FROM qbo_links WHERE company = ? AND linked_by = 'wizard'",
                    [key],
                )
            }
            reasons: dict[str, int] = {}
            for p in proposals:
                if p.status == "review":
                    head = p.why.split(":")[0]
                    reasons[head] = reasons.get(head, 0) + 1
            preview = golive.preview(ws.store, key, None)
            exported_linked = [r for r in preview["will_export"] if r["invoice"] in linked]
        seconds = t3 - t0
        print(
            f"read {sum(len(v) for v in documents.values())} documents in {t1 - t0:.2f}s, "
            f"matched in {t2 - t1:.2f}s, linked {result['linked']} and applied "
            f"{result['payments_applied']} of {result['payments_read']} QuickBooks payments "
            f"in {t3 - t2:.2f}s (CPU {c3 - c0:.2f}s in all)"
        )
        print(
            f"review: {sum(reasons.values())} {reasons}; not in QuickBooks: "
            f"{sum(1 for p in proposals if p.status == 'missing')}"
        )
        print(
            f"first cycle would export {len(preview['will_export'])} documents, "
            f"{len(exported_linked)} of them linked"
        )
        assert linked == truth_confident, "the linked set differs from the truth"
        assert result["payments_applied"] == qbo_paid
        assert not exported_linked
        print(
            f"\nSUMMARY history: {total} QuickBooks invoices, {len(linked)} confident linked "
            f"(all and only the true ones), {result['payments_applied']} payments read back, "
            f"in {seconds:.2f}s wall, {c3 - c0:.2f}s CPU (limit 10s; load average "
            f"{os.getloadavg()[0]:.1f}); the first cycle exports none of them"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(Path(home), ignore_errors=True)


if __name__ == "__main__":
    main()
