"""`qbsync invoices export --csv`: the file QuickBooks Online's invoice import reads."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.fixtures.ledger import SampleLedger
from tests.support import run_json
from tests.sync.helpers import set_mapping

# Intuit's invoice import layout (the column names of its sample file, which the import screen
# maps on its own); required: invoice number, customer, invoice and due dates, item amount.
DOCUMENTED = [
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "ServiceDate",
]
REQUIRED = ["InvoiceNo", "Customer", "InvoiceDate", "DueDate", "ItemAmount"]


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_csv_header_and_rows_follow_the_import_layout(
    sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    out = tmp_path / "invoices.csv"
    data = run_json("invoices", "export", "--csv", str(out))["data"]
    header, rows = read(out)
    assert header == DOCUMENTED
    # three finalized invoices (the draft stays home, the credit note is not an invoice)
    assert data["invoices"] == 3 and data["credit_notes_skipped"] == 1
    assert data["lines"] == len(rows)
    assert sorted({r["InvoiceNo"] for r in rows}) == ["1001", "1002", "1003"]
    for row in rows:
        for column in REQUIRED:
            assert row[column], (column, row)
        month, day_, year = row["InvoiceDate"].split("/")
        assert len(month) == 2 and len(day_) == 2 and len(year) == 4

    first = [r for r in rows if r["InvoiceNo"] == "1001"]
    assert [(r["ItemQuantity"], r["ItemRate"], r["ItemAmount"]) for r in first] == [
        ("12", "150", "1800.00"),
        ("3", "45", "135.00"),
    ]
    assert first[0]["Customer"] == "Acme Dental"  # the ledger's name while unmapped
    assert first[0]["InvoiceDate"] == "10/01/2026" and first[0]["DueDate"] == "10/31/2026"
    assert first[0]["Terms"] == "Net 30" and first[0]["Memo"] == "October managed services"
    assert first[1]["ItemTaxCode"] == "Harbor County"

    second = [r for r in rows if r["InvoiceNo"] == "1002"]
    # no due date in the ledger: date + the terms' 15 days
    assert second[0]["DueDate"] == "10/18/2026"
    assert second[0]["ItemQuantity"] == "7.5" and second[0]["ServiceDate"] == "10/02/2026"


def test_csv_uses_quickbooks_names_from_mappings_and_since(
    sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    from qbsync.workspace import Workspace

    with Workspace() as ws:
        set_mapping(ws, "acme", "customers", "CL-2", "58", "Brightside Law")
        set_mapping(ws, "acme", "items", "S-HOURS", "7", "Consulting Hours")
        set_mapping(ws, "acme", "tax_codes", "TR-EX", "NON", "NON")
    out = tmp_path / "since.csv"
    run_json(
        "invoices",
        "export",
        "--csv",
        str(out),
        "--since",
        "2026-10-02",
        "--date-format",
        "dd/MM/yyyy",
    )
    _, rows = read(out)
    assert "1001" not in {r["InvoiceNo"] for r in rows}  # dated 2026-10-01
    row = next(r for r in rows if r["InvoiceNo"] == "1002")
    assert row["Customer"] == "Brightside Law"
    assert row["Item(Product/Service)"] == "Consulting Hours"
    assert row["ItemTaxCode"] == "NON"
    assert row["InvoiceDate"] == "03/10/2026"


def test_export_without_csv_or_ids_is_a_usage_error(sample_ledger: SampleLedger) -> None:
    err = run_json("invoices", "export", code=2)["error"]
    assert "--csv" in err["hint"]
    assert run_json("invoices", "export", "--since", "2026-01-01", code=2)["error"]


def test_the_invoices_written_are_marked_held_and_released_offline(
    sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    def held() -> dict[str, str | None]:
        return {r["id"]: r["held"] for r in run_json("invoices", "list")["data"]}

    out = run_json(
        "invoices", "export", "--csv", str(tmp_path / "late.csv"), "--since", "2026-10-02"
    )["data"]
    assert out["marked"] == out["invoices"] == 2
    assert held() == {
        "INV-1001": None,  # dated before --since: not in the file
        "INV-1002": "csv fallback",
        "INV-1003": "csv fallback",
        "INV-1004": None,  # a draft
        "CN-2001": None,
    }
    reason = {r["id"]: r for r in run_json("invoices", "list")["data"]}["INV-1002"]["held_reason"]
    assert reason.startswith("written to CSV on ") and "(late.csv)" in reason
    assert "qbsync invoices release INV-1002" in reason

    # No connection needed to decide: released, the next cycle would create it.
    released = run_json("invoices", "release", "INV-1002")["data"]
    assert released["released"] == ["INV-1002"]
    assert held()["INV-1002"] is None
    refused = run_json("invoices", "release", "INV-1002", code=2)["error"]
    assert "is not held: it was released on " in refused["message"]
    # Written to a file again: held again.
    run_json("invoices", "export", "--csv", str(tmp_path / "all.csv"))
    assert held()["INV-1002"] == "csv fallback" and held()["INV-1001"] == "csv fallback"
