from __future__ import annotations

from qbsync.doctor.mappings import check_mappings
from qbsync.store.database import Database
from qbsync.workspace import Workspace
from tests.fixtures.ledger import SAMPLE_MAPPINGS, SampleLedger
from tests.mappings.lists import CountingSource
from tests.support import run, run_json


def _mark_exported(db: Database, invoice_id: str) -> None:
    db.execute(
        "UPDATE outbox SET state = 'done', qbo_id = '900' WHERE subject_id = ? "
        "AND kind = 'export_invoice'",
        [invoice_id],
    )
    db.conn.commit()


def test_check_lists_exactly_the_missing_mappings(
    sample_ledger: SampleLedger, ledger_db: Database
) -> None:
    for kind, local, qbo in (
        ("items", "S-MSP", "2"),
        ("items", "S-HW", "4"),
        ("tax_codes", "TR-EX", "NON"),
        ("customers", "CL-1", "1"),
    ):
        run_json("mappings", "set", kind, local, qbo)
    _mark_exported(ledger_db, "INV-1002")  # exported: what it uses no longer matters

    out = run_json("mappings", "check", code=1)["data"]
    assert out == {
        "company": "acme",
        "missing": [
            {
                "kind": "customers",
                "local_id": "CL-3",
                "name": "Cedar Clinic",
                "invoices": ["INV-1003"],
            },
            {
                "kind": "items",
                "local_id": "S-BACKUP",
                "name": "Cloud backup (per 100 GB)",
                "invoices": ["INV-1001"],
            },
            {
                "kind": "items",
                "local_id": "S-HOURS",
                "name": "Consulting hours",
                "invoices": ["INV-1003"],
            },
            {
                "kind": "tax_codes",
                "local_id": "TR-HC",
                "name": "Harbor County",
                "invoices": ["INV-1001"],
            },
            {
                "kind": "terms",
                "local_id": "T-30",
                "name": "Net 30",
                "invoices": ["INV-1001", "INV-1003"],
            },
        ],
        "notes": [],
    }
    human = run("mappings", "check")
    assert human.exit_code == 1 and "S-BACKUP" in human.stdout and "CL-4" not in human.stdout

    with Workspace() as ws:
        [doctor] = check_mappings(ws, "acme")
    assert doctor.status == "warn" and "5 unmapped" in doctor.detail


def test_check_passes_once_the_demo_mappings_are_in(
    sample_ledger: SampleLedger, demo_lists: CountingSource
) -> None:
    assert run_json("mappings", "check", code=1)["data"]["missing"]
    run_json("mappings", "import", str(SAMPLE_MAPPINGS))
    assert run_json("mappings", "check")["data"] == {"company": "acme", "missing": [], "notes": []}
    with Workspace() as ws:
        [doctor] = check_mappings(ws, None)
    assert doctor.status == "ok"
