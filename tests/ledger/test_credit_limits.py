"""A credit note's credit is finite: an import refuses a credit application for more than the
note has left, or more than its invoice still owes (docs/ledger.md, "What may change"),
counting what the store holds (local, from QuickBooks, less what the ledger took off) and
what the same import applies before it, across chunks, once each.

EUR documents with 19 % VAT: credit note CN-X is 25.21 + 4.79 = 30.00; INV-A6 is 2 x 50.00
less 10 % = 90.00 + 17.10 = 107.10; INV-A5 is 84.03 + 15.97 = 100.00, paid 99.99 (owes 0.01).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from qbsync.ledger import importer, quickbooks, settling
from qbsync.ledger.reversals import void_unapplying
from qbsync.ledger.store import invoice_balance, invoice_status
from qbsync.store.database import Database
from tests.ledger.util import fingerprint
from tests.support import run_json

D = Decimal

DOCUMENTS = """\
version: 1
clients:
  - {id: CL-DE, name: Spree Praxis, currency: EUR}
services:
  - {id: S-1, name: Managed services}
tax_regions:
  - {id: TR-DE, name: Germany VAT, rate: 19}
invoices:
  - id: CN-X
    number: CN-X
    type: credit_note
    client: CL-DE
    date: 2026-11-01
    status: finalized
    exchange_rate: 1.0825
    lines:
      - {service: S-1, quantity: 1, unit_price: 25.21, tax_region: TR-DE}
  - id: INV-A6
    number: "8006"
    client: CL-DE
    date: 2026-11-01
    status: finalized
    exchange_rate: 1.0825
    lines:
      - {service: S-1, quantity: 2, unit_price: 50.00, tax_region: TR-DE}
      - {kind: discount, description: Loyalty, percent: 10}
  - id: INV-A5
    number: "8005"
    client: CL-DE
    date: 2026-11-01
    status: finalized
    lines:
      - {service: S-1, quantity: 1, unit_price: 84.03, tax_region: TR-DE}
payments:
  - {id: PAY-A5, invoice: INV-A5, amount: 99.99, home_amount: 108.24, date: 2026-11-02}
