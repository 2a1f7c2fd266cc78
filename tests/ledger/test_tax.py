"""Tax, discounts and totals: figures worked out by hand here, held against what the ledger
computes and stores (docs/ledger.md, "Tax, discounts and totals")."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from qbsync.errors import InputError
from qbsync.ledger import quickbooks
from qbsync.ledger.store import (
    get_invoice,
    invoice_balance,
    invoice_status,
    record_local_payment,
)
from qbsync.store import open_store
from qbsync.store.database import Database
from qbsync.store.db import apply_migrations
from tests.fixtures.ledger import ensure_company
from tests.ledger.util import fingerprint
from tests.support import run_json

D = Decimal

CATALOG = """\
version: 1
clients:
  - {id: CL-US, name: Hudson Dental, currency: USD}
  - {id: CL-UK, name: Thames Clinic, currency: GBP}
  - {id: CL-DE, name: Spree Praxis, currency: EUR}
services:
  - {id: S-1, name: Managed services}
tax_regions:
  - id: TR-NYC
    name: New York City
    components: [{name: NY State, rate: 4.5}, {name: NYC, rate: 4.375}]
  - {id: TR-EX, name: Exempt, rate: 0}
  - {id: TR-TX, name: Texas, rate: 8.25}
  - {id: TR-VAT, name: UK VAT standard, rate: 20}
  - {id: TR-DE, name: Germany VAT, rate: 19}
"""


def _import(tmp_path: Path, text: str, name: str = "ledger.yaml", code: int = 0) -> Any:
    path = tmp_path / name
    path.write_text(CATALOG + text)
    return run_json("ledger", "import", str(path), "--company", "acme", code=code)


def _lines(db: Database, invoice: str) -> list[tuple[str, str, str, str]]:
    return [
        (r["amount"], r["discount"], r["tax"], r["total"])
        for r in db.query(
            "SELECT amount, discount, tax, total FROM ledger_invoice_lines WHERE invoice_id = ? "
            "ORDER BY line_no",
            [invoice],
        )
    ]


def _taxes(db: Database, invoice: str) -> list[tuple[str, str, str | None, str, str]]:
    return [
        (r["tax_region_id"], r["name"], r["rate"], r["base"], r["amount"])
        for r in db.query(
            "SELECT * FROM ledger_invoice_taxes WHERE invoice_id = ? ORDER BY tax_region_id, name",
            [invoice],
        )
    ]


EXCLUSIVE = """\
invoices:
  - id: INV-NYC
    number: "5001"
    client: CL-US
    date: 2026-11-02
    status: finalized
    lines:
      - {service: S-1, quantity: 3, unit_price: 99.99, tax_region: TR-NYC}
      - {service: S-1, quantity: 1, unit_price: 150.00, tax_region: TR-NYC}
      - {service: S-1, quantity: 1, unit_price: 40.00, tax_region: TR-EX}
"""


def test_exclusive_invoice_in_a_combined_rate_region(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(tmp_path, EXCLUSIVE)
    db = open_store()
    inv = get_invoice(db, "acme", "INV-NYC")
    # Lines: 3 x 99.99 = 299.97, 150.00 (NYC), 40.00 (exempt). Subtotal 489.97.
    # NYC net 449.97: state 449.97 x 4.5 % = 20.24865 -> 20.25; city x 4.375 % = 19.6861875
    # -> 19.69; 39.94 in all (one rate of 8.875 % would round 39.9348375 to 39.93).
    assert (inv.subtotal, inv.discount, inv.tax, inv.total) == (
        D("489.97"),
        D("0.00"),
        D("39.94"),
        D("529.91"),
    )
    assert inv.amounts == "exclusive" and inv.currency == "USD"
    assert _taxes(db, "INV-NYC") == [
        ("TR-EX", "Exempt", "0", "40.00", "0.00"),
        ("TR-NYC", "NY State", "4.5", "449.97", "20.25"),
        ("TR-NYC", "NYC", "4.375", "449.97", "19.69"),
    ]
    # 39.94 spread by net: 39.94 x 299.97 / 449.97 = 26.6258... -> 26.63; the last takes 13.31.
    assert _lines(db, "INV-NYC") == [
        ("299.97", "0.00", "26.63", "326.60"),
        ("150.00", "0.00", "13.31", "163.31"),
        ("40.00", "0.00", "0.00", "40.00"),
    ]
    assert invoice_status(db, "acme", "INV-NYC") == "open"
    assert invoice_balance(db, "acme", "INV-NYC") == D("529.91")
    # The same file again changes nothing: the figures are part of what was hashed.
    out = _import(tmp_path, EXCLUSIVE)["data"]
    assert out["counts"]["invoices"] == {"added": 0, "updated": 0, "unchanged": 1}


def test_inclusive_invoice(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(
        tmp_path,
        """\
