"""Reversal rows to the cent, with tax, discounts, credits and three currencies: what billing
receives for each invoice (every row it was handed, summed) ties to what the ledger says was
paid, before and after QuickBooks voids, reduces and deletes payments; credit a payment moved is
never handed over as money, nor reversed as money. Against the simulator's multi-currency
company, in-process."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run_json
from tests.sync.test_payload_tax import check, doc, item
from tests.sync.test_payload_tax import export as export_ledger


def sync() -> None:
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle


def payments() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_json("ledger", "export", "payments")["data"]
    return rows


def by_invoice(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        out[r["invoice"]] += Decimal(r["amount"])
    return dict(out)


def ledger_paid() -> dict[str, Decimal]:
    rows = run_json("ledger", "export", "invoices")["data"]
    return {r["id"]: Decimal(r["paid"]) for r in rows if r["type"] == "standard"}


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_reversals_to_the_cent_with_tax_discounts_credits_and_currencies(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ctl, realm = connected_company.control, connected_company.realm_id
    ctl.set_preferences(realm, {"SalesFormsPrefs": {"AutoApplyCredit": False}})
    ledger = {
        "clients": [
            {"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"},
            {"id": "C-GB", "name": "Leeds Textiles Ltd", "currency": "GBP"},
            {"id": "C-US", "name": "Hudson Bakery", "currency": "USD"},
        ],
        "tax_regions": [
            {"id": "TR-NY", "name": "NY State", "rate": "4"},
            {"id": "TR-EX", "name": "Exempt"},
        ],
        "invoices": [
            # EUR 99.98 at 4 % = 3.9992 -> 4.00: 103.98
            doc(
                "7401",
                "C-EU",
                [item("S-SUP", "2", "49.99", "TR-NY")],
                currency="EUR",
                exchange_rate="1.1",
            ),
            # GBP 240.00 not taxed, 20.00 off: 220.00
            doc(
                "7402",
                "C-GB",
                [
                    item("S-CON", "2", "120.00", "TR-EX"),
                    {"kind": "discount", "description": "Intro", "amount": "20.00"},
                ],
                currency="GBP",
                exchange_rate="1.25",
            ),
            # USD 250.00 at 4 %: 10.00 tax, 260.00
            doc("7404", "C-US", [item("S-CON", "1", "250.00", "TR-NY")]),
            # USD credit note 19.95 at 4 % = 0.798 -> 0.80: 20.75
            doc("CN-7403", "C-US", [item("S-HW", "1", "19.95", "TR-NY")], type="credit_note"),
        ],
    }
    docs = export_ledger(
        tmp_path,
        connected_company,
        ledger,
        {"C-EU": "Berlin Robotics GmbH", "C-GB": "Leeds Textiles Ltd", "C-US": "Hudson Bakery"},
        {"TR-NY": "NY State", "TR-EX": "NON"},
    )
    check(
        docs, {"7401": ("103.98", "4.00"), "7402": ("220.00", "0.00"), "7404": ("260.00", "10.00")}
    )

    def customer(number: str) -> str:
        return str(docs[number]["CustomerRef"]["value"])

    eur = ctl.record_payment(realm, customer("7401"), "103.98", invoice_id=docs["7401"]["Id"])
    gbp = ctl.record_payment(realm, customer("7402"), "220.00", invoice_id=docs["7402"]["Id"])
    usd = ctl.record_payment(
        realm,
        customer("7404"),
        "100.00",
        invoice_id=docs["7404"]["Id"],
        credit_memo_ids=[docs["CN-7403"]["Id"]],
    )
    sync()
    handed = payments()
    assert {(r["invoice"], r["amount"]) for r in handed} == {
        ("D-7401", "103.98"),
        ("D-7402", "220.00"),
        ("D-7404", "100.00"),  # the cash; the 20.75 of credit is a credit application
    }
    assert by_invoice(handed) == {k: v for k, v in ledger_paid().items() if v}

    ctl.void_payment(realm, str(eur["Id"]))
    ctl.edit_payment(
        realm,
        str(gbp["Id"]),
        {
            "TotalAmt": "199.99",
            "Line": [
                {
                    "Amount": "199.99",
                    "LinkedTxn": [{"TxnId": str(docs["7402"]["Id"]), "TxnType": "Invoice"}],
                }
            ],
        },
    )
    ctl.delete_payment(realm, str(usd["Id"]))
    sync()
    rows = payments()
    reversals = {(r["invoice"], r["amount"], r["reason"]) for r in rows if r["kind"] == "reversal"}
    assert reversals == {
        ("D-7401", "-103.98", "voided"),
        ("D-7402", "-20.01", "reduced"),
        ("D-7404", "-100.00", "deleted"),  # the cash only: the credit was never money
    }
    paid = ledger_paid()
    assert paid == {"D-7401": Decimal("0"), "D-7402": Decimal("199.99"), "D-7404": Decimal("0")}
    assert by_invoice(rows) == paid
    assert payments() == rows  # nothing more to hand over