"""


def _apps(*apps: tuple[str, str, str]) -> str:
    rows = "".join(
        f"  - {{id: {id}, credit_note: CN-X, invoice: {inv}, amount: {amount}, date: 2026-11-03}}\n"
        for id, inv, amount in apps
    )
    return "credit_applications:\n" + rows


def _write(tmp_path: Path, text: str, name: str = "ledger.yaml") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        text = json.dumps(yaml.safe_load(text), default=str, indent=1)
    path.write_text(text)
    return path


def _import(path: Path, code: int = 0, *extra: str) -> Any:
    return run_json("ledger", "import", str(path), "--company", "acme", *extra, code=code)


def _error(path: Path, *extra: str) -> str:
    out = _import(path, 2, *extra)
    assert out["error"]["code"] == "invalid_input"
    return str(out["error"]["message"])


@pytest.mark.parametrize("name", ["ledger.yaml", "ledger.json"])
def test_credit_beyond_the_note_or_the_invoice_is_refused_with_both_figures(
    ledger_company: str, ledger_db: Database, tmp_path: Path, name: str
) -> None:
    before = fingerprint(ledger_db)
    path = _write(
        tmp_path, DOCUMENTS + _apps(("CAX1", "INV-A6", "25.00"), ("CAX2", "INV-A5", "25.00")), name
    )
    error = _error(path)
    where = rf"{re.escape(name)}:\d+: credit_applications\[1\]\.amount: "
    assert re.search(
        where
        + re.escape(
            "credit note CN-X has 5.00 of credit left (of 30.00, 25.00 applied); credit "
            "application CAX2 asks for 25.00"
        ),
        error,
    ), error
    assert re.search(
        where
        + re.escape(
            "invoice INV-A5 owes 0.01 (total 100.00, 99.99 paid and credited); credit "
            "application CAX2 asks for 25.00"
        ),
        error,
    ), error
    assert "credit_applications[0]" not in error  # CAX1 fits
    if name.endswith(".yaml"):  # the line of the record
        line = (
            path.read_text()
            .splitlines()
            .index(next(ln for ln in path.read_text().splitlines() if "id: CAX2" in ln))
            + 1
        )
        assert f"ledger.yaml:{line}: credit_applications[1].amount" in error
    assert fingerprint(ledger_db) == before  # all or nothing: not even the invoices

    # What each may take: CAX2 for the 0.01 INV-A5 owes; CN-X keeps 4.99.
    fixed = _write(
        tmp_path, DOCUMENTS + _apps(("CAX1", "INV-A6", "25.00"), ("CAX2", "INV-A5", "0.01")), name
    )
    _import(fixed)
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("4.99")
    assert invoice_status(ledger_db, "acme", "INV-A5") == "paid"
    assert invoice_balance(ledger_db, "acme", "INV-A6") == D("82.10")
    # The same file again changes nothing, though CN-X has less left than it lists.
    again = _import(fixed)["data"]
    assert again["changed"] is False
    assert again["counts"]["credit_applications"] == {"added": 0, "updated": 0, "unchanged": 2}


def test_a_later_file_counts_what_the_store_holds(
    ledger_company: str, ledger_db: Database, tmp_path: Path
) -> None:
    first = _apps(("CA-1", "INV-A6", "20.00"))
    _import(_write(tmp_path, DOCUMENTS + first))
    before = fingerprint(ledger_db)
    # The export lists CA-1 again, unchanged, with two new ones: CA-1 is counted once.
    over = first + _apps(("CA-2", "INV-A6", "5.00"), ("CA-3", "INV-A6", "5.01"))[21:]
    error = _error(_write(tmp_path, DOCUMENTS + over))
    assert (
        "credit_applications[2].amount: credit note CN-X has 5.00 of credit left (of 30.00, "
        "25.00 applied); credit application CA-3 asks for 5.01" in error
    ), error
    assert "credit_applications[1]" not in error
    assert fingerprint(ledger_db) == before
    exact = first + _apps(("CA-2", "INV-A6", "5.00"), ("CA-3", "INV-A6", "5.00"))[21:]
    _import(_write(tmp_path, DOCUMENTS + exact))
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("0.00")
    assert invoice_status(ledger_db, "acme", "CN-X") == "paid"


@pytest.mark.parametrize(
    "mode", ["in_process", pytest.param("helper", marks=pytest.mark.slow), "dry_run"]
)
def test_applications_in_earlier_chunks_count_once(
    ledger_company: str,
    ledger_db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    # One record a chunk: in process, each chunk is written before the next is planned; with
    # the helper or a dry run, it is not. Either way each application counts once.
    monkeypatch.setattr(importer, "CHUNK", 1)
    if mode == "helper":
        monkeypatch.setattr(importer, "HELPER_FROM_BYTES", 0)
    extra = ("--dry-run",) if mode == "dry_run" else ()
    # A payment in the same import pays INV-A6 in full: it takes no credit.
    paid = DOCUMENTS + "  - {id: PAY-A6, invoice: INV-A6, amount: 107.10, date: 2026-11-02}\n"
    before = fingerprint(ledger_db)
    over = paid + _apps(
        ("CA-1", "INV-A5", "0.01"),
        ("CA-2", "INV-A6", "10.00"),
    )
    error = _error(_write(tmp_path, over), *extra)
    assert (
        "credit_applications[1].amount: invoice INV-A6 owes nothing (balance 0.00: total "
        "107.10, 107.10 paid and credited); credit application CA-2 asks for 10.00" in error
    ), error
    assert "credit_applications[0]" not in error
    assert fingerprint(ledger_db) == before

    # Three chunks that use the note exactly (0.01 + 20.00 + 9.99 = 30.00) import; a fourth
    # cent is refused at its own record, naming the credit left.
    three = DOCUMENTS + _apps(
        ("CA-1", "INV-A5", "0.01"), ("CA-2", "INV-A6", "20.00"), ("CA-3", "INV-A6", "9.99")
    )
    out = _import(_write(tmp_path, three), 0, *extra)["data"]
    assert out["counts"]["credit_applications"]["added"] == 3
    four = DOCUMENTS + _apps(
        ("CA-1", "INV-A5", "0.01"),
        ("CA-2", "INV-A6", "20.00"),
        ("CA-3", "INV-A6", "9.99"),
        ("CA-4", "INV-A6", "0.01"),
    )
    error = _error(_write(tmp_path, four), *extra)
    assert (
        "credit_applications[3].amount: credit note CN-X has 0.00 of credit left (of 30.00, "
        "30.00 applied); credit application CA-4 asks for 0.01" in error
    ), error
    assert "credit_applications[2]" not in error


def test_csv_names_the_row_and_counts_the_files_payments(
    ledger_company: str, ledger_db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "csv"
    root.mkdir()
    (root / "clients.csv").write_text("id,name,currency\nCL-DE,Spree Praxis,EUR\n")
    (root / "services.csv").write_text("id,name\nS-1,Managed services\n")
    (root / "tax_regions.csv").write_text("id,name,rate\nTR-DE,Germany VAT,19\n")
    (root / "invoices.csv").write_text(
        "id,number,client,date,status,type,exchange_rate\n"
        "CN-X,CN-X,CL-DE,2026-11-01,finalized,credit_note,1.0825\n"
        "INV-A6,8006,CL-DE,2026-11-01,finalized,,1.0825\n"
    )
    (root / "invoice_lines.csv").write_text(
        "invoice,kind,service,quantity,unit_price,tax_region,percent\n"
        "CN-X,,S-1,1,25.21,TR-DE,\n"
        "INV-A6,,S-1,2,50.00,TR-DE,\n"
        "INV-A6,discount,,,,,10\n"
    )
    # The credit applications come first in the folder; the payment still counts first.
    (root / "credit_applications.csv").write_text(
        "id,credit_note,invoice,amount,date\n"
        "CA-1,CN-X,INV-A6,7.10,2026-11-03\n"
        "CA-2,CN-X,INV-A6,0.01,2026-11-03\n"
    )
    (root / "payments.csv").write_text(
        "id,invoice,amount,home_amount,date\nPAY-A6,INV-A6,100.00,108.25,2026-11-02\n"
    )
    before = fingerprint(ledger_db)
    error = _error(root)
    assert re.search(
        r"credit_applications\.csv:3 \(row 2\): amount: invoice INV-A6 owes nothing \(balance "
        r"0\.00: total 107\.10, 107\.10 paid and credited\); credit application CA-2 asks for "
        r"0\.01",
        error,
    ), error
    assert "csv:2 (row 1)" not in error
    assert fingerprint(ledger_db) == before
    (root / "credit_applications.csv").write_text(
        "id,credit_note,invoice,amount,date\nCA-1,CN-X,INV-A6,7.10,2026-11-03\n"
    )
    _import(root)
    assert invoice_status(ledger_db, "acme", "INV-A6") == "paid"
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("22.90")


def test_credit_recorded_from_quickbooks_counts(
    ledger_company: str, ledger_db: Database, tmp_path: Path
) -> None:
    _import(_write(tmp_path, DOCUMENTS))
    # A QuickBooks user applied 20.00 of CN-X to INV-A6 (a zero-total Payment).
    quickbooks.record_payment(
        ledger_db,
        "acme",
        quickbooks.QuickBooksPayment(
            "91",
            "0",
            "2026-11-04",
            None,
            None,
            [],
            [settling.CreditLine("CN-X", "INV-A6", D("20.00"))],
        ),
    )
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("10.00")
    error = _error(_write(tmp_path, DOCUMENTS + _apps(("CA-1", "INV-A6", "15.00"))))
    assert (
        "credit note CN-X has 10.00 of credit left (of 30.00, 20.00 applied); credit "
        "application CA-1 asks for 15.00" in error
    ), error
    _import(_write(tmp_path, DOCUMENTS + _apps(("CA-1", "INV-A6", "10.00"))))
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("0.00")


def test_credit_the_ledger_took_off_is_the_notes_again(
    ledger_company: str, ledger_db: Database, tmp_path: Path
) -> None:
    first = DOCUMENTS + _apps(("CA-1", "INV-A6", "30.00"))
    _import(_write(tmp_path, first))
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("0.00")
    # INV-A6 was issued in error: voided with its credit taken off, CN-X holds 30.00 again.
    void_unapplying(ledger_db, "acme", "INV-A6", "issued in error")
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("30.00")
    # The billing system's next export still lists CA-1 (reversed, not counted) and applies
    # the credit anew to the invoice re-issued as INV-A7.
    inv_a7 = """\
  - id: INV-A7
    number: "8007"
    client: CL-DE
    date: 2026-11-05
    status: finalized
    lines:
      - {service: S-1, quantity: 1, unit_price: 100.00, tax_region: TR-DE}
