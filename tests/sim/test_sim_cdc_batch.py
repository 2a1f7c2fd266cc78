from __future__ import annotations

from typing import Any

from conftest import Api, invoice_body

from qbsync.sim.core import Simulator


def cdc(api: Api, entities: str, since: str) -> list[dict[str, Any]]:
    data = api.ok(api.get("cdc", entities=entities, changedSince=since))
    qr: list[dict[str, Any]] = data["CDCResponse"][0]["QueryResponse"]
    return qr


def test_cdc_changed_and_deleted_objects(api: Api, sim: Simulator) -> None:
    sim.advance_clock(5)  # past the seed's own writes
    since = sim.now()
    a = api.invoice(amount=10)
    b = api.invoice(amount=20)
    api.ok(api.post("invoice", {"Id": b["Id"], "SyncToken": "0"}, operation="delete"))
    sim.edit(sim.default_realm, "Customer", "2", {"Notes": "changed in QBO"})
    out = cdc(api, "Invoice,Payment,Customer", since)
    invoices, payments, customers = out
    by_id = {i["Id"]: i for i in invoices["Invoice"]}
    assert by_id[a["Id"]]["TotalAmt"] == 10
    deleted = by_id[b["Id"]]
    assert deleted["status"] == "Deleted" and deleted["domain"] == "QBO"
    assert set(deleted) == {"Id", "status", "domain", "MetaData"}
    assert set(deleted["MetaData"]) == {"LastUpdatedTime"}
    assert payments == {}
    assert [c["Id"] for c in customers["Customer"]] == ["2"]


def test_cdc_void_arrives_as_update(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=10)
    sim.advance_clock(5)
    since = sim.now()
    sim.void_invoice(sim.default_realm, inv["Id"])
    (invoices,) = cdc(api, "Invoice", since)
    assert invoices["Invoice"][0]["TotalAmt"] == 0
    assert "status" not in invoices["Invoice"][0]


def test_cdc_30_day_limit(api: Api, sim: Simulator) -> None:
    since = sim.now()
    sim.advance_clock(30 * 86400 + 5)
    api.renew()
    err = api.fault(api.get("cdc", entities="Invoice", changedSince=since), "6000")
    assert "30 days" in err["Detail"]
    api.fault(api.get("cdc", entities="Invoice"), "2020")
    api.fault(api.get("cdc", entities="Widget", changedSince=sim.now()), "2010")


def test_cdc_caps_at_1000_oldest_first_so_clients_can_split(api: Api, sim: Simulator) -> None:
    c = sim.company()
    sim.advance_clock(5)
    since = sim.now()
    for n in range(700):
        c.create("Customer", {"DisplayName": f"Early {n}"})
    sim.advance_clock(10)
    middle = sim.now()
    for n in range(600):
        c.create("Invoice", invoice_body(amount=n + 1))
    out = cdc(api, "Customer,Invoice", since)
    custs, invs = out[0]["Customer"], out[1]["Invoice"]
    assert len(custs) + len(invs) == 1000
    assert len(custs) == 700 and len(invs) == 300
    newest_returned = max(i["MetaData"]["LastUpdatedTime"] for i in invs)
    assert newest_returned >= middle
    # Splitting the window from the middle gets the rest.
    rest = cdc(api, "Invoice", middle)[0]["Invoice"]
    assert len(rest) == 600


def batch(api: Api, items: list[dict[str, Any]], **params: Any) -> list[dict[str, Any]]:
    data = api.ok(api.post("batch", {"BatchItemRequest": items}, **params))
    out: list[dict[str, Any]] = data["BatchItemResponse"]
    return out


