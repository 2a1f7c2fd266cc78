"""Payments recorded in QuickBooks in a foreign currency: the ledger keeps the amount in the
document's currency and the home-currency amount (amount x the payment's ExchangeRate, rounded
half-up to the cent), and `ledger export payments` hands both on.

multi-currency profile: USD home. EUR invoice 8501: 2 x 49.99 = 99.98, 4 % tax 3.9992 -> 4.00,
total EUR 103.98, exported at 1.10. Paid in QuickBooks at 1.1234: 103.98 x 1.1234 =
116.811132 -> USD 116.81 (not the invoice's 114.38: the rate moved). USD invoice 8502:
120.00 untaxed, paid 120.00 in the home currency: no home amount.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qbsync.store.tx import transaction
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run, run_json
from tests.sync.helpers import link, set_mapping, sim_docs, store_query

LEDGER = {
    "version": 1,
    "clients": [
        {"id": "C-EU", "name": "Berlin Robotics GmbH", "currency": "EUR"},
        {"id": "C-US", "name": "Hudson Bakery", "currency": "USD"},
    ],
    "services": [{"id": "S-SUP", "name": "Support plan"}, {"id": "S-CON", "name": "Consulting"}],
    "tax_regions": [
        {"id": "TR-NY", "name": "NY State", "rate": "4"},
        {"id": "TR-EX", "name": "Exempt"},
    ],
    "invoices": [
        {
            "id": "D-8501",
            "number": "8501",
            "client": "C-EU",
            "date": "2026-11-02",
            "status": "finalized",
            "currency": "EUR",
            "exchange_rate": "1.1",
            "lines": [
                {"service": "S-SUP", "quantity": "2", "unit_price": "49.99", "tax_region": "TR-NY"}
            ],
        },
        {
            "id": "D-8502",
            "number": "8502",
            "client": "C-US",
            "date": "2026-11-02",
            "status": "finalized",
            "lines": [
                {"service": "S-CON", "quantity": "1", "unit_price": "120.00", "tax_region": "TR-EX"}
            ],
        },
    ],
}


def _id(server: Any, entity: str, name: str) -> str:
    field = "DisplayName" if entity == "Customer" else "Name"
    [found] = [d["Id"] for d in sim_docs(server, entity) if d.get(field) == name]
    return str(found)


def _export(company: ConnectedCompany, tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(LEDGER), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", company.key)
    server = company.server
    with Workspace() as ws, transaction(ws.store):
        for local, (entity, name) in {
            ("customers", "C-EU"): ("Customer", "Berlin Robotics GmbH"),
            ("customers", "C-US"): ("Customer", "Hudson Bakery"),
            ("items", "S-SUP"): ("Item", "Support Plan"),
            ("items", "S-CON"): ("Item", "Consulting"),
            ("tax_codes", "TR-NY"): ("TaxCode", "NY State"),
        }.items():
            set_mapping(ws, company.key, *local, _id(server, entity, name), name)
        set_mapping(ws, company.key, "tax_codes", "TR-EX", "NON", "NON")
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle


def _pay(company: ConnectedCompany, local_id: str, body: dict[str, Any]) -> dict[str, Any]:
    row = link(company.key, "invoice", local_id)
    assert row
    inv = company.control.get(company.realm_id, "Invoice", row["qbo_id"])
    return company.control.create(
        company.realm_id,
        "Payment",
        {
            "CustomerRef": {"value": inv["CustomerRef"]["value"]},
            "TotalAmt": str(inv["TotalAmt"]),
            "Line": [
                {
                    "Amount": str(inv["TotalAmt"]),
                    "LinkedTxn": [{"TxnId": row["qbo_id"], "TxnType": "Invoice"}],
                }
            ],
            **body,
        },
    )


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_foreign_currency_payment_keeps_the_home_amount(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _export(company, tmp_path)
    eur = _pay(
        company,
        "D-8501",
        {"CurrencyRef": {"value": "EUR"}, "ExchangeRate": "1.1234", "PaymentRefNum": "SEPA-1"},
    )
    assert Decimal(str(eur["TotalAmt"])) == Decimal("103.98")
    assert Decimal(str(eur["ExchangeRate"])) == Decimal("1.1234")
    usd = _pay(company, "D-8502", {"PaymentRefNum": "CHK-2"})
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    assert cycle["stats"]["payments_applied"] == 2

    rows = {
        r["invoice_id"]: (r["amount"], r["home_amount"])
        for r in store_query("SELECT * FROM ledger_payments WHERE source = 'quickbooks'")
    }
    assert rows == {"D-8501": ("103.98", "116.81"), "D-8502": ("120.00", None)}

    exported = run("ledger", "export", "payments", "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    payments = {p["qbo_id"]: p for p in json.loads(exported.stdout)}
    assert payments[str(eur["Id"])]["amount"] == "103.98"
    assert payments[str(eur["Id"])]["home_amount"] == "116.81"
    assert payments[str(usd["Id"])]["amount"] == "120.00"
    assert "home_amount" not in payments[str(usd["Id"])]

    invoices = {
        r["number"]: r
        for r in json.loads(run("ledger", "export", "invoices", "--format", "json").stdout)
    }
    assert (invoices["8501"]["status"], invoices["8501"]["balance"]) == ("paid", "0.00")
    assert (invoices["8501"]["currency"], invoices["8501"]["home_total"]) == ("EUR", "114.38")
    assert (invoices["8502"]["status"], invoices["8502"]["balance"]) == ("paid", "0.00")

    # The rate corrected in QuickBooks: the home amount follows, the amount stays.
    company.control.edit(company.realm_id, "Payment", str(eur["Id"]), {"ExchangeRate": "1.12"})
    again = run_json("sync", "run")["data"]["cycles"][0]
    assert again["result"] == "succeeded", again
    [row] = store_query(
        "SELECT amount, home_amount FROM ledger_payments WHERE invoice_id = 'D-8501'"
    )
    # 103.98 x 1.12 = 116.4576 -> 116.46
    assert (row["amount"], row["home_amount"]) == ("103.98", "116.46")


def test_home_rate_without_known_facts(ledger_company: str) -> None:
    """Before the company's facts were ever read, a payment counts as foreign when its rate is
    not 1; once they are, by its currency against the home currency."""
    from types import SimpleNamespace

    from qbsync.sync.inbound.payments import _home_rate
    from qbsync.sync.payloads import CompanyFacts

    with Workspace() as ws:
        ctx: Any = SimpleNamespace(_facts=None, db=ws.store, company=ledger_company)
        eur = {"CurrencyRef": {"value": "EUR"}, "ExchangeRate": "1.0850"}
        usd = {"CurrencyRef": {"value": "USD"}, "ExchangeRate": "1"}
        assert _home_rate(ctx, eur) == Decimal("1.0850")
        assert _home_rate(ctx, usd) is None
        assert _home_rate(ctx, {"TotalAmt": "5.00"}) is None
        ctx._facts = CompanyFacts(home_currency="EUR", multi_currency=True)
        assert _home_rate(ctx, eur) is None
        assert _home_rate(ctx, usd) == Decimal("1")