invoices:
  - id: INV-UK
    number: "5002"
    client: CL-UK
    date: 2026-11-02
    status: finalized
    amounts: inclusive
    lines:
      - {service: S-1, quantity: 2, unit_price: 59.99, tax_region: TR-VAT}
""",
    )
    inv = get_invoice(open_store(), "acme", "INV-UK")
    # Gross 119.98; tax = 119.98 - 119.98 / 1.20 = 19.99666... -> 20.00; the total is the gross.
    assert (inv.subtotal, inv.tax, inv.total, inv.currency) == (
        D("119.98"),
        D("20.00"),
        D("119.98"),
        "GBP",
    )
    assert inv.lines[0].tax == D("20.00") and inv.lines[0].total == D("119.98")


def test_discounts_by_amount_and_percent_taxable_and_not(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(
        tmp_path,
        """\
invoices:
  - id: INV-TX
    number: "5003"
    client: CL-US
    date: 2026-11-02
    status: finalized
    lines:
      - {service: S-1, quantity: 10, unit_price: 25.00, tax_region: TR-TX}
      - {service: S-1, quantity: 1, unit_price: 50.00, tax_region: TR-TX}
      - {kind: discount, description: Loyalty, percent: 10}
      - {kind: discount, description: Voucher, amount: 15.00, taxable: false}
""",
    )
    db = open_store()
    inv = get_invoice(db, "acme", "INV-TX")
    # Subtotal 300.00. 10 % = 30.00 (before tax), voucher 15.00 (after tax): discount 45.00.
    # Taxed net 300.00 - 30.00 = 270.00 x 8.25 % = 22.275 -> 22.28 (half-up).
    # Total 300.00 - 45.00 + 22.28 = 277.28.
    assert (inv.subtotal, inv.discount, inv.tax, inv.total) == (
        D("300.00"),
        D("45.00"),
        D("22.28"),
        D("277.28"),
    )
    # Per line: discounts 45.00 split 250:50 = 37.50, 7.50; taxable 30.00 split 25.00, 5.00, so
    # nets 225.00 and 45.00; tax 22.28 x 225 / 270 = 18.5666... -> 18.57, the last 3.71.
    assert _lines(db, "INV-TX") == [
        ("250.00", "37.50", "18.57", "231.07"),
        ("50.00", "7.50", "3.71", "46.21"),
    ]
    discounts = list(
        db.query(
            "SELECT line_no, amount, percent, taxable, discount FROM ledger_invoice_discounts "
            "ORDER BY line_no"
        )
    )
    assert discounts == [
        {"line_no": 3, "amount": None, "percent": "10", "taxable": 1, "discount": "30.00"},
        {"line_no": 4, "amount": "15.00", "percent": None, "taxable": 0, "discount": "15.00"},
    ]


def test_a_taxed_credit_note_applied_in_full(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(
        tmp_path,
        EXCLUSIVE
        + """\
  - id: CN-NYC
    number: CN-5001
    type: credit_note
    client: CL-US
    date: 2026-11-05
    status: finalized
    lines:
      - {service: S-1, quantity: 1, unit_price: 100.00, tax_region: TR-NYC}
credit_applications:
  - {id: CA-1, credit_note: CN-NYC, invoice: INV-NYC, amount: 108.88, date: 2026-11-06}
""",
    )
    db = open_store()
    note = get_invoice(db, "acme", "CN-NYC")
    # 100.00 x 4.5 % = 4.50; x 4.375 % = 4.375 -> 4.38; credit 108.88 with tax.
    assert (note.tax, note.total) == (D("8.88"), D("108.88"))
    assert invoice_status(db, "acme", "CN-NYC") == "paid"
    assert invoice_balance(db, "acme", "CN-NYC") == D("0.00")
    assert invoice_balance(db, "acme", "INV-NYC") == D("529.91") - D("108.88")
    assert invoice_status(db, "acme", "INV-NYC") == "partially_paid"


def test_a_eur_invoice_keeps_its_rate_and_home_total(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(
        tmp_path,
        """\