def test_batch_per_item_faults_in_order(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=10)
    out = batch(
        api,
        [
            {"bId": "1", "operation": "create", "Invoice": invoice_body(amount=5)},
            {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Acme Dental"}},
            {
                "bId": "3",
                "operation": "update",
                "Invoice": {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"},
            },
            {
                "bId": "4",
                "operation": "update",
                "Invoice": {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "y"},
            },
            {"bId": "5", "Query": "select count(*) from Invoice"},
        ],
    )
    assert [o["bId"] for o in out] == ["1", "2", "3", "4", "5"]
    assert out[0]["Invoice"]["TotalAmt"] == 5
    assert out[1]["Fault"]["Error"][0]["code"] == "6240"
    assert out[2]["Invoice"]["SyncToken"] == "1"
    # In order: item 3 moved the token, so item 4 is stale.
    assert out[3]["Fault"]["Error"][0]["code"] == "5010"
    assert out[4]["QueryResponse"] == {"totalCount": 1}  # item 1's invoice is not visible
    assert sim.check_invariants() == []


def test_batch_items_cannot_see_same_batch_creates(api: Api) -> None:
    out = batch(
        api,
        [
            {"bId": "c", "operation": "create", "Customer": {"DisplayName": "Fresh Co"}},
            {"bId": "q", "Query": "select * from Customer where DisplayName = 'Fresh Co'"},
            {
                "bId": "u",
                "operation": "update",
                "Customer": {"Id": "6", "SyncToken": "0", "sparse": True, "Notes": "n"},
            },
            {"bId": "i", "operation": "create", "Invoice": invoice_body(customer="6")},
        ],
    )
    assert out[0]["Customer"]["Id"] == "6"
    assert out[1]["QueryResponse"] == {}
    assert out[2]["Fault"]["Error"][0]["code"] == "610"
    assert out[3]["Fault"]["Error"][0]["code"] == "2500"
    # After the batch it is there.
    assert api.query("select * from Customer where DisplayName = 'Fresh Co'")["Customer"]


def test_batch_delete_and_payment_void_by_options_data(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=50)
    pay = sim.record_payment(sim.default_realm, "1", 50, invoice_id=inv["Id"])
    other = api.invoice(amount=7)
    out = batch(
        api,
        [
            {
                "bId": "1",
                "operation": "update",
                "optionsData": "void",
                "Payment": {"Id": pay["Id"], "SyncToken": pay["SyncToken"], "sparse": True},
            },
            {"bId": "2", "operation": "delete", "Invoice": {"Id": other["Id"], "SyncToken": "0"}},
        ],
    )
    assert out[0]["Payment"]["TotalAmt"] == 0
    assert out[1]["Invoice"]["status"] == "Deleted"
    assert api.read("Invoice", inv["Id"])["Balance"] == 50


def test_batch_limit_30(api: Api) -> None:
    items = [{"bId": str(n), "Query": "select * from Term"} for n in range(31)]
    api.fault(api.post("batch", {"BatchItemRequest": items}), "6000")
    assert len(batch(api, items[:30])) == 30


def test_requestid_replays_without_running_twice(api: Api, sim: Simulator) -> None:
    first = api.post("invoice", invoice_body(amount=10), requestid="op-1")
    again = api.post("invoice", invoice_body(amount=99), requestid="op-1")
    assert again.json() == first.json()
    assert api.query("select count(*) from Invoice") == {"totalCount": 1}
    other = api.create("Invoice", invoice_body(amount=10), requestid="op-2")
    assert other["Id"] != first.json()["Invoice"]["Id"]
    # Per company: another realm's same requestid runs.
    assert len(sim.company().replay) == 2


def test_requestid_replays_faults_too(api: Api) -> None:
    one = api.post("customer", {"DisplayName": "Acme Dental"}, requestid="dup-1")
    two = api.post("customer", {"DisplayName": "Acme Dental"}, requestid="dup-1")
    assert one.status_code == two.status_code == 400 and one.json() == two.json()


def test_requestid_inside_batch(api: Api) -> None:
    items = [
        {"bId": "1", "operation": "create", "Invoice": invoice_body(amount=1)},
        {"bId": "2", "operation": "create", "Invoice": invoice_body(amount=2)},
    ]
    first = batch(api, items, requestid="b-1")
    # A retry with one more item: the first two replay, only the new one runs.
    items.append({"bId": "3", "operation": "create", "Invoice": invoice_body(amount=3)})
    second = batch(api, items, requestid="b-1")
    assert second[:2] == first
    assert api.query("select count(*) from Invoice") == {"totalCount": 3}


def test_auto_apply_credit_ignores_a_credit_memo_created_earlier_in_the_same_batch(
    api: Api, sim: Simulator
) -> None:
    # AutoApplyCredit is on by default. The credit memo is invisible to later items of its
    # batch, so the invoice is created whole and nothing is half-applied or left behind.
    before = len(sim.company().data["Invoice"])
    out = batch(
        api,
        [
            {"bId": "cm", "operation": "create", "CreditMemo": invoice_body(amount=30)},
            {"bId": "inv", "operation": "create", "Invoice": invoice_body(amount=100)},
        ],
    )
    assert "Fault" not in out[0] and "Fault" not in out[1], out
    assert out[1]["Invoice"]["Balance"] == 100
    assert len(sim.company().data["Invoice"]) == before + 1
    # The next invoice, outside the batch, does consume the credit.
    later = api.invoice(amount=50)
    assert api.read("Invoice", later["Id"])["Balance"] == 20
    assert sim.check_invariants() == []