payments:"""
    reissued = first.replace("payments:", inv_a7)
    out = _import(_write(tmp_path, reissued + _apps(("CA-2", "INV-A7", "30.00"))[21:]))["data"]
    assert out["counts"]["credit_applications"]["added"] == 1
    assert out["counts"]["credit_applications"]["reversed"] == 1
    assert invoice_balance(ledger_db, "acme", "CN-X") == D("0.00")
    assert invoice_balance(ledger_db, "acme", "INV-A7") == D("89.00")


def test_quickbooks_credit_beyond_the_ledgers_application_on_an_invoice_is_not_swallowed(
    ledger_company: str, ledger_db: Database, tmp_path: Path
) -> None:
    # The ledger applies 20.00 of CN-X to INV-A6 itself; a QuickBooks payment puts 30.00 of
    # CN-X on INV-A6. 20.00 of it is the ledger's application, counted once; the other 10.00
    # is credit QuickBooks moved, not the ledger's, and goes on to be judged as such.
    _import(_write(tmp_path, DOCUMENTS + _apps(("CA-20", "INV-A6", "20.00"))))
    money, moved = settling.split_credits(
        ledger_db, "acme", [("INV-A6", D("30.00"))], [("CN-X", D("30.00"))]
    )
    assert money == [("INV-A6", D("0.00"))]
    assert moved == [settling.CreditLine("CN-X", "INV-A6", D("10.00"))]