invoices:
  - id: INV-DE
    number: "5004"
    client: CL-DE
    date: 2026-11-02
    status: finalized
    exchange_rate: 1.0825
    lines:
      - {service: S-1, quantity: 1, unit_price: 1000.00, tax_region: TR-DE}
""",
    )
    inv = get_invoice(open_store(), "acme", "INV-DE")
    # 1000.00 x 19 % = 190.00; total 1190.00 EUR; at 1.0825, 1288.175 -> 1288.18 USD.
    assert (inv.currency, inv.tax, inv.total) == ("EUR", D("190.00"), D("1190.00"))
    assert (inv.exchange_rate, inv.home_total) == (D("1.0825"), D("1288.18"))
    row = next(r for r in run_json("ledger", "export", "invoices")["data"] if r["id"] == "INV-DE")
    assert {k: row[k] for k in ("subtotal", "tax", "total", "balance", "currency")} == {
        "subtotal": "1000.00",
        "tax": "190.00",
        "total": "1190.00",
        "balance": "1190.00",
        "currency": "EUR",
    }
    assert (row["exchange_rate"], row["home_total"]) == ("1.0825", "1288.18")


def test_given_tax_figures_are_taken_and_must_agree(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(tmp_path, "")
    db = open_store()
    before = fingerprint(db)
    bad = """\
invoices:
  - id: INV-GIVEN
    number: "5005"
    client: CL-US
    date: 2026-11-02
    status: finalized
    tax_total: 8.01
    lines:
      - {service: S-1, quantity: 1, unit_price: 50.00, tax_region: TR-TX, tax_amount: 5.00}
      - {service: S-1, quantity: 1, unit_price: 30.00, tax_region: TR-TX, tax_amount: 3.00}
