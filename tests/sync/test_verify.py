"""Every create and update verified to the cent, per tax profile of the simulator: documents go
out through a real sync cycle (in-process simulator, real OAuth connection, the ledger imported
through `qbsync ledger import`), QuickBooks' answer is checked against the ledger, each invoice's
`TotalAmt` is then paid in QuickBooks (the simulator's control surface acting as a user), and
after the next cycle `qbsync ledger export invoices --format json` shows it paid, balance 0.00.

Each profile also carries a deliberate disagreement, which must surface as `total_mismatch`
naming both figures (and `tax_mismatch` under `tax.source: ledger`); figures are worked out by
hand (docs/ledger.md's rounding rule)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run, run_json
from tests.sync.helpers import sim_docs, store_query
from tests.sync.test_payload_tax import doc, export, item, money

EXPORT_FIELDS = {
    "subtotal",
    "discount",
    "tax",
    "total",
    "paid",
    "credited",
    "balance",
    "currency",
}


@pytest.fixture(autouse=True)
def consistent_simulator(connected_company: ConnectedCompany) -> Any:
    yield
    assert connected_company.control.invariants() == []


def open_exceptions(kind: str) -> dict[str, dict[str, Any]]:
    """Open exceptions of a kind, by the document number in their label."""
    rows = run_json("exceptions", "list", "--open", "--kind", kind)["data"]
    return {str(r["subject_label"]).rsplit(" ", 1)[-1]: r for r in rows}


def ledger_export() -> dict[str, dict[str, Any]]:
    """`qbsync ledger export invoices --format json`, by document number."""
    result = run("ledger", "export", "invoices", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {r["number"]: r for r in json.loads(result.stdout)}


def pay_in_quickbooks(company: ConnectedCompany, docs: dict[str, dict[str, Any]], *numbers: str):
    """A QuickBooks user receives each invoice's TotalAmt; then one cycle reads it."""
    for number in numbers:
        invoice = docs[number]
        company.control.record_payment(
            company.realm_id,
            invoice["CustomerRef"]["value"],
            str(money(invoice["TotalAmt"])),
            invoice_id=str(invoice["Id"]),
        )
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle


def assert_paid(docs: dict[str, dict[str, Any]], *numbers: str) -> dict[str, dict[str, Any]]:
    rows = ledger_export()
    for number in numbers:
        row = rows[number]
        assert set(row) >= EXPORT_FIELDS, row
        assert (row["status"], row["balance"]) == ("paid", "0.00"), row
        assert Decimal(row["total"]) == money(docs[number]["TotalAmt"]), row
        assert Decimal(row["paid"]) == Decimal(row["total"]), row
        assert Decimal(row["tax"]) == money(docs[number]["TxnTaxDetail"]["TotalTax"]), row
    return rows


def assert_no_mismatch(*numbers: str) -> None:
    for kind in ("total_mismatch", "tax_mismatch"):
        found = open_exceptions(kind)
        assert not set(numbers) & set(found), found


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_us_manual_tax_verified_and_paid(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ledger = {
        "clients": [{"id": "C-1", "name": "Hudson Bakery", "currency": "USD"}],
        "tax_regions": [
            {
                "id": "TR-NYC",
                "name": "New York City",
                "components": [{"name": "NYC", "rate": "4.5"}, {"name": "NY", "rate": "4.375"}],
            },
            {"id": "TR-NYS", "name": "NY State", "rate": "4.375"},
            {"id": "TR-EX", "name": "Exempt"},
        ],
        "invoices": [
            # 99.98 taxed 8.87, 120.00 exempt: 228.85
            doc(
                "7001",
                "C-1",
                [item("S-SUP", "2", "49.99", "TR-NYC"), item("S-CON", "1", "120.00", "TR-EX")],
            ),
            # 499.90 less 10 % = 449.91, tax 20.25 + 19.68: 489.84
            doc(
                "7002",
                "C-1",
                [
                    item("S-SUP", "10", "49.99", "TR-NYC"),
                    {"kind": "discount", "description": "Loyalty", "percent": "10"},
                ],
            ),
            doc("CN-7004", "C-1", [item("S-HW", "1", "19.95", "TR-NYS")], type="credit_note"),
            # The region mapped to TAX with no real code: QuickBooks has no rate and taxes
            # nothing, while the ledger holds 100.00 x 4.375 % = 4.38 (4.375 half-up).
            doc("7009", "C-1", [item("S-CON", "1", "100.00", "TR-TAX")]),
        ],
    }
    ledger["tax_regions"].append({"id": "TR-TAX", "name": "Taxed", "rate": "4.375"})
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-1": "Hudson Bakery"},
        {"TR-NYC": "New York City", "TR-NYS": "NY State", "TR-EX": "NON", "TR-TAX": "TAX"},
    )
    assert_no_mismatch("7001", "7002", "CN-7004")
    total = open_exceptions("total_mismatch")["7009"]
    assert total["message"].startswith("invoice 7009: ledger 104.38 vs QuickBooks 100.00")
    assert "tax: ledger 4.38 vs QuickBooks 0.00" in total["message"]
    assert (total["data"]["ledger_total"], total["data"]["quickbooks_total"]) == (
        "104.38",
        "100.00",
    )
    tax = open_exceptions("tax_mismatch")["7009"]
    assert (tax["data"]["ledger_tax"], tax["data"]["quickbooks_tax"]) == ("4.38", "0.00")

    pay_in_quickbooks(connected_company, docs, "7001", "7002")
    rows = assert_paid(docs, "7001", "7002")
    assert (rows["7001"]["total"], rows["7001"]["tax"]) == ("228.85", "8.87")
    assert (rows["7002"]["discount"], rows["7002"]["tax"]) == ("49.99", "39.93")
    assert rows["CN-7004"]["total"] == "20.82"


