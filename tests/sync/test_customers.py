"""Customers that follow the ledger (simulator, multi-currency profile: USD home).

A new client with addresses and EUR currency, and its sub-customer (job), are created once in
QuickBooks under `customers.create: auto` and their invoices export in the same cycle without
a manual mapping; the default (`ask`) leaves a customer_missing exception and creates nothing;
a name held by an inactive customer is a customer_name_clash exception naming it, not a crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run, run_json
from tests.sync.customers_helpers import map_item
from tests.sync.helpers import link, set_config, sim_docs

MULTI = pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])

CLIENTS = [
    {
        "id": "C-LY",
        "name": "Lyon Optique SARL",
        "email": "compta@lyon-optique.example",
        "phone": "+33 4 12 34 56 78",
        "currency": "EUR",
        "bill_address": {
            "line1": "12 rue de la Republique",
            "city": "Lyon",
            "postal_code": "69002",
            "country": "FR",
        },
        "ship_address": {"line1": "Entrepot 3", "city": "Villeurbanne", "country": "FR"},
    },
    {"id": "C-LY-W", "name": "Lyon Optique SARL - Atelier", "currency": "EUR", "parent": "C-LY"},
]


def _invoice(iid: str, client: str, price: str) -> dict[str, Any]:
    return {
        "id": iid,
        "number": iid.removeprefix("D-"),
        "client": client,
        "date": "2026-11-02",
        "status": "finalized",
        "currency": "EUR",
        "exchange_rate": "1.1",
        "lines": [{"service": "S-SUP", "quantity": "1", "unit_price": price}],
    }


def _import(tmp_path: Path, key: str, clients: list[dict[str, Any]], invoices: list[Any]) -> None:
    path = tmp_path / f"ledger-{len(invoices)}.json"
    ledger = {
        "version": 1,
        "clients": clients,
        "services": [{"id": "S-SUP", "name": "Support plan"}],
        "invoices": invoices,
    }
    path.write_text(json.dumps(ledger), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", key)


def _map_item(company: ConnectedCompany) -> None:
    map_item(company)


def _sync() -> dict[str, Any]:
    return run_json("sync", "run")["data"]["cycles"][0]


def _customers(company: ConnectedCompany, name: str) -> list[dict[str, Any]]:
    return [d for d in sim_docs(company.server, "Customer") if d["DisplayName"] == name]


def _open(kind: str) -> list[dict[str, Any]]:
    return run_json("exceptions", "list", "--open", "--kind", kind)["data"]


@MULTI
def test_auto_creates_the_customer_once_and_exports_without_mapping(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _map_item(company)
    set_config(f"companies.{company.key}.customers.create", "auto")
    set_config(f"companies.{company.key}.send_bill_address", "true")
    _import(tmp_path, company.key, CLIENTS, [_invoice("D-9101", "C-LY", "250.00")])

    cycle = _sync()
    assert cycle["result"] == "succeeded", cycle
    assert cycle["stats"]["customers_created"] == 1
    [made] = _customers(company, "Lyon Optique SARL")
    assert made["CurrencyRef"]["value"] == "EUR"
    assert made["PrimaryEmailAddr"]["Address"] == "compta@lyon-optique.example"
    assert made["BillAddr"]["City"] == "Lyon" and made["BillAddr"]["PostalCode"] == "69002"
    assert made["ShipAddr"]["City"] == "Villeurbanne"
    row = link(company.key, "invoice", "D-9101")
    assert row is not None
    invoice = company.control.get(company.realm_id, "Invoice", row["qbo_id"])
    assert invoice["CustomerRef"]["value"] == made["Id"]
    assert invoice["CurrencyRef"]["value"] == "EUR"
    assert invoice["BillEmail"]["Address"] == "compta@lyon-optique.example"
    assert invoice["BillAddr"]["Line1"] == "12 rue de la Republique"
    assert invoice["ShipAddr"]["City"] == "Villeurbanne"
    mapped = run_json("mappings", "list", "--company", company.key)["data"]
    assert any(
        m["kind"] == "customers" and m["local_id"] == "C-LY" and m["qbo_id"] == made["Id"]
        for m in (mapped if isinstance(mapped, list) else mapped["mappings"])
    )

    # A later invoice of the same client, and one of its job: the customer is not made again;
    # the job becomes a sub-customer of it.
    _import(
        tmp_path,
        company.key,
        CLIENTS,
        [_invoice("D-9101", "C-LY", "250.00"), _invoice("D-9102", "C-LY-W", "80.00")],
    )
    cycle = _sync()
    assert cycle["result"] == "succeeded", cycle
    assert len(_customers(company, "Lyon Optique SARL")) == 1
    [job] = _customers(company, "Lyon Optique SARL - Atelier")
    assert job["ParentRef"]["value"] == made["Id"] and job["Job"] is True
    assert job["CurrencyRef"]["value"] == "EUR"
    assert link(company.key, "invoice", "D-9102") is not None
    assert _open("customer_missing") == []


@MULTI
def test_ask_is_the_default_and_leaves_an_exception(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _map_item(company)
    _import(tmp_path, company.key, CLIENTS[:1], [_invoice("D-9201", "C-LY", "10.00")])
    cycle = _sync()
    assert cycle["stats"]["customers_created"] == 0
    assert _customers(company, "Lyon Optique SARL") == []
    [exc] = _open("customer_missing")
    assert "C-LY" in exc["message"]
    assert link(company.key, "invoice", "D-9201") is None

    # Switching to auto and retrying: created, exported, the exception closes.
    set_config(f"companies.{company.key}.customers.create", "auto")
    run_json("exceptions", "resolve", str(exc["id"]), "--retry")
    cycle = _sync()
    assert cycle["result"] == "succeeded", cycle
    assert len(_customers(company, "Lyon Optique SARL")) == 1
    assert link(company.key, "invoice", "D-9201") is not None
    assert _open("customer_missing") == []


@MULTI
def test_a_name_held_by_an_inactive_customer_is_an_exception(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _map_item(company)
    old = company.control.create(
        company.realm_id,
        "Customer",
        {"DisplayName": "Lyon Optique SARL", "CurrencyRef": {"value": "EUR"}},
    )
    company.control.edit(company.realm_id, "Customer", old["Id"], {"Active": False})
    set_config(f"companies.{company.key}.customers.create", "auto")
    _import(tmp_path, company.key, CLIENTS[:1], [_invoice("D-9301", "C-LY", "10.00")])

    cycle = _sync()
    assert cycle["result"] != "failed", cycle
    [exc] = _open("customer_name_clash")
    assert "inactive" in exc["message"] and f"id {old['Id']}" in exc["message"]
    assert len(_customers(company, "Lyon Optique SARL")) == 1  # nothing new was made
    assert link(company.key, "invoice", "D-9301") is None


def _created(company: ConnectedCompany, tmp_path: Path) -> dict[str, Any]:
    _map_item(company)
    set_config(f"companies.{company.key}.customers.create", "auto")
    _import(tmp_path, company.key, CLIENTS[:1], [_invoice("D-9401", "C-LY", "10.00")])
    cycle = _sync()
    assert cycle["result"] == "succeeded", cycle
    [made] = _customers(company, "Lyon Optique SARL")
    return made


def _client_export(key: str) -> dict[str, Any]:
    rows = run_json("ledger", "export", "clients", "--company", key)
    rows = rows if isinstance(rows, list) else rows["data"]
    [row] = [r for r in rows if r["id"] == "C-LY"]
    return row


@MULTI
def test_an_address_changed_in_quickbooks_comes_back_as_drift(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    made = _created(company, tmp_path)
    assert _sync()["stats"]["drift_found"] == 0  # its own creation is no drift
    moved = {"Line1": "5 quai Saint-Antoine", "City": "Lyon", "PostalCode": "69002"}
    company.control.edit(company.realm_id, "Customer", made["Id"], {"BillAddr": moved})

    cycle = _sync()
    assert cycle["stats"]["drift_found"] == 1
    [exc] = _open("customer_changed_in_qbo")
    assert "billing address" in exc["message"] and "Lyon Optique SARL" in exc["message"]
    assert _sync()["stats"]["drift_found"] == 0  # seen once

    run_json("exceptions", "resolve", str(exc["id"]), "--accept")
    row = _client_export(company.key)
    assert row["bill_address"] == {
        "line1": "5 quai Saint-Antoine",
        "city": "Lyon",
        "postal_code": "69002",
    }
    assert row["qbo_id"] == made["Id"]
    assert _open("customer_changed_in_qbo") == []


@MULTI
def test_drift_overwritten_by_the_ledger_and_updates_pushed(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    made = _created(company, tmp_path)
    company.control.edit(
        company.realm_id, "Customer", made["Id"], {"PrimaryPhone": {"FreeFormNumber": "000"}}
    )
    _sync()
    [exc] = _open("customer_changed_in_qbo")
    assert "phone" in exc["message"]
    run_json("exceptions", "resolve", str(exc["id"]), "--reexport")
    cycle = _sync()
    assert cycle["stats"]["customers_updated"] == 1
    now = company.control.get(company.realm_id, "Customer", made["Id"])
    assert now["PrimaryPhone"]["FreeFormNumber"] == "+33 4 12 34 56 78"

    # customers.update off (the default): a client changed in the ledger is not pushed.
    changed = [{**CLIENTS[0], "phone": "+33 4 99 99 99 99"}]
    _import(tmp_path, company.key, changed, [_invoice("D-9401", "C-LY", "10.00")])
    assert _sync()["stats"]["customers_updated"] == 0
    now = company.control.get(company.realm_id, "Customer", made["Id"])
    assert now["PrimaryPhone"]["FreeFormNumber"] == "+33 4 12 34 56 78"
    # On: pushed as a sparse update, and its echo from QuickBooks is no drift.
    set_config(f"companies.{company.key}.customers.update", "true")
    cycle = _sync()
    assert cycle["stats"]["customers_updated"] == 1
    now = company.control.get(company.realm_id, "Customer", made["Id"])
    assert now["PrimaryPhone"]["FreeFormNumber"] == "+33 4 99 99 99 99"
    assert now["CurrencyRef"]["value"] == "EUR"
    assert _sync()["stats"]["drift_found"] == 0
    assert _open("customer_changed_in_qbo") == []


@MULTI
def test_a_name_held_by_a_vendor_is_refused_with_6240_as_an_exception(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _map_item(company)
    vendor = company.control.create(
        company.realm_id, "Vendor", {"DisplayName": "Lyon Optique SARL"}
    )
    set_config(f"companies.{company.key}.customers.create", "auto")
    _import(tmp_path, company.key, CLIENTS, [_invoice("D-9601", "C-LY-W", "10.00")])

    cycle = _sync()
    assert cycle["result"] != "failed", cycle
    assert cycle["stats"]["customers_created"] == 0
    clashes = _open("customer_name_clash")
    [clash] = clashes
    assert "its parent client C-LY has no customer" in clash["message"]
    assert "6240" in clash["message"] and f"Id={vendor['Id']}" in clash["message"]
    # The job waits for its parent: nothing made for it either.
    assert _customers(company, "Lyon Optique SARL - Atelier") == []


@MULTI
def test_concurrent_batches_make_one_customer_for_a_client(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    company = connected_company
    _map_item(company)
    set_config(f"companies.{company.key}.customers.create", "auto")
    set_config("sync.batch_size", "1")  # each invoice in its own batch, three in flight
    company.control.set_latency(per_request_ms=30)  # so that the batches overlap
    invoices = [_invoice(f"D-97{n:02d}", "C-LY", "10.00") for n in range(6)]
    _import(tmp_path, company.key, CLIENTS[:1], invoices)
    cycle = _sync()
    assert cycle["result"] == "succeeded", cycle
    assert cycle["stats"]["customers_created"] == 1
    assert len(_customers(company, "Lyon Optique SARL")) == 1
    assert _open("customer_name_clash") == []
    assert all(link(company.key, "invoice", inv["id"]) for inv in invoices)


@MULTI
def test_a_dry_run_says_it_would_create_the_customer_and_export_the_invoice(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    # Under `customers.create: auto` a dry run plans what the cycle would do: create the
    # customer, then the invoice naming it. (It said a customer_missing exception would open,
    # which the real cycle never does.) Nothing is sent or saved.
    company = connected_company
    _map_item(company)
    set_config(f"companies.{company.key}.customers.create", "auto")
    _import(tmp_path, company.key, CLIENTS, [_invoice("D-9101", "C-LY", "250.00")])

    cycle = run_json("sync", "run", "--dry-run")["data"]["cycles"][0]
    sends = cycle["stats"]["would_send"]
    [customer] = [s for s in sends if s["create"] == "Customer"]
    assert customer["client"] == "C-LY" and customer["batch"] == 1
    assert customer["body"]["DisplayName"] == "Lyon Optique SARL"
    [invoice] = [s for s in sends if s["create"] == "Invoice"]
    assert invoice["body"]["DocNumber"] == "9101" and invoice["batch"] == 2
    assert invoice["body"]["CustomerRef"]["value"] == "new:C-LY"
    assert cycle["stats"]["would_open"] == []
    assert _customers(company, "Lyon Optique SARL") == []
    assert sim_docs(company.server, "Invoice") == []
    mapped = run_json("mappings", "list", "customers", "--company", company.key)["data"]
    rows = mapped if isinstance(mapped, list) else mapped["mappings"]
    assert not [m for m in rows if m["local_id"] == "C-LY"]

    text = run("sync", "run", "--dry-run").stdout
    assert "would create Customer Lyon Optique SARL (batch 1)" in text, text
    assert "would create Invoice 9101 (batch 2)" in text, text

    cycle = _sync()  # the real cycle does what the dry run said
    assert cycle["stats"]["customers_created"] == 1
    assert len(_customers(company, "Lyon Optique SARL")) == 1