"""
    error = _import(tmp_path, bad, code=2)["error"]["message"]
    line = (CATALOG + bad).splitlines().index("    tax_total: 8.01") + 1
    assert f"ledger.yaml:{line}: invoices[0].tax_total: tax_total 8.01 differs from the sum " in (
        error
    )
    assert "(8.00)" in error
    assert fingerprint(db) == before
    # Agreeing figures are taken as given, not recomputed (8.25 % would give 4.13 and 2.48).
    _import(tmp_path, bad.replace("8.01", "8.00"))
    inv = get_invoice(db, "acme", "INV-GIVEN")
    assert (inv.tax, inv.total) == (D("8.00"), D("88.00"))
    assert [ln.tax for ln in inv.lines] == [D("5.00"), D("3.00")]


def test_paying_the_total_partly_in_full_and_over(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(
        tmp_path,
        EXCLUSIVE
        + EXCLUSIVE.removeprefix("invoices:\n")
        .replace("INV-NYC", "INV-B")
        .replace('"5001"', '"5011"')
        + EXCLUSIVE.removeprefix("invoices:\n")
        .replace("INV-NYC", "INV-C")
        .replace('"5001"', '"5021"'),
    )
    db = open_store()
    record_local_payment(
        db, "acme", id="P-1", invoice_id="INV-NYC", amount=D("200.00"), date="2026-11-10"
    )
    assert invoice_status(db, "acme", "INV-NYC") == "partially_paid"
    assert invoice_balance(db, "acme", "INV-NYC") == D("329.91")
    record_local_payment(
        db, "acme", id="P-2", invoice_id="INV-NYC", amount=D("329.91"), date="2026-11-11"
    )
    assert invoice_status(db, "acme", "INV-NYC") == "paid"
    assert invoice_balance(db, "acme", "INV-NYC") == D("0.00")
    record_local_payment(
        db, "acme", id="P-3", invoice_id="INV-B", amount=D("530.00"), date="2026-11-10"
    )
    assert invoice_status(db, "acme", "INV-B") == "overpaid"
    assert invoice_balance(db, "acme", "INV-B") == D("-0.09")
    # QuickBooks' TotalAmt paid there: the ledger's total, so paid with nothing left.
    quickbooks.record_payment(
        db,
        "acme",
        quickbooks.QuickBooksPayment(
            "77",
            "0",
            "2026-11-12",
            None,
            None,
            [quickbooks.PaymentLine("12", "INV-C", D("529.91"))],
        ),
    )
    assert invoice_status(db, "acme", "INV-C") == "paid"
    assert invoice_balance(db, "acme", "INV-C") == D("0.00")
    rows = {r["id"]: r for r in run_json("ledger", "export", "invoices")["data"]}
    assert (rows["INV-C"]["status"], rows["INV-C"]["paid"], rows["INV-C"]["balance"]) == (
        "paid",
        "529.91",
        "0.00",
    )
    assert (rows["INV-B"]["status"], rows["INV-B"]["balance"]) == ("overpaid", "-0.09")


def _insert(db: Database, table: str, row: dict[str, Any]) -> None:
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", list(row.values()))


def test_a_store_from_before_tax_migrates(tmp_path: Path) -> None:
    ensure_company("acme")
    db = open_store(migrate=False)
    apply_migrations(db, stop_before="0024_ledger_tax")
    assert "ledger_invoice_taxes" not in db.table_names()
    now = "2026-10-01T00:00:00+00:00"
    # An invoice as the ledger stored it before tax, with the hash of its content then.
    old_content = {
        "number": "900",
        "client": "CL-US",
        "type": "standard",
        "date": "2026-10-01",
        "due_date": None,
        "terms": None,
        "currency": "USD",
        "memo": None,
        "lines": [
            {
                "service": "S-1",
                "description": None,
                "quantity": "2",
                "unit_price": "125.50",
                "tax_region": "TR-NYC",
                "service_date": None,
            }
        ],
    }
    digest = hashlib.sha256(
        json.dumps(old_content, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    for table, row in (
        ("ledger_clients", {"id": "CL-US", "name": "Hudson Dental", "currency": "USD"}),
        ("ledger_services", {"id": "S-1", "name": "Managed services"}),
        ("ledger_tax_regions", {"id": "TR-NYC", "name": "New York City"}),
    ):
        _insert(db, table, {"company": "acme", **row, "created_at": now, "updated_at": now})
    _insert(
        db,
        "ledger_invoices",
        {
            "company": "acme",
            "id": "INV-OLD",
            "number": "900",
            "client_id": "CL-US",
            "status": "finalized",
            "date": "2026-10-01",
            "currency": "USD",
            "subtotal": "251.00",
            "content_hash": digest,
            "created_at": now,
            "updated_at": now,
        },
    )
    _insert(
        db,
        "ledger_invoice_lines",
        {
            "company": "acme",
            "invoice_id": "INV-OLD",
            "line_no": 1,
            "service_id": "S-1",
            "quantity": "2",
            "unit_price": "125.50",
            "amount": "251.00",
            "tax_region_id": "TR-NYC",
        },
    )
    db.conn.commit()
    db.close()

    db = open_store()  # applies 0024
    inv = get_invoice(db, "acme", "INV-OLD")
    assert (inv.subtotal, inv.discount, inv.tax, inv.total, inv.amounts) == (
        D("251.00"),
        D("0.00"),
        D("0.00"),
        D("251.00"),
        "exclusive",
    )
    assert (inv.lines[0].discount, inv.lines[0].tax, inv.lines[0].total) == (
        D("0.00"),
        D("0.00"),
        D("251.00"),
    )
    assert invoice_balance(db, "acme", "INV-OLD") == D("251.00")
    # The billing system's unchanged file is still the same invoice after the migration.
    path = tmp_path / "old.yaml"
    path.write_text(
        """\
version: 1
invoices:
  - id: INV-OLD
    number: "900"
    client: CL-US
    date: 2026-10-01
    status: finalized
    lines:
      - {service: S-1, quantity: 2, unit_price: 125.50, tax_region: TR-NYC}
"""
    )
    out = run_json("ledger", "import", str(path), "--company", "acme")["data"]
    assert out["counts"]["invoices"] == {"added": 0, "updated": 0, "unchanged": 1}


def test_mappings_check_names_a_region_without_a_rate(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(
        tmp_path,
        """\
  - {id: TR-NJ, name: New Jersey}
