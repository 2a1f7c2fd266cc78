"""`qbsync reconcile` end to end: the real CLI against the simulator (in-process), with its
control surface acting as a QuickBooks user. A company that ties exits 0; each kind of
difference shows as exactly one row and exits 1; the store and QuickBooks are left as they were.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from typer.testing import CliRunner

from qbsync import paths
from qbsync.cli.app import app
from qbsync.reconcile.report import COLUMNS
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import generated_ledger, invoice_amount, link, map_demo


def sync() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    return cycle


def reconcile(code: int) -> dict[str, Any]:
    data: dict[str, Any] = run_json("reconcile", code=code)["data"]
    return data


def dump() -> list[str]:
    con = sqlite3.connect(paths.database_file())
    try:
        return list(con.iterdump())
    finally:
        con.close()


def qbo_id(local_id: str) -> str:
    found = link("acme", "invoice", local_id)
    assert found, local_id
    return str(found["qbo_id"])


@pytest.fixture
def synced(connected_company: ConnectedCompany, tmp_path: Path) -> ConnectedCompany:
    """Four exempt invoices (5001-5004) and a local payment on 5001, exported."""
    generated_ledger(tmp_path / "ledger.json", invoices=4, payments=1)
    run_json("ledger", "import", str(tmp_path / "ledger.json"))
    map_demo(connected_company.key)
    sync()
    return connected_company


def test_a_synced_company_ties(synced: ConnectedCompany) -> None:
    before = dump()
    synced.control.clear_request_log()
    data = reconcile(0)
    assert dump() == before  # reads only
    methods = {(r["method"], r["path"].rsplit("/", 1)[-1]) for r in synced.control.request_log()}
    assert methods == {("GET", "query"), ("GET", "preferences")}, methods

    summary = data["summary"]
    assert [r for r in data["rows"] if r["outcome"] != "tied"] == []
    assert summary["compared"] == 5 and summary["tied"] == 5  # 4 invoices and the payment
    assert summary["differing"] == summary["missing_in_quickbooks"] == 0
    assert summary["missing_in_ledger"] == 0 and summary["ties"] is True
    owed = sum(invoice_amount(n) for n in range(5001, 5005)) - Decimal(
        str((invoice_amount(5001) / 2).quantize(Decimal("0.01")))
    )
    assert Decimal(summary["ar_ledger"]) == Decimal(summary["ar_quickbooks"]) == owed
    first = next(r for r in data["rows"] if r["ledger_id"] == "INV-5001")
    assert first["ledger_tax"] == first["qbo_tax"] == "0.00"
    assert first["ledger_status"] == first["qbo_status"] == "partially_paid"


def test_each_difference_is_one_row(synced: ConnectedCompany) -> None:
    ctl, realm = synced.control, synced.realm_id

    def customer_of(local_id: str) -> str:
        return str(ctl.get(realm, "Invoice", qbo_id(local_id))["CustomerRef"]["value"])

    # INV-5004 is paid in full in QuickBooks, and the next cycle brings it to the ledger: ties.
    ctl.record_payment(
        realm, customer_of("INV-5004"), str(invoice_amount(5004)), invoice_id=qbo_id("INV-5004")
    )
    sync()
    # Then, in QuickBooks: an amount edited, a document deleted, one keyed by hand, and a
    # payment on INV-5002 that no cycle has read yet.
    doc = ctl.get(realm, "Invoice", qbo_id("INV-5001"))
    lines = [line for line in doc["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    new_price = invoice_amount(5001) + 10
    lines[0]["SalesItemLineDetail"]["UnitPrice"] = float(new_price)
    lines[0]["Amount"] = float(new_price)
    ctl.edit_invoice(realm, qbo_id("INV-5001"), {"Line": lines})
    ctl.delete_invoice(realm, qbo_id("INV-5003"))
    item = map_demo(synced.key)[("Item", "Consulting Hours")]
    keyed = ctl.create(
        realm,
        "Invoice",
        {
            "CustomerRef": {"value": customer_of("INV-5001")},
            "DocNumber": "H-1",
            "TxnDate": "2026-10-20",
            "Line": [
                {
                    "Amount": 75,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": 75},
                }
            ],
        },
    )
    unsynced = ctl.record_payment(
        realm, customer_of("INV-5002"), "40.00", invoice_id=qbo_id("INV-5002")
    )

    before = dump()
    data = reconcile(1)
    assert dump() == before
    rows = {
        (r["kind"], r["ledger_id"] or r["number"] or r["qbo_id"]): r
        for r in data["rows"]
        if r["outcome"] != "tied"
    }
    assert {k: (r["outcome"], r["differences"]) for k, r in rows.items()} == {
        ("invoice", "INV-5001"): ("differs", ["total", "balance"]),
        ("invoice", "INV-5002"): ("differs", ["balance", "status"]),
        ("invoice", "INV-5003"): ("lost_in_quickbooks", []),
        ("invoice", "H-1"): ("only_in_quickbooks", []),
        ("payment", str(unsynced["Id"])): ("only_in_quickbooks", []),
    }
    edited = rows[("invoice", "INV-5001")]
    assert Decimal(edited["qbo_total"]) - Decimal(edited["ledger_total"]) == Decimal("10.00")
    assert rows[("invoice", "H-1")]["qbo_id"] == str(keyed["Id"])
    assert rows[("payment", str(unsynced["Id"]))]["qbo_total"] == "40.00"
    paid = [r for r in data["rows"] if r["ledger_id"] == "INV-5004"]
    assert [(r["outcome"], r["ledger_status"], r["qbo_status"]) for r in paid] == [
        ("tied", "paid", "paid")
    ]

    summary = data["summary"]
    assert summary["ties"] is False
    assert summary["differing"] == 2
    assert summary["missing_in_quickbooks"] == 1 and summary["missing_in_ledger"] == 2
    # QuickBooks owes 10.00 more on 5001 and 75.00 on H-1, less 5003 and the unsynced 40.00.
    gap = Decimal(summary["ar_quickbooks"]) - Decimal(summary["ar_ledger"])
    assert gap == Decimal("10.00") + Decimal("75.00") - invoice_amount(5003) - Decimal("40.00")
    assert Decimal(summary["ar_difference"]) == -gap

    # The same rows as CSV, one line each, the JSON's columns; exit 1 as well.
    result = run("reconcile", "--format", "csv")
    assert result.exit_code == 1, result.stdout
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(table[0]) == COLUMNS
    assert len(table) == len(data["rows"])
    by_id = {r["ledger_id"]: r for r in table}
    assert by_id["INV-5001"]["differences"] == "total;balance"
    assert by_id["INV-5001"]["qbo_total"] == edited["qbo_total"]
    assert by_id["INV-5003"]["outcome"] == "lost_in_quickbooks"

    # For people: a table of what differs, exit 1.
    human = run("reconcile")
    assert human.exit_code == 1
    for number in ("INV-5001", "INV-5002", "INV-5003", "H-1"):
        assert number in human.stdout
    assert dump() == before


def test_user_data_is_shown_as_written(synced: ConnectedCompany) -> None:
    """A number typed in QuickBooks that looks like console markup, or a spreadsheet formula,
    is shown as text and never run."""
    ctl, realm = synced.control, synced.realm_id
    doc = ctl.get(realm, "Invoice", qbo_id("INV-5001"))
    for number in ("[red]H-2[/red]", "=1+2"):
        ctl.create(
            realm,
            "Invoice",
            {"CustomerRef": doc["CustomerRef"], "DocNumber": number, "Line": doc["Line"][:1]},
        )
    human = run("reconcile")
    assert human.exit_code == 1
    assert "[red]H-2[/red]" in human.stdout
    result = run("reconcile", "--format", "csv")
    numbers = {r["number"] for r in csv.DictReader(io.StringIO(result.stdout))}
    assert {"[red]H-2[/red]", "'=1+2"} <= numbers


def test_a_csv_the_output_cannot_hold_fails_naming_it(synced: ConnectedCompany) -> None:
    """A number keyed in QuickBooks with a letter Latin-1 lacks: under a Latin-1 stdout nothing
    is written (never an escape in the data), and the failure says what and where."""
    ctl, realm = synced.control, synced.realm_id
    doc = ctl.get(realm, "Invoice", qbo_id("INV-5001"))
    ctl.create(
        realm,
        "Invoice",
        {"CustomerRef": doc["CustomerRef"], "DocNumber": "Ł-1", "Line": doc["Line"][:1]},
    )
    latin1 = CliRunner(charset="latin-1")
    result = latin1.invoke(app, ["reconcile", "--format", "csv"], catch_exceptions=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "error: stdout (latin-1) cannot hold U+0141 (LATIN CAPITAL LETTER L WITH STROKE) in"
        " row 5, column number; nothing was written",
        "hint: set a UTF-8 locale or PYTHONIOENCODING=utf-8",
    ]


def test_tax_left_to_quickbooks_is_taken_and_ties(
    connected_company: ConnectedCompany, sample_ledger: Any
) -> None:
    """The sample ledger's tax regions carry no rates, so the ledger holds no tax of its own and
    the export leaves it to QuickBooks; the verification after each create takes QuickBooks'
    tax into the ledger, so that taxed and untaxed documents alike tie, to the cent."""
    map_demo(connected_company.key)
    sync()
    data = reconcile(0)
    documents = [r for r in data["rows"] if r["kind"] == "invoice"]
    taxed = [r for r in documents if Decimal(r["qbo_tax"]) != 0]
    untaxed = [r for r in documents if Decimal(r["qbo_tax"]) == 0]
    assert taxed and untaxed
    for row in documents:
        assert row["outcome"] == "tied", row
        assert Decimal(row["qbo_total"]) == Decimal(row["ledger_total"])
    # The credit note, its application and the local payment tie.
    outcomes = {r["ledger_id"]: (r["kind"], r["outcome"]) for r in data["rows"]}
    assert outcomes["CN-2001"] == ("credit_memo", "tied")
    assert outcomes["CA-1"] == ("credit_application", "tied")
    assert outcomes["PAY-1"] == ("payment", "tied")


def test_a_number_keyed_by_hand_and_what_was_never_sent(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    """Before any cycle: QuickBooks holds a hand-keyed 5001 (not linked, matched by number);
    5002 and the payment never left the ledger."""
    generated_ledger(tmp_path / "ledger.json", invoices=2, payments=1)
    run_json("ledger", "import", str(tmp_path / "ledger.json"))
    ids = map_demo(connected_company.key)
    item = ids[("Item", "Consulting Hours")]
    amount = float(invoice_amount(5001))
    keyed = connected_company.control.create(
        connected_company.realm_id,
        "Invoice",
        {
            "CustomerRef": {"value": ids[("Customer", "Acme Dental")]},
            "DocNumber": "5001",
            "Line": [
                {
                    "Amount": amount,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item},
                        "Qty": 1,
                        "UnitPrice": amount,
                    },
                }
            ],
        },
    )
    data = reconcile(1)
    rows = {(r["kind"], r["ledger_id"]): r for r in data["rows"]}
    assert {k: (r["outcome"], r["differences"], r["qbo_id"]) for k, r in rows.items()} == {
        # Same total and customer; the ledger holds the local payment QuickBooks lacks.
        ("invoice", "INV-5001"): ("not_linked", ["balance", "status"], str(keyed["Id"])),
        ("invoice", "INV-5002"): ("not_in_quickbooks", [], None),
        ("payment", "PAY-5001"): ("not_in_quickbooks", [], None),
    }
    summary = data["summary"]
    assert (summary["compared"], summary["differing"], summary["missing_in_quickbooks"]) == (
        1,
        1,
        2,
    )


def test_a_payment_deleted_in_quickbooks_is_lost(synced: ConnectedCompany) -> None:
    pushed = link(synced.key, "payment", "PAY-5001")
    assert pushed
    synced.control.delete_payment(synced.realm_id, pushed["qbo_id"])
    data = reconcile(1)
    rows = {
        (r["kind"], r["ledger_id"]): (r["outcome"], r["differences"])
        for r in data["rows"]
        if r["outcome"] != "tied"
    }
    assert rows == {
        ("payment", "PAY-5001"): ("lost_in_quickbooks", []),
        ("invoice", "INV-5001"): ("differs", ["balance", "status"]),
    }


def test_exit_codes_for_usage_and_reconnect(synced: ConnectedCompany) -> None:
    assert run("reconcile", "--format", "xml").exit_code == 2
    missing = run_json("reconcile", "--company", "nope", code=2)
    assert missing["error"]["code"] in ("config", "not_found", "usage")
    run_json("disconnect", "--yes")
    before = dump()
    gone = run_json("reconcile", code=3)
    assert gone["error"]["code"] == "reconnect_required"
    assert dump() == before


def test_voids_both_ways(synced: ConnectedCompany) -> None:
    """Voided in the ledger and sent: ties (void on both sides). Voided in QuickBooks and not
    yet accepted in the ledger: differs."""
    run_json("invoices", "void", "INV-5003", "--reason", "issued twice", "--yes")
    sync()
    synced.control.void_invoice(synced.realm_id, qbo_id("INV-5002"))
    data = reconcile(1)
    rows = {r["ledger_id"]: r for r in data["rows"] if r["kind"] == "invoice"}
    sent = rows["INV-5003"]
    assert (sent["outcome"], sent["ledger_status"], sent["qbo_status"]) == ("tied", "void", "void")
    voided = rows["INV-5002"]
    assert voided["outcome"] == "differs"
    assert voided["differences"] == ["total", "balance", "status"]
    assert (voided["ledger_status"], voided["qbo_status"]) == ("open", "void")
    assert [r["ledger_id"] for r in data["rows"] if r["outcome"] != "tied"] == ["INV-5002"]


def test_quiet_prints_nothing_and_keeps_the_exit_code(synced: ConnectedCompany) -> None:
    synced.control.delete_invoice(synced.realm_id, qbo_id("INV-5003"))
    for args in (("--quiet",), ("--quiet", "--format", "csv")):
        result = run("reconcile", *args)
        assert (result.exit_code, result.stdout) == (1, ""), args


def test_quickbooks_is_read_page_after_page(synced: ConnectedCompany) -> None:
    """Pages of 3: the four invoices come in two pages, and all of them are compared."""
    from qbsync.reconcile.run import reconcile as run_reconcile
    from qbsync.workspace import Workspace

    synced.control.clear_request_log()
    with Workspace() as ws:
        report = run_reconcile(ws, synced.key, page_size=3)
    assert report.ties
    assert sorted(r.ledger_id or "" for r in report.rows if r.kind == "invoice") == [
        "INV-5001",
        "INV-5002",
        "INV-5003",
        "INV-5004",
    ]
    pages = [
        query
        for r in synced.control.request_log()
        if "FROM Invoice " in (query := unquote_plus(str(r.get("query", ""))))
    ]
    assert len(pages) == 2, synced.control.request_log()