AST_LEDGER: dict[str, Any] = {
    "clients": [{"id": "C-1", "name": "Hudson Bakery", "currency": "USD"}],
    "tax_regions": [
        # QuickBooks' rates for the address: 4 + 4.5 + 0.375
        {
            "id": "TR-NYC",
            "name": "New York City",
            "components": [
                {"name": "NY State", "rate": "4"},
                {"name": "New York City", "rate": "4.5"},
                {"name": "NY MCTD", "rate": "0.375"},
            ],
        },
        # A rate the billing system got wrong: 8 % where QuickBooks charges 8.875 %
        {"id": "TR-OLD", "name": "New York City (old rate)", "rate": "8"},
    ],
    "invoices": [
        # 99.98: 4.00 + 4.50 + 0.37 = 8.87 either way
        doc("7101", "C-1", [item("S-SUP", "2", "49.99", "TR-NYC")]),
        # 99.98 at 8 % = 7.9984 -> 8.00 in the ledger; QuickBooks 8.87: 108.85
        doc("7102", "C-1", [item("S-SUP", "2", "49.99", "TR-OLD")]),
        # credit note: 19.95: 0.80 + 0.90 + 0.07 = 1.77 in QuickBooks; 1.60 at 8 %
        doc("CN-7103", "C-1", [item("S-HW", "1", "19.95", "TR-OLD")], type="credit_note"),
    ],
}


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-ast")])
def test_us_automated_tax_source_quickbooks_takes_its_tax(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    run_json("config", "set", f"companies.{connected_company.key}.tax.source", "quickbooks")
    docs = export(
        tmp_path,
        connected_company,
        AST_LEDGER,
        {"C-1": "Hudson Bakery"},
        {"TR-NYC": "TAX", "TR-OLD": "TAX"},
    )
    assert_no_mismatch("7101", "7102", "CN-7103")
    rows = ledger_export()
    # The ledger took QuickBooks' tax (and so its total) on the document it had wrong.
    assert (rows["7102"]["tax"], rows["7102"]["total"]) == ("8.87", "108.85")
    assert (rows["CN-7103"]["tax"], rows["CN-7103"]["total"]) == ("1.77", "21.72")
    assert money(docs["7102"]["TotalAmt"]) == Decimal("108.85")
    assert rows["7102"]["balance"] == "108.85"

    # Each line took its share of QuickBooks' tax (one taxed line: all of it).
    lines = store_query(
        "SELECT tax, total FROM ledger_invoice_lines WHERE invoice_id = 'D-7102' ORDER BY line_no"
    )
    assert lines == [{"tax": "8.87", "total": "108.85"}]
    # Importing the same file again is the same invoice: nothing changes, nothing is queued.
    again = run_json("ledger", "import", str(tmp_path / "ledger.json"))["data"]
    assert again["counts"]["invoices"]["unchanged"] == 3, again
    assert not any(again["ops"].values()), again
    assert ledger_export()["7102"]["tax"] == "8.87"

    pay_in_quickbooks(connected_company, docs, "7101", "7102")
    assert_paid(docs, "7101", "7102")
    # A later cycle sends nothing again: taking QuickBooks' tax queued no re-export.
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["stats"]["exported"] == 0 and cycle["stats"]["ops_failed"] == 0, cycle


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-ast")])
def test_us_automated_tax_source_ledger_names_the_difference(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    docs = export(
        tmp_path,
        connected_company,
        AST_LEDGER,
        {"C-1": "Hudson Bakery"},
        {"TR-NYC": "TAX", "TR-OLD": "TAX"},
    )
    assert_no_mismatch("7101")
    tax = open_exceptions("tax_mismatch")
    assert set(tax) == {"7102", "CN-7103"}
    assert "QuickBooks' tax 8.87 differs from the ledger's 8.00" in tax["7102"]["message"]
    assert (tax["7102"]["data"]["ledger_tax"], tax["7102"]["data"]["quickbooks_tax"]) == (
        "8.00",
        "8.87",
    )
    total = open_exceptions("total_mismatch")["7102"]
    assert total["message"].startswith("invoice 7102: ledger 107.98 vs QuickBooks 108.85")
    # The ledger kept its own figures.
    assert ledger_export()["7102"]["tax"] == "8.00"

    pay_in_quickbooks(connected_company, docs, "7101")
    assert_paid(docs, "7101")


UK_LEDGER: dict[str, Any] = {
    "clients": [{"id": "C-1", "name": "Avon Architects", "currency": "GBP"}],
    "tax_regions": [
        {"id": "TR-S", "name": "Standard", "rate": "20"},
        {"id": "TR-R", "name": "Reduced", "rate": "5"},
        {"id": "TR-EX", "name": "Exempt", "rate": "0"},
    ],
    "invoices": [
        # exclusive: 99.98 at 20 % = 20.00; 120.00 exempt: 239.98
        doc(
            "7201",
            "C-1",
            [item("S-SUP", "2", "49.99", "TR-S"), item("S-CON", "1", "120.00", "TR-EX")],
        ),
        # inclusive: 99.98 x 20/120 = 16.66; 59.85 x 5/105 = 2.85: 159.83 with 19.51 VAT
        doc(
            "7202",
            "C-1",
            [item("S-SUP", "2", "49.99", "TR-S"), item("S-HW", "3", "19.95", "TR-R")],
            amounts="inclusive",
        ),
        # the billing system's VAT one cent off: 99.99 x 20 % = 19.998 -> 20.00 in QuickBooks,
        # which computes VAT itself; the ledger holds 20.01: 120.00 against 119.99
        doc("7203", "C-1", [item("S-CON", "1", "99.99", "TR-S")], tax_total="20.01"),
    ],
}


@pytest.mark.parametrize("sim_options", [SimOptions(seed="uk-vat")])
def test_uk_vat_exclusive_inclusive_and_one_cent_off(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    docs = export(
        tmp_path,
        connected_company,
        UK_LEDGER,
        {"C-1": "Avon Architects"},
        {"TR-S": "20.0% S", "TR-R": "5.0% R", "TR-EX": "Exempt"},
    )
    assert_no_mismatch("7201", "7202")
    total = open_exceptions("total_mismatch")
    assert set(total) == {"7203"}
    assert total["7203"]["message"] == (
        "invoice 7203: ledger 120.00 vs QuickBooks 119.99 (tax: ledger 20.01 vs QuickBooks 20.00)"
    )
    assert total["7203"]["data"]["ledger_total"] == "120.00"
    assert total["7203"]["data"]["quickbooks_total"] == "119.99"
    assert set(open_exceptions("tax_mismatch")) == {"7203"}

    pay_in_quickbooks(connected_company, docs, "7201", "7202")
    rows = assert_paid(docs, "7201", "7202")
    assert (rows["7202"]["subtotal"], rows["7202"]["tax"], rows["7202"]["total"]) == (
        "159.83",
        "19.51",
        "159.83",
    )
    assert rows["7201"]["currency"] == "GBP"


@pytest.mark.parametrize("sim_options", [SimOptions(seed="uk-vat")])
def test_a_mismatch_closes_when_a_later_verification_agrees(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    """7203 is one cent off; the company then lets QuickBooks' tax win, and the document is
    sent again over an edit made in QuickBooks (drift, resolved by re-export): the update's
    verification takes QuickBooks' VAT into the ledger, agrees, and closes both exceptions."""
    docs = export(
        tmp_path,
        connected_company,
        UK_LEDGER,
        {"C-1": "Avon Architects"},
        {"TR-S": "20.0% S", "TR-R": "5.0% R", "TR-EX": "Exempt"},
    )
    assert set(open_exceptions("total_mismatch")) == {"7203"}
    run_json("config", "set", f"companies.{connected_company.key}.tax.source", "quickbooks")
    control, realm = connected_company.control, connected_company.realm_id
    qbo = control.get(realm, "Invoice", str(docs["7203"]["Id"]))
    lines = [ln for ln in qbo["Line"] if ln.get("DetailType") == "SalesItemLineDetail"]
    lines[0]["Description"] = "edited in QuickBooks"
    control.edit_invoice(realm, str(qbo["Id"]), {"Line": lines})
    run_json("sync", "run")
    drift = run_json("exceptions", "list", "--open", "--kind", "drift_changed")["data"]
    assert len(drift) == 1, drift
    run_json("exceptions", "resolve", str(drift[0]["id"]), "--reexport")

    assert open_exceptions("total_mismatch") == {}
    assert open_exceptions("tax_mismatch") == {}
    resolved = run_json("exceptions", "list", "--kind", "total_mismatch")["data"]
    assert [r["resolution"] for r in resolved] == ["verified"]
    rows = ledger_export()
    assert (rows["7203"]["tax"], rows["7203"]["total"]) == ("20.00", "119.99")
    docs = {d["DocNumber"]: d for d in sim_docs(connected_company.server, "Invoice")}
    pay_in_quickbooks(connected_company, docs, "7203")
    assert_paid(docs, "7203")


@pytest.mark.parametrize("sim_options", [SimOptions(seed="ca-gst")])
def test_canada_gst_hst_qst_verified_and_paid(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ledger = {
        "clients": [
            {"id": "C-QC", "name": "Montreal Bistro", "currency": "CAD"},
            {"id": "C-ON", "name": "Maple Dental", "currency": "CAD"},
        ],
        "tax_regions": [
            {
                "id": "TR-QC",
                "name": "Quebec",
                "components": [{"name": "GST", "rate": "5"}, {"name": "QST", "rate": "9.975"}],
            },
            {"id": "TR-ON", "name": "Ontario", "rate": "13"},
        ],
        "invoices": [
            # 149.97: GST 7.50 + QST 14.96 = 22.46: 172.43
            doc("7301", "C-QC", [item("S-SUP", "3", "49.99", "TR-QC")]),
            # 199.50 less 5 % = 189.52 at 13 % = 24.64: 214.16
            doc(
                "7302",
                "C-ON",
                [
                    item("S-HW", "10", "19.95", "TR-ON"),
                    {"kind": "discount", "description": "Volume", "percent": "5"},
                ],
            ),
            # HST one cent short from billing: 100.00 at 13 % is 13.00 in QuickBooks
            doc(
                "7303",
                "C-ON",
                [{**item("S-CON", "1", "100.00", "TR-ON"), "tax_amount": "12.99"}],
            ),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-QC": "Montreal Bistro", "C-ON": "Maple Dental"},
        {"TR-QC": "GST/QST QC", "TR-ON": "HST ON"},
    )
    assert_no_mismatch("7301", "7302")
    total = open_exceptions("total_mismatch")["7303"]
    assert total["message"].startswith("invoice 7303: ledger 112.99 vs QuickBooks 113.00")
    pay_in_quickbooks(connected_company, docs, "7301", "7302")
    rows = assert_paid(docs, "7301", "7302")
    assert (rows["7301"]["tax"], rows["7301"]["total"]) == ("22.46", "172.43")
    assert rows["7302"]["currency"] == "CAD"


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_multi_currency_eur_invoice_paid_and_a_currency_mismatch_is_stopped(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ledger = {
        "clients": [
            {"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"},
            {"id": "C-GB", "name": "Leeds Textiles Ltd", "currency": "GBP"},
        ],
        "tax_regions": [
            {"id": "TR-NY", "name": "NY State", "rate": "4"},
            {"id": "TR-EX", "name": "Exempt"},
        ],
        "invoices": [
            # EUR 99.98 at 4 % = 4.00: 103.98
            doc(
                "7401",
                "C-EU",
                [item("S-SUP", "2", "49.99", "TR-NY")],
                currency="EUR",
                exchange_rate="1.1",
            ),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-EU": "Berlin Robotics GmbH", "C-GB": "Berlin Robotics GmbH"},
        {"TR-NY": "NY State", "TR-EX": "NON"},
    )
    assert_no_mismatch("7401")
    pay_in_quickbooks(connected_company, docs, "7401")
    rows = assert_paid(docs, "7401")
    assert (rows["7401"]["currency"], rows["7401"]["total"]) == ("EUR", "103.98")

    # A GBP invoice for a GBP client mapped (wrongly) to the EUR customer: stopped before
    # anything is sent.
    control = connected_company.control
    second = tmp_path / "more.json"
    second.write_text(
        json.dumps(
            {
                "version": 1,
                "invoices": [
                    doc("7402", "C-GB", [item("S-CON", "1", "120.00", "TR-EX")], currency="GBP")
                ],
            }
        ),
        encoding="utf-8",
    )
    run_json("ledger", "import", str(second), "--company", connected_company.key)
    control.clear_request_log()
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["stats"]["ops_failed"] == 1, cycle
    sent = [(e["method"], e["endpoint"]) for e in control.request_log()]
    assert all(method == "GET" for method, _ in sent), sent
    assert "7402" not in {d["DocNumber"] for d in sim_docs(connected_company.server, "Invoice")}
    found = open_exceptions("currency_mismatch")["7402"]
    assert "in GBP" in found["message"] and "billed in EUR" in found["message"]
    assert "Leeds Textiles Ltd" in found["message"]  # the ledger's client
    assert (found["data"]["document_currency"], found["data"]["customer_currency"]) == (
        "GBP",
        "EUR",
    )


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_a_failed_currency_look_up_fails_the_documents_not_the_cycle(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    connected_company.control.inject_fault("*Customer*Id*IN*", status=500, count=20)
    ledger = {
        "clients": [{"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"}],
        "tax_regions": [{"id": "TR-EX", "name": "Exempt"}],
        "invoices": [doc("7451", "C-EU", [item("S-CON", "1", "120.00", "TR-EX")], currency="EUR")],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-EU": "Berlin Robotics GmbH"},
        {"TR-EX": "NON"},
        failed=1,
    )
    assert "7451" not in docs  # nothing was sent
    ops = store_query("SELECT state, last_error FROM outbox WHERE subject_id = 'D-7451'")
    assert ops[0]["state"] == "failed", ops
    assert "could not look the customer's currency up" in ops[0]["last_error"], ops
    assert connected_company.control.faults()[0]["fired"] > 0
    cycles = run_json("sync", "history")["data"]
    assert cycles[0]["result"] != "failed", cycles[0]


@pytest.mark.parametrize("sim_options", [SimOptions(seed="uk-vat")])
def test_resolve_a_mismatch_by_reexport_closes_only_when_quickbooks_agrees(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    export(
        tmp_path,
        connected_company,
        UK_LEDGER,
        {"C-1": "Avon Architects"},
        {"TR-S": "20.0% S", "TR-R": "5.0% R", "TR-EX": "Exempt"},
    )
    mismatch = open_exceptions("total_mismatch")["7203"]
    shown = run_json("exceptions", "show", str(mismatch["id"]))["data"]
    assert shown["resolutions"] == ["reexport", "dismiss"]
    # The ledger's tax wins: sent again, QuickBooks still works out 20.00, so it stays open.
    still = run("exceptions", "resolve", str(mismatch["id"]), "--reexport", "--json")
    assert still.exit_code == 2, (still.stdout, still.stderr)
    assert (
        "QuickBooks still differs: invoice 7203: ledger 120.00 vs QuickBooks 119.99" in still.stdout
    )
    assert set(open_exceptions("total_mismatch")) == {"7203"}
    # QuickBooks' tax wins: the re-export's verification takes its VAT and closes both.
    run_json("config", "set", f"companies.{connected_company.key}.tax.source", "quickbooks")
    run_json("exceptions", "resolve", str(mismatch["id"]), "--reexport")
    assert open_exceptions("total_mismatch") == {} and open_exceptions("tax_mismatch") == {}
    assert (ledger_export()["7203"]["tax"], ledger_export()["7203"]["total"]) == ("20.00", "119.99")