invoices:
  - id: INV-NJ
    number: "5006"
    client: CL-US
    date: 2026-11-02
    status: finalized
    lines:
      - {service: S-1, quantity: 1, unit_price: 10.00, tax_region: TR-NJ}
  - id: INV-NJ-GIVEN
    number: "5007"
    client: CL-US
    date: 2026-11-02
    status: finalized
    lines:
      - {service: S-1, quantity: 1, unit_price: 10.00, tax_region: TR-NJ, tax_amount: 0.66}
""",
    )
    missing = run_json("mappings", "check", code=1)["data"]["missing"]
    # INV-NJ-GIVEN brought its own tax: only INV-NJ needed a rate the region lacks.
    assert {
        "kind": "tax_rates",
        "local_id": "TR-NJ",
        "name": "New Jersey",
        "invoices": ["INV-NJ"],
    } in missing
    assert [r["local_id"] for r in missing if r["kind"] == "tax_rates"] == ["TR-NJ"]
    assert get_invoice(open_store(), "acme", "INV-NJ").tax == D("0.00")


FORMATS_YAML = """\
invoices:
  - id: INV-F
    number: "5008"
    client: CL-UK
    date: 2026-11-02
    status: finalized
    amounts: inclusive
    exchange_rate: 1.27
    lines:
      - {service: S-1, quantity: 3, unit_price: 33.33, tax_region: TR-VAT}
      - {kind: discount, description: Early payment, percent: 2.5}
payments:
  - {id: P-F, invoice: INV-F, amount: 50.00, home_amount: 63.50, date: 2026-11-03}
"""


def _csv_files(root: Path) -> None:
    root.mkdir()
    (root / "clients.csv").write_text("id,name,currency\nCL-UK,Thames Clinic,GBP\n")
    (root / "services.csv").write_text("id,name\nS-1,Managed services\n")
    (root / "tax_regions.csv").write_text("id,name,rate\nTR-VAT,UK VAT standard,20\n")
    (root / "invoices.csv").write_text(
        "id,number,client,date,status,amounts,exchange_rate\n"
        "INV-F,5008,CL-UK,2026-11-02,finalized,inclusive,1.27\n"
    )
    (root / "invoice_lines.csv").write_text(
        "invoice,kind,service,description,quantity,unit_price,tax_region,percent\n"
        "INV-F,,S-1,,3,33.33,TR-VAT,\n"
        "INV-F,discount,,Early payment,,,,2.5\n"
    )
    (root / "payments.csv").write_text(
        "id,invoice,amount,home_amount,date\nP-F,INV-F,50.00,63.50,2026-11-03\n"
    )


def test_yaml_json_and_csv_carry_the_same_tax_fields(tmp_path: Path) -> None:
    # Gross 99.99; 2.5 % = 2.49975 -> 2.50 before tax; net 97.49 of which tax is
    # 97.49 x 20 / 120 = 16.2483... -> 16.25; total 99.99 - 2.50 = 97.49; at 1.27,
    # 123.8123 -> 123.81.
    expected = (D("99.99"), D("2.50"), D("16.25"), D("97.49"), D("123.81"))
    catalog = """\
version: 1
clients:
  - {id: CL-UK, name: Thames Clinic, currency: GBP}
services:
  - {id: S-1, name: Managed services}
tax_regions:
  - {id: TR-VAT, name: UK VAT standard, rate: 20}
