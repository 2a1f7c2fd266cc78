"""Tax given on what is not taxed: a `tax_total` on an invoice with no taxed line, or a line's
`tax_amount` on a line with no tax region or one at 0 %, is refused at import (docs/ledger.md,
"Tax, discounts and totals"), in YAML, JSON and CSV alike; and a `tax_total` is spread over the
taxed lines only."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from qbsync.ledger import tax
from qbsync.ledger.store import get_invoice
from qbsync.store import open_store
from tests.fixtures.ledger import ensure_company
from tests.ledger.util import fingerprint
from tests.support import run_json

D = Decimal

CATALOG = """\
version: 1
clients:
  - {id: CL-US, name: Hudson Dental, currency: USD}
  - {id: CL-DE, name: Spree Praxis, currency: EUR}
services:
  - {id: S-1, name: Managed services}
tax_regions:
  - {id: TR-EX, name: Exempt, rate: 0}
  - {id: TR-TX, name: Texas, rate: 8.25}
  - {id: TR-ZERO, name: Zero-rated, components: [{name: State, rate: 0}, {name: City, rate: 0}]}
  - {id: TR-OPEN, name: Rate kept in the billing system}
"""

# Every way of putting tax where nothing is taxed, each with the place it is named at.
BAD = """\
invoices:
  - id: INV-NONE
    number: "6001"
    client: CL-US
    date: 2026-11-02
    status: finalized
    tax_total: 10.00
    lines:
      - {service: S-1, quantity: 2, unit_price: 50.00}
  - id: INV-EXEMPT
    number: "6002"
    client: CL-DE
    date: 2026-11-02
    status: finalized
    exchange_rate: 1.0825
    tax_total: 10.00
    lines:
      - {service: S-1, quantity: 1, unit_price: 200.00, tax_region: TR-EX}
      - {service: S-1, quantity: 1, unit_price: 20.00, tax_region: TR-ZERO}
      - {kind: discount, description: Loyalty, percent: 10}
  - id: CN-EXEMPT
    number: CN-6003
    type: credit_note
    client: CL-US
    date: 2026-11-03
    status: finalized
    amounts: inclusive
    tax_total: 4.00
    lines:
      - {service: S-1, quantity: 1, unit_price: 40.00, tax_region: TR-EX}
  - id: INV-LINES
    number: "6004"
    client: CL-US
    date: 2026-11-02
    status: finalized
    lines:
      - {kind: discount, description: Welcome, amount: 5.00}
      - {service: S-1, quantity: 1, unit_price: 100.00, tax_region: TR-TX, tax_amount: 7.84}
      - {service: S-1, quantity: 1, unit_price: 30.00, tax_amount: 2.50}
      - {service: S-1, quantity: 1, unit_price: 30.00, tax_region: TR-EX, tax_amount: 1.25}
"""

EXPECTED = (
    (
        "invoices[0].tax_total",
        "tax_total 10.00 on an invoice none of whose lines is taxed (they carry 0.00 of tax",
    ),
    (
        "invoices[1].tax_total",
        "tax_total 10.00 on an invoice none of whose lines is taxed (they carry 0.00 of tax",
    ),
    (
        "invoices[2].tax_total",
        "tax_total 4.00 on an invoice none of whose lines is taxed (they carry 0.00 of tax",
    ),
    (
        "invoices[3].lines[2].tax_amount",
        "tax_amount 2.50 on a line with no tax region, which carries 0.00 of tax",
    ),
    (
        "invoices[3].lines[3].tax_amount",
        "tax_amount 1.25 on a line in tax region TR-EX at 0 %, which carries 0.00 of tax",
    ),
)


def _error(path: Path) -> str:
    out = run_json("ledger", "import", str(path), "--company", "acme", code=2)
    assert out["error"]["code"] == "invalid_input"
    return str(out["error"]["message"])


def _line_of(text: str, fragment: str, after: str) -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if fragment in lines[i]) + 1


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_tax_on_untaxed_lines_is_refused_naming_the_place_and_both_figures(
    tmp_path: Path, fmt: str
) -> None:
    ensure_company("acme")
    db = open_store()
    before = fingerprint(db)
    text = CATALOG + BAD
    if fmt == "json":
        text = json.dumps(yaml.safe_load(text), default=str, indent=1)
    path = tmp_path / f"ledger.{fmt}"
    path.write_text(text)
    error = _error(path)
    for place, message in EXPECTED:
        assert re.search(rf"ledger\.{fmt}:\d+: {re.escape(place)}: {re.escape(message)}", error), (
            place,
            error,
        )
    if fmt == "yaml":  # the line of the field itself
        assert f"ledger.yaml:{_line_of(text, 'tax_total: 10.00', 'INV-NONE')}: invoices[0]" in error
        assert (
            f"ledger.yaml:{_line_of(text, 'tax_amount: 2.50', 'INV-LINES')}: invoices[3]" in error
        )
    assert "invoices[3].lines[1]" not in error  # the taxed line's tax_amount is fine
    assert fingerprint(db) == before  # nothing written


def test_csv_refuses_tax_on_untaxed_lines_naming_the_row(tmp_path: Path) -> None:
    ensure_company("acme")
    db = open_store()
    before = fingerprint(db)
    root = tmp_path / "csv"
    root.mkdir()
    (root / "clients.csv").write_text("id,name,currency\nCL-DE,Spree Praxis,EUR\n")
    (root / "services.csv").write_text("id,name\nS-1,Managed services\n")
    (root / "tax_regions.csv").write_text("id,name,rate\nTR-EX,Exempt,0\nTR-DE,Germany VAT,19\n")
    (root / "invoices.csv").write_text(
        "id,number,client,date,status,tax_total,exchange_rate\n"
        "INV-A,7001,CL-DE,2026-11-02,finalized,10.00,1.0825\n"
        "INV-B,7002,CL-DE,2026-11-02,finalized,,\n"
    )
    (root / "invoice_lines.csv").write_text(
        "invoice,kind,service,quantity,unit_price,tax_region,tax_amount,percent\n"
        "INV-A,,S-1,1,100.00,TR-EX,,\n"
        "INV-A,,S-1,1,50.00,,,\n"
        "INV-B,,S-1,1,100.00,TR-DE,19.00,\n"
        "INV-B,,S-1,1,10.00,TR-EX,1.90,\n"
    )
    error = _error(root)
    assert (
        "invoices.csv:2 (row 1): tax_total: tax_total 10.00 on an invoice none of whose lines "
        "is taxed (they carry 0.00 of tax" in error
    )
    assert (
        "invoice_lines.csv:5 (row 4): tax_amount: tax_amount 1.90 on a line in tax "
        "region TR-EX at 0 %, which carries 0.00 of tax" in error
    ), error
    assert fingerprint(db) == before


def _import(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "ledger.yaml"
    path.write_text(CATALOG + text)
    return run_json("ledger", "import", str(path), "--company", "acme")


def test_tax_total_goes_on_the_taxed_lines_only(tmp_path: Path) -> None:
    ensure_company("acme")
    _import(
        tmp_path,
        """\
