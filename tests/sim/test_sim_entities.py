from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import Api, ids, invoice_body

from qbsync.sim.core import Simulator

ALL_ENTITIES = [
    "Customer",
    "Item",
    "Account",
    "TaxCode",
    "TaxRate",
    "Term",
    "Class",
    "Department",
    "PaymentMethod",
]


@pytest.mark.parametrize("entity", ALL_ENTITIES)
def test_every_list_entity_reads_and_queries(api: Api, entity: str) -> None:
    rows = api.query(f"SELECT * FROM {entity}")[entity]
    assert rows
    first = api.read(entity, rows[0]["Id"])
    assert first == rows[0]
    assert first["SyncToken"].isdigit() and first["domain"] == "QBO"
    meta = first["MetaData"]
    # Pacific time: the offset of the simulator's own clock (-08:00 or -07:00 by the season).
    assert meta["CreateTime"][-6:] == api.sim.now()[-6:] and len(meta["LastUpdatedTime"]) == 25


def test_company_info_and_preferences(api: Api) -> None:
    info = api.ok(api.get(f"companyinfo/{api.realm}"))["CompanyInfo"]
    assert info["CompanyName"] == "Harbor IT Demo Co" and info["Country"] == "US"
    prefs = api.ok(api.get("preferences"))["Preferences"]
    assert prefs["SalesFormsPrefs"]["AutoApplyCredit"] is True
    upd = api.ok(
        api.post(
            "preferences",
            {
                "SyncToken": prefs["SyncToken"],
                "sparse": True,
                "SalesFormsPrefs": {"CustomTxnNumbers": True},
            },
        )
    )["Preferences"]
    assert upd["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert upd["SalesFormsPrefs"]["AutoApplyCredit"] is True
    assert upd["SyncToken"] == str(int(prefs["SyncToken"]) + 1)


def test_customer_create_sparse_and_full_update(api: Api) -> None:
    c = api.create("Customer", {"DisplayName": "Zeta Corp", "CompanyName": "Zeta", "Notes": "n"})
    assert c["SyncToken"] == "0" and c["Active"] is True and c["Balance"] == 0
    sp = api.create("Customer", {"Id": c["Id"], "SyncToken": "0", "sparse": True, "Notes": "m"})
    assert sp["Notes"] == "m" and sp["CompanyName"] == "Zeta" and sp["SyncToken"] == "1"
    full = api.create("Customer", {"Id": c["Id"], "SyncToken": "1", "DisplayName": "Zeta Corp"})
    assert "CompanyName" not in full and "Notes" not in full and full["SyncToken"] == "2"
    assert full["MetaData"]["CreateTime"] == c["MetaData"]["CreateTime"]


def test_stale_sync_token_5010(api: Api) -> None:
    c = api.create("Customer", {"DisplayName": "Stale Co"})
    api.create("Customer", {"Id": c["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"})
    err = api.fault(
        api.post("customer", {"Id": c["Id"], "SyncToken": "0", "sparse": True, "Notes": "b"}),
        "5010",
    )
    assert err["Message"] == "Stale Object Error"
    assert api.read("Customer", c["Id"])["Notes"] == "a"


@pytest.mark.parametrize("name", ["Acme Dental", "acme dental ", "Evergreen Realty"])
def test_duplicate_display_name_6240_incl_inactive(api: Api, name: str) -> None:
    api.fault(api.post("customer", {"DisplayName": name}), "6240")


def test_display_name_unique_across_vendor_and_employee(api: Api) -> None:
    api.create("Vendor", {"DisplayName": "Pat Smith"})
    api.fault(api.post("customer", {"DisplayName": "Pat Smith"}), "6240")
    api.fault(api.post("employee", {"DisplayName": "pat smith"}), "6240")


def test_customer_name_rules(api: Api) -> None:
    api.fault(api.post("customer", {"DisplayName": "a:b"}), "6000")
    api.fault(api.post("customer", {"DisplayName": "x" * 501}), "2050")
    api.fault(api.post("customer", {"Notes": "no name"}), "2020")
    derived = api.create("Customer", {"GivenName": "Ann", "FamilyName": "Lee"})
    assert derived["DisplayName"] == "Ann Lee"


def test_inactive_customers_hidden_from_plain_queries(api: Api) -> None:
    active = api.query("SELECT * FROM Customer")["Customer"]
    assert all(c["Active"] for c in active)
    inactive = api.query("select * from Customer where Active = false")["Customer"]
    assert [c["DisplayName"] for c in inactive] == ["Evergreen Realty"]


def test_item_rules(api: Api, sim: Simulator) -> None:
    acct = ids(sim, "Account", Name="Services")
    api.fault(
        api.post("item", {"Name": "Managed Services", "IncomeAccountRef": {"value": acct}}), "6240"
    )
    api.fault(api.post("item", {"Name": "No Account", "Type": "Service"}), "2020")
    api.fault(api.post("item", {"Name": "Bad Acct", "IncomeAccountRef": {"value": "999"}}), "2500")
    item = api.create(
        "Item", {"Name": "Patching", "IncomeAccountRef": {"value": acct}, "UnitPrice": 80}
    )
    assert item["Type"] == "Service" and item["IncomeAccountRef"]["name"] == "Services"


def test_read_only_lists_refuse_writes(api: Api) -> None:
    resp = api.post("taxcode", {"Name": "New"})
    assert resp.status_code == 400 and resp.json()["Fault"]["Error"][0]["code"] == "500"


def test_missing_object_610(api: Api) -> None:
    api.fault(api.get("invoice/9999"), "610")


def test_invoice_totals_tax_due_date_and_subtotal(api: Api, sim: Simulator) -> None:
    hw = ids(sim, "Item", Name="Hardware Setup")
    net15 = ids(sim, "Term", Name="Net 15")
    county = ids(sim, "TaxCode", Name="Harbor County")
    inv = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": "1"},
            "TxnDate": "2026-03-01",
            "SalesTermRef": {"value": net15},
            "Line": [
                {
                    "Amount": "95.00",
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": hw},
                        "Qty": 1,
                        "UnitPrice": 95,
                        "TaxCodeRef": {"value": "TAX"},
                    },
                },
                {
                    "Amount": 33.33,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": "2"},
                        "TaxCodeRef": {"value": "NON"},
                    },
                },
            ],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": county}},
        },
    )
    # 95 * 8.25% = 7.8375 -> 7.84 (half up, to the cent)
    assert inv["TxnTaxDetail"]["TotalTax"] == 7.84
    assert inv["TotalAmt"] == 136.17 and inv["Balance"] == 136.17
    assert inv["DueDate"] == "2026-03-16"
    assert inv["Line"][-1] == {
        "Amount": 128.33,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    assert inv["DocNumber"] == "1001"
    assert api.invoice()["DocNumber"] == "1002"


def test_half_up_rounding_to_the_cent(api: Api, sim: Simulator) -> None:
    county = ids(sim, "TaxCode", Name="Harbor County")
    # 10.00 * 8.25% = 0.825 -> 0.83 with ROUND_HALF_UP (banker's rounding would give 0.82)
    body = invoice_body(amount="10.00", TxnTaxDetail={"TxnTaxCodeRef": {"value": county}})
    body["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "TAX"}
    inv = api.create("Invoice", body)
    assert Decimal(str(inv["TxnTaxDetail"]["TotalTax"])) == Decimal("0.83")


def test_amount_must_match_qty_times_price(api: Api) -> None:
    body = invoice_body(amount=100)
    body["Line"][0]["SalesItemLineDetail"].update(Qty=2, UnitPrice=40)
    api.fault(api.post("invoice", body), "6070")


def test_invoice_reference_faults(api: Api, sim: Simulator) -> None:
    evergreen = ids(sim, "Customer", DisplayName="Evergreen Realty")
    api.fault(api.post("invoice", invoice_body(customer=evergreen)), "2500")
    api.fault(api.post("invoice", invoice_body(customer="999")), "2500")
    sim.edit(sim.default_realm, "Item", "2", {"Active": False})
    api.fault(api.post("invoice", invoice_body()), "610")
    api.fault(api.post("invoice", {"CustomerRef": {"value": "1"}}), "2020")


def test_doc_number_length_2050(api: Api) -> None:
    err = api.fault(api.post("invoice", invoice_body(DocNumber="X" * 22)), "2050")
    assert err["element"] == "DocNumber"
    assert api.invoice(DocNumber="X" * 21)["DocNumber"] == "X" * 21


def test_duplicate_doc_number_6140_only_with_custom_numbers(api: Api, sim: Simulator) -> None:
    api.invoice(DocNumber="INV-7")
    assert api.invoice(DocNumber="INV-7")["DocNumber"] == "INV-7"  # automatic numbering: no check
    sim.set_preferences(sim.default_realm, {"SalesFormsPrefs": {"CustomTxnNumbers": True}})
    err = api.fault(api.post("invoice", invoice_body(DocNumber="INV-7")), "6140")
    assert "DocNumber=INV-7" in err["Detail"]
    assert "DocNumber" not in api.invoice()  # custom numbers on, none sent: none assigned
    sim.set_preferences(sim.default_realm, {"SalesFormsPrefs": {"WarnDuplicateDocNum": False}})
    assert api.invoice(DocNumber="INV-7")["DocNumber"] == "INV-7"


def test_invoice_sparse_update_replaces_lines(api: Api) -> None:
    inv = api.invoice(amount=100)
    upd = api.create(
        "Invoice",
        {
            "Id": inv["Id"],
            "SyncToken": inv["SyncToken"],
            "sparse": True,
            "Line": invoice_body(amount=40)["Line"] + invoice_body(amount=2.5)["Line"],
        },
    )
    assert upd["TotalAmt"] == 42.5 and len(upd["Line"]) == 3
    assert upd["DocNumber"] == inv["DocNumber"] and upd["SyncToken"] == "1"


def test_void_invoice_shape(api: Api) -> None:
    inv = api.invoice(amount=100, PrivateNote="from ledger")
    voided = api.ok(
        api.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="void")
    )["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert voided["PrivateNote"].startswith("Voided")
    assert voided["SyncToken"] == "1"
    assert api.read("Invoice", inv["Id"])["TotalAmt"] == 0


def test_delete_invoice_shape_then_610(api: Api) -> None:
    inv = api.invoice()
    resp = api.ok(api.post("invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="delete"))
    assert resp["Invoice"] == {"Id": inv["Id"], "status": "Deleted", "domain": "QBO"}
    api.fault(api.get(f"invoice/{inv['Id']}"), "610")
    api.fault(api.post("invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="delete"), "610")


def test_delete_with_stale_token_5010(api: Api) -> None:
    inv = api.invoice()
    api.fault(api.post("invoice", {"Id": inv["Id"], "SyncToken": "3"}, operation="delete"), "5010")


def test_credit_memo_cannot_be_voided(api: Api) -> None:
    cm = api.create("CreditMemo", invoice_body(amount=10))
    assert cm["RemainingCredit"] == 10
    api.fault(api.post("creditmemo", {"Id": cm["Id"], "SyncToken": "0"}, operation="void"), "6000")