"""
    as_yaml = tmp_path / "ledger.yaml"
    as_yaml.write_text(catalog + FORMATS_YAML)
    as_json = tmp_path / "ledger.json"
    # The same document as JSON (numbers as JSON numbers, read back exactly as decimals).
    as_json.write_text(json.dumps(yaml.safe_load(catalog + FORMATS_YAML), default=str))
    as_csv = tmp_path / "csv"
    _csv_files(as_csv)

    seen = []
    for index, source in enumerate((as_yaml, as_json, as_csv)):
        company = f"co{index}"
        ensure_company(company)
        run_json("ledger", "import", str(source), "--company", company)
        db = open_store()
        inv = get_invoice(db, company, "INV-F")
        assert (inv.subtotal, inv.discount, inv.tax, inv.total, inv.home_total) == expected
        assert inv.amounts == "inclusive"
        home = db.execute(
            "SELECT home_amount FROM ledger_payments WHERE company = ?", [company]
        ).fetchone()
        assert home == ("63.50",)
        seen.append(inv.content_hash)
    assert len(set(seen)) == 1  # the same invoice whatever the format


def test_a_finalized_invoices_tax_fields_cannot_change(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(tmp_path, EXCLUSIVE)
    db = open_store()
    before = fingerprint(db)
    changed = EXCLUSIVE + "      - {kind: discount, amount: 5.00}\n"
    error = _import(tmp_path, changed, code=2)["error"]["message"]
    assert "invoices[0].lines: invoice INV-NYC is finalized and cannot change" in error
    inclusive = EXCLUSIVE.replace(
        "    status: finalized\n", "    status: finalized\n    amounts: inclusive\n"
    )
    error = _import(tmp_path, inclusive, code=2)["error"]["message"]
    assert "invoices[0].amounts: invoice INV-NYC is finalized and cannot change" in error
    assert fingerprint(db) == before
    # A new rate for the region leaves the issued invoice's figures as they were.
    path = tmp_path / "new-rate.yaml"
    path.write_text(CATALOG.replace("rate: 4.375", "rate: 4.5") + EXCLUSIVE)
    out = run_json("ledger", "import", str(path), "--company", "acme")["data"]
    assert out["counts"]["tax_regions"]["updated"] == 1
    assert out["counts"]["invoices"] == {"added": 0, "updated": 0, "unchanged": 1}
    assert get_invoice(db, "acme", "INV-NYC").tax == D("39.94")


def test_bad_tax_and_discount_fields_name_their_place(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(tmp_path, "")
    db = open_store()
    before = fingerprint(db)
    bad = """\
  - {id: TR-BOTH, name: Both, rate: 5, components: [{name: A, rate: 1}]}
  - {id: TR-HIGH, name: High, rate: 101}
invoices:
  - id: INV-BAD
    number: "5009"
    client: CL-US
    date: 2026-11-02
    status: finalized
    amounts: gross
    lines:
      - {service: S-1, unit_price: 10.00}
      - {kind: discount, amount: 5.00, percent: 10}
      - {kind: discount, amount: 500.00, tax_region: TR-TX}
"""
    error = _import(tmp_path, bad, code=2)["error"]["message"]
    text = (CATALOG + bad).splitlines()

    def at(fragment: str) -> int:
        return next(i for i, line in enumerate(text, start=1) if fragment in line)

    for place, message in (
        (f"ledger.yaml:{at('TR-BOTH')}: tax_regions[5]", "give a rate or components, not both"),
        (
            f"ledger.yaml:{at('TR-HIGH')}: tax_regions[6].rate",
            "101 is not a percentage from 0 to 100",
        ),
        (
            f"ledger.yaml:{at('amounts: gross')}: invoices[0].amounts",
            "Input should be 'exclusive' or 'inclusive'",
        ),
        (
            f"ledger.yaml:{at('unit_price: 10.00}')}: invoices[0].lines[0].quantity",
            "field required",
        ),
        (
            f"ledger.yaml:{at('percent: 10}')}: invoices[0].lines[1]",
            "a discount line gives an amount or a percent (one of them)",
        ),
        (
            f"ledger.yaml:{at('tax_region: TR-TX}')}: invoices[0].lines[2].tax_region",
            "unknown field",
        ),
    ):
        assert f"{place}: {message}" in error, (place, error)
    assert fingerprint(db) == before


def test_a_foreign_currency_payment_keeps_both_amounts(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(tmp_path, FORMATS_YAML.split("payments:")[0])
    # INV-F comes to 97.49 GBP; paid in full, 123.81 USD at the invoice's rate.
    db = open_store()
    record_local_payment(
        db,
        "acme",
        id="P-GBP",
        invoice_id="INV-F",
        amount=D("97.49"),
        home_amount=D("123.81"),
        date="2026-11-04",
    )
    row = db.execute(
        "SELECT amount, home_amount FROM ledger_payments WHERE id = 'P-GBP'"
    ).fetchone()
    assert row == ("97.49", "123.81")
    assert invoice_status(db, "acme", "INV-F") == "paid"
    assert invoice_balance(db, "acme", "INV-F") == D("0.00")
    with pytest.raises(InputError, match=r"home_amount: 1\.001 has more than 2 decimal places"):
        record_local_payment(
            db,
            "acme",
            id="P-GBP-2",
            invoice_id="INV-F",
            amount=D("1.00"),
            home_amount="1.001",
            date="2026-11-04",
        )