invoices:
  - id: INV-MIX
    number: "6010"
    client: CL-US
    date: 2026-11-02
    status: finalized
    tax_total: 8.25
    lines:
      - {service: S-1, quantity: 1, unit_price: 100.00, tax_region: TR-TX}
      - {service: S-1, quantity: 1, unit_price: 100.00, tax_region: TR-EX}
      - {service: S-1, quantity: 1, unit_price: 50.00}
      - {kind: discount, description: Loyalty, percent: 10}
  - id: INV-ZERO
    number: "6011"
    client: CL-US
    date: 2026-11-02
    status: finalized
    tax_total: 0.00
    lines:
      - {service: S-1, quantity: 1, unit_price: 60.00, tax_region: TR-EX, tax_amount: 0.00}
  - id: INV-OPEN
    number: "6012"
    client: CL-US
    date: 2026-11-02
    status: finalized
    tax_total: 6.00
    lines:
      - {service: S-1, quantity: 1, unit_price: 60.00, tax_region: TR-OPEN}
      - {service: S-1, quantity: 1, unit_price: 40.00, tax_region: TR-EX}
""",
    )
    db = open_store()
    mix = get_invoice(db, "acme", "INV-MIX")
    # Subtotal 250.00, 10 % = 25.00 before tax spread 10.00 / 10.00 / 5.00; the 8.25 given
    # goes on the Texas line alone, none on the exempt line or the line without a region.
    assert [ln.tax for ln in mix.lines] == [D("8.25"), D("0.00"), D("0.00")]
    assert (mix.discount, mix.tax, mix.total) == (D("25.00"), D("8.25"), D("233.25"))
    zero = get_invoice(db, "acme", "INV-ZERO")
    assert (zero.tax, zero.total) == (D("0.00"), D("60.00"))
    # A region whose rate the ledger does not know takes the billing system's figure.
    open_ = get_invoice(db, "acme", "INV-OPEN")
    assert [ln.tax for ln in open_.lines] == [D("6.00"), D("0.00")]
    assert (open_.tax, open_.total) == (D("6.00"), D("106.00"))


def test_an_invoice_issued_before_the_check_still_reimports_and_voids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store from before the check holds INV-NONE with 10.00 of tax on its untaxed line.
    ensure_company("acme")
    old = """\
invoices:
  - id: INV-NONE
    number: "6001"
    client: CL-US
    date: 2026-11-02
    status: finalized
    tax_total: 10.00
    lines:
      - {service: S-1, quantity: 2, unit_price: 50.00}
"""
    with monkeypatch.context() as before_the_check:
        before_the_check.setattr(tax, "_taxing", lambda line, rates: True)
        _import(tmp_path, old)
    db = open_store()
    assert get_invoice(db, "acme", "INV-NONE").total == D("110.00")
    # Issued, it cannot change: the same export again is a no-op, and voiding it goes through.
    assert _import(tmp_path, old)["data"]["changed"] is False
    out = _import(tmp_path, old.replace("status: finalized", "status: void"))["data"]
    assert out["counts"]["invoices"]["updated"] == 1
    voided = get_invoice(db, "acme", "INV-NONE")
    assert voided.status == "void"
    # A void changes no amount: the stored figures stay, whatever today's rules would give.
    assert (voided.subtotal, voided.tax, voided.total) == (D("100.00"), D("10.00"), D("110.00"))
