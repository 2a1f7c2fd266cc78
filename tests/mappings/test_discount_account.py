"""The discount account mapping (`accounts discount`): resolved against QuickBooks' Account
list (income or expense accounts only), sent as DiscountLineDetail.DiscountAccountRef, named by
`mappings check` when it is missing (a note, not a failure), and round-tripped by the YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qbsync.mappings.kinds import check_local_id
from qbsync.mappings.resolve import ResolveError, Resolver
from qbsync.store.tx import transaction
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.mappings.lists import DEMO_LISTS, CountingSource
from tests.support import run, run_json
from tests.sync.helpers import set_mapping, sim_docs


def test_discount_is_an_account_local_id() -> None:
    assert check_local_id("accounts", "discount") == "discount"


def test_resolves_only_income_or_expense_accounts() -> None:
    resolver = Resolver(CountingSource(DEMO_LISTS))
    # Two accounts are called Checking: the Bank one for deposits, the Income one for discounts.
    assert resolver.resolve("accounts", "discount", "Checking").qbo_id == "5"
    assert resolver.resolve("accounts", "deposit", "Checking").qbo_id == "4"
    assert resolver.resolve("accounts", "discount", "services").qbo_id == "3"
    with pytest.raises(ResolveError) as refused:
        resolver.resolve("accounts", "discount", "Undeposited Funds")
    message = str(refused.value)
    assert "'Undeposited Funds' (Id 1) is of type Other Current Asset" in message
    assert "must be an income or expense account" in message


def test_set_refuses_another_type_with_exit_2(
    ledger_company: str, demo_lists: CountingSource
) -> None:
    bad = run_json("mappings", "set", "accounts", "discount", "Accounts Receivable (A/R)", code=2)
    assert bad["error"]["code"] == "invalid_input"
    assert "is of type Accounts Receivable" in bad["error"]["message"]
    assert run_json("mappings", "list", "accounts")["data"] == []
    out = run_json("mappings", "set", "accounts", "discount", "Services")["data"]
    assert out["added"] == [
        {"kind": "accounts", "local_id": "discount", "qbo_id": "3", "qbo_name": "Services"}
    ]


def test_set_by_id_checks_the_type_when_quickbooks_can_be_read(
    ledger_company: str, demo_lists: CountingSource
) -> None:
    bank = run_json("mappings", "set", "accounts", "discount", "4", code=2)["error"]
    assert "'Checking' (Id 4) is of type Bank" in bank["message"]
    unknown = run_json("mappings", "set", "accounts", "discount", "99", code=2)["error"]
    assert "no QuickBooks Account with Id 99" in unknown["message"]
    out = run_json("mappings", "set", "accounts", "discount", "6")["data"]
    assert out["added"] == [
        {"kind": "accounts", "local_id": "discount", "qbo_id": "6", "qbo_name": "Discounts given"}
    ]


def test_set_by_id_without_a_connection_takes_the_id(ledger_company: str) -> None:
    out = run_json("mappings", "set", "accounts", "discount", "83")["data"]
    assert out["added"] == [
        {"kind": "accounts", "local_id": "discount", "qbo_id": "83", "qbo_name": None}
    ]


def test_yaml_round_trip(ledger_company: str, demo_lists: CountingSource, tmp_path: Path) -> None:
    source = tmp_path / "in.yaml"
    source.write_text(
        "version: 1\ncompany: acme\n"
        "accounts:\n  deposit: {qbo_name: Checking}\n  discount: {qbo_name: Checking}\n",
        encoding="utf-8",
    )
    added = run_json("mappings", "import", str(source))["data"]["added"]
    assert {(a["local_id"], a["qbo_id"]) for a in added} == {("deposit", "4"), ("discount", "5")}
    exported = tmp_path / "out.yaml"
    run_json("mappings", "export", str(exported))
    text = exported.read_text(encoding="utf-8")
    assert "discount: {qbo: '5', qbo_name: Checking}" in text
    calls = len(demo_lists.calls)
    again = run_json("mappings", "import", str(exported))["data"]
    assert again["unchanged"] == 2 and not again["written"]
    assert len(demo_lists.calls) == calls  # ids as exported: no lookup


# --- against the simulator ----------------------------------------------------------------


def _ledger(tmp_path: Path, company: str) -> None:
    ledger = {
        "version": 1,
        "clients": [{"id": "C-1", "name": "Hudson Bakery", "currency": "USD"}],
        "services": [{"id": "S-SUP", "name": "Support plan"}],
        "tax_regions": [{"id": "TR-NYS", "name": "NY State", "rate": "4.375"}],
        "invoices": [
            {
                "id": "D-8001",
                "number": "8001",
                "client": "C-1",
                "date": "2026-11-02",
                "status": "finalized",
                "lines": [
                    {
                        "service": "S-SUP",
                        "quantity": "4",
                        "unit_price": "50.00",
                        "tax_region": "TR-NYS",
                    },
                    {"kind": "discount", "description": "Loyalty", "amount": "20.00"},
                ],
            }
        ],
    }
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps(ledger), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", company)


def _by_name(server: Any, entity: str, name: str) -> str:
    field = "DisplayName" if entity == "Customer" else "Name"
    [found] = [d["Id"] for d in sim_docs(server, entity) if d.get(field) == name]
    return str(found)


def _map_basics(company: ConnectedCompany) -> None:
    server = company.server
    with Workspace() as ws, transaction(ws.store):
        set_mapping(
            ws,
            company.key,
            "customers",
            "C-1",
            _by_name(server, "Customer", "Hudson Bakery"),
            "Hudson Bakery",
        )
        set_mapping(
            ws,
            company.key,
            "items",
            "S-SUP",
            _by_name(server, "Item", "Support Plan"),
            "Support Plan",
        )
        set_mapping(
            ws,
            company.key,
            "tax_codes",
            "TR-NYS",
            _by_name(server, "TaxCode", "NY State"),
            "NY State",
        )


def _discount_line(company: ConnectedCompany, number: str) -> dict[str, Any]:
    [doc] = [d for d in sim_docs(company.server, "Invoice") if d.get("DocNumber") == number]
    [line] = [ln for ln in doc["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    return dict(line["DiscountLineDetail"])


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_mapped_discount_account_reaches_quickbooks(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    promo = company.control.create(
        company.realm_id,
        "Account",
        {
            "Name": "Promotional discounts",
            "AccountType": "Expense",
            "AccountSubType": "OtherMiscellaneousExpense",
        },
    )["Id"]
    _ledger(tmp_path, company.key)
    _map_basics(company)

    # Not mapped: a note, not a failure.
    check = run_json("mappings", "check")["data"]
    assert check["missing"] == []
    assert check["notes"] == [
        {
            "kind": "accounts",
            "local_id": "discount",
            "note": "no discount account mapped: QuickBooks' default discount account is used",
            "invoices": ["D-8001"],
        }
    ]
    human = run("mappings", "check")
    assert human.exit_code == 0 and "default discount account is used" in human.stdout

    # Resolved against the live Account list: a Bank account is refused, the Expense one taken.
    refused = run_json("mappings", "set", "accounts", "discount", "Checking", code=2)["error"]
    assert "is of type Bank" in refused["message"]
    run_json("mappings", "set", "accounts", "discount", "Promotional discounts")
    assert run_json("mappings", "check")["data"]["notes"] == []

    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    detail = _discount_line(company, "8001")
    assert detail["DiscountAccountRef"]["value"] == str(promo)
    assert company.control.invariants() == []


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_without_mapping_quickbooks_default_discount_account(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _ledger(tmp_path, company.key)
    _map_basics(company)
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    default = _by_name(company.server, "Account", "Discounts given")
    assert _discount_line(company, "8001")["DiscountAccountRef"]["value"] == default
