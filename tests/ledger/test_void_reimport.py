"""The billing system's unchanged export, imported again after the ledger voided one of its
invoices (`invoices void`, or a QuickBooks void accepted): the invoice stays void and is counted
`kept_void`, the rest of the file imports. Listed with other content, or as a draft, it is still
an error: the billing system says something the ledger cannot do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qbsync.ledger import quickbooks
from qbsync.ledger.store import invoice_status
from qbsync.store.database import Database
from tests.ledger.util import fingerprint
from tests.support import run, run_json

LISTS = {
    "clients": [{"id": "CL-1", "name": "Acme Dental", "currency": "USD"}],
    "services": [{"id": "S-1", "name": "Managed seats"}],
}


def _invoice(id: str, price: str = "150.00", status: str = "finalized") -> dict[str, Any]:
    return {
        "id": id,
        "number": id,
        "client": "CL-1",
        "date": "2026-10-01",
        "status": status,
        "lines": [{"service": "S-1", "quantity": 2, "unit_price": price}],
    }


def _payment(id: str, invoice: str, amount: str = "100.00") -> dict[str, Any]:
    return {"id": id, "invoice": invoice, "amount": amount, "date": "2026-10-08"}


def _file(tmp_path: Path, name: str = "ledger.json", **sections: list[dict[str, Any]]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"version": 1, **LISTS, **sections}), "utf-8")
    return path


def _import(path: Path, code: int = 0, *more: str) -> Any:
    return run_json("ledger", "import", str(path), "--company", "acme", *more, code=code)


def _ops(db: Database) -> list[tuple[str, str]]:
    return [(r["kind"], r["subject_id"]) for r in db.query("SELECT * FROM outbox ORDER BY id")]


@pytest.fixture
def export(ledger_company: str, tmp_path: Path) -> Path:
    """The billing system's export: CNI-1 (paid 100.00 by PAY-1) and CNI-2, both finalized."""
    path = _file(
        tmp_path,
        invoices=[_invoice("CNI-1"), _invoice("CNI-2")],
        payments=[_payment("PAY-1", "CNI-1")],
    )
    _import(path)
    return path


def test_the_same_export_after_invoices_void_imports_the_rest(
    export: Path, tmp_path: Path, ledger_db: Database
) -> None:
    run_json("invoices", "void", "CNI-1", "--reason", "wrong client", "--unapply", "--yes")
    assert invoice_status(ledger_db, "acme", "CNI-1") == "void"
    ops = _ops(ledger_db)

    again = _import(export)["data"]
    assert again["counts"]["invoices"] == {
        "added": 0,
        "updated": 0,
        "unchanged": 1,
        "kept_void": 1,
    }
    assert again["counts"]["payments"] == {
        "added": 0,
        "updated": 0,
        "unchanged": 0,
        "reversed": 1,
    }
    assert not again["changed"] and again["ops"] == {}
    assert _ops(ledger_db) == ops

    # The next export adds an invoice and a payment: they import, the void one stays void.
    later = _file(
        tmp_path,
        "later.json",
        invoices=[_invoice("CNI-1"), _invoice("CNI-2"), _invoice("CNI-3")],
        payments=[_payment("PAY-1", "CNI-1"), _payment("PAY-3", "CNI-3")],
    )
    out = _import(later)["data"]
    assert out["counts"]["invoices"]["added"] == 1
    assert out["counts"]["invoices"]["kept_void"] == 1
    assert out["counts"]["payments"]["added"] == 1
    assert out["ops"] == {"export_invoice": 1, "push_payment": 1}
    assert invoice_status(ledger_db, "acme", "CNI-1") == "void"
    assert invoice_status(ledger_db, "acme", "CNI-3") == "partially_paid"


def test_the_same_export_after_a_quickbooks_void_was_accepted(
    export: Path, ledger_db: Database
) -> None:
    quickbooks.accept_void(ledger_db, "acme", "CNI-1")
    out = _import(export)["data"]
    assert out["counts"]["invoices"]["kept_void"] == 1
    assert out["counts"]["payments"]["reversed"] == 1
    assert invoice_status(ledger_db, "acme", "CNI-1") == "void"


def test_the_import_summary_names_the_kept_void_invoices(export: Path) -> None:
    run_json("invoices", "void", "CNI-1", "--reason", "wrong client", "--unapply", "--yes")
    result = run("ledger", "import", str(export), "--company", "acme")
    assert result.exit_code == 0, result.stderr
    assert "kept_void" in result.stdout
    quiet = run("ledger", "import", str(export), "--company", "acme", "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")


def test_a_new_payment_on_the_kept_void_invoice_is_refused(
    export: Path, tmp_path: Path, ledger_db: Database
) -> None:
    run_json("invoices", "void", "CNI-1", "--reason", "wrong client", "--unapply", "--yes")
    before = fingerprint(ledger_db)
    path = _file(
        tmp_path,
        "more.json",
        invoices=[_invoice("CNI-1"), _invoice("CNI-4")],
        payments=[_payment("PAY-9", "CNI-1")],
    )
    error = _import(path, 2)["error"]
    assert (
        "payments[0].invoice: invoice CNI-1 is void; only a finalized invoice" in error["message"]
    )
    assert fingerprint(ledger_db) == before


def test_the_voided_invoice_with_other_content_is_still_an_error(
    export: Path, tmp_path: Path, ledger_db: Database
) -> None:
    run_json("invoices", "void", "CNI-1", "--reason", "wrong client", "--unapply", "--yes")
    before = fingerprint(ledger_db)
    changed = _file(tmp_path, "changed.json", invoices=[_invoice("CNI-1", "155.00")])
    error = _import(changed, 2)["error"]
    assert (
        "invoice CNI-1 is void and cannot change (stored '150.00', file '155.00')"
        in (error["message"])
    )
    draft = _file(tmp_path, "draft.json", invoices=[_invoice("CNI-1", status="draft")])
    error = _import(draft, 2)["error"]
    assert "status: invoice CNI-1 is void and cannot be un-voided" in error["message"]
    assert fingerprint(ledger_db) == before


def test_an_invoice_the_billing_system_sent_void_is_not_finalized_again(
    ledger_company: str, tmp_path: Path, ledger_db: Database
) -> None:
    # Never issued as far as the ledger knows: the file said void from the start.
    _import(_file(tmp_path, "void.json", invoices=[_invoice("CNI-5", status="void")]))
    before = fingerprint(ledger_db)
    error = _import(_file(tmp_path, "issued.json", invoices=[_invoice("CNI-5")]), 2)["error"]
    assert "invoice CNI-5 is void and cannot be un-voided" in error["message"]
    assert fingerprint(ledger_db) == before


def test_a_file_saying_void_is_unchanged_as_before(export: Path, tmp_path: Path) -> None:
    run_json("invoices", "void", "CNI-1", "--reason", "wrong client", "--unapply", "--yes")
    path = _file(tmp_path, "void.json", invoices=[_invoice("CNI-1", status="void")])
    out = _import(path)["data"]
    assert out["counts"]["invoices"] == {"added": 0, "updated": 0, "unchanged": 1}
