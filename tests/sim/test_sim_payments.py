from __future__ import annotations

from typing import Any

from conftest import Api, ids, invoice_body

from qbsync.sim.core import Simulator


def pay_body(customer: str, total: Any, *links: tuple[str, str, Any]) -> dict[str, Any]:
    return {
        "CustomerRef": {"value": customer},
        "TotalAmt": total,
        "Line": [
            {"Amount": amt, "LinkedTxn": [{"TxnId": tid, "TxnType": ttype}]}
            for ttype, tid, amt in links
        ],
    }


def no_auto_credit(sim: Simulator) -> None:
    sim.set_preferences(sim.default_realm, {"SalesFormsPrefs": {"AutoApplyCredit": False}})


def test_payment_lowers_balance_and_links_both_ways(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=100)
    pay = api.create("Payment", pay_body("1", 60, ("Invoice", inv["Id"], 60)))
    assert pay["UnappliedAmt"] == 0
    assert pay["Line"][0]["LinkedTxn"] == [{"TxnId": inv["Id"], "TxnType": "Invoice"}]
    undeposited = ids(sim, "Account", Name="Undeposited Funds")
    assert pay["DepositToAccountRef"]["value"] == undeposited
    after = api.read("Invoice", inv["Id"])
    assert after["Balance"] == 40
    assert after["LinkedTxn"] == [{"TxnId": pay["Id"], "TxnType": "Payment"}]
    assert after["SyncToken"] == "1"
    assert after["MetaData"]["LastUpdatedTime"] >= inv["MetaData"]["LastUpdatedTime"]
    assert api.read("Customer", "1")["Balance"] == 40
    assert sim.check_invariants() == []


def test_overpayment_is_unapplied_credit(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=100)
    pay = api.create("Payment", pay_body("1", 150, ("Invoice", inv["Id"], 100)))
    assert pay["UnappliedAmt"] == 50
    assert api.read("Invoice", inv["Id"])["Balance"] == 0
    assert api.read("Customer", "1")["Balance"] == -50


def test_payment_rules(api: Api) -> None:
    inv = api.invoice(amount=100)
    api.fault(api.post("payment", pay_body("1", 150, ("Invoice", inv["Id"], 120))), "6000")
    api.fault(api.post("payment", pay_body("1", 50, ("Invoice", inv["Id"], 80))), "6000")
    api.fault(api.post("payment", pay_body("2", 50, ("Invoice", inv["Id"], 50))), "6000")
    api.fault(api.post("payment", pay_body("1", 50, ("Invoice", "999", 50))), "2500")
    api.fault(api.post("payment", {"CustomerRef": {"value": "1"}}), "2020")
    bad = pay_body("1", 10)
    bad["PaymentRefNum"] = "R" * 22
    api.fault(api.post("payment", bad), "2050")
    checking_bad = pay_body("1", 10)
    checking_bad["DepositToAccountRef"] = {"value": "3"}  # Services: an income account
    api.fault(api.post("payment", checking_bad), "6000")


def test_credit_memo_applied_through_zero_payment(api: Api, sim: Simulator) -> None:
    no_auto_credit(sim)
    inv = api.invoice(amount=100)
    cm = api.create("CreditMemo", invoice_body(amount=30))
    pay = api.create(
        "Payment", pay_body("1", 0, ("Invoice", inv["Id"], 30), ("CreditMemo", cm["Id"], 30))
    )
    assert pay["TotalAmt"] == 0 and pay["UnappliedAmt"] == 0
    assert api.read("Invoice", inv["Id"])["Balance"] == 70
    memo = api.read("CreditMemo", cm["Id"])
    assert memo["RemainingCredit"] == 0 and memo["Balance"] == 0
    assert api.read("Customer", "1")["Balance"] == 70
    # Credit can only be spent once.
    inv2 = api.invoice(amount=10)
    api.fault(
        api.post(
            "payment", pay_body("1", 0, ("Invoice", inv2["Id"], 5), ("CreditMemo", cm["Id"], 5))
        ),
        "6000",
    )
    assert sim.check_invariants() == []


def test_auto_apply_credit_consumes_open_credit_memo(api: Api, sim: Simulator) -> None:
    cm = api.create("CreditMemo", invoice_body(amount=30))
    inv = api.invoice(amount=100)
    # The race the sync engine must notice: QBO spent the credit before qbsync applied it.
    assert inv["Balance"] == 70
    assert inv["SyncToken"] == "1" and inv["LinkedTxn"][0]["TxnType"] == "Payment"
    assert api.read("CreditMemo", cm["Id"])["RemainingCredit"] == 0
    pays = api.query("select * from Payment")["Payment"]
    assert len(pays) == 1 and pays[0]["TotalAmt"] == 0
    assert sim.check_invariants() == []


def test_auto_apply_off_leaves_credit_alone(api: Api, sim: Simulator) -> None:
    no_auto_credit(sim)
    cm = api.create("CreditMemo", invoice_body(amount=30))
    inv = api.invoice(amount=100)
    assert inv["Balance"] == 100
    assert api.read("CreditMemo", cm["Id"])["RemainingCredit"] == 30


def test_void_payment_by_update_include_void(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=100)
    pay = api.create("Payment", pay_body("1", 100, ("Invoice", inv["Id"], 100)))
    voided = api.ok(
        api.post(
            "payment",
            {"Id": pay["Id"], "SyncToken": pay["SyncToken"], "sparse": True},
            operation="update",
            include="void",
        )
    )["Payment"]
    assert voided["TotalAmt"] == 0 and voided["PrivateNote"] == "Voided"
    assert api.read("Invoice", inv["Id"])["Balance"] == 100
    assert api.read("Invoice", inv["Id"])["LinkedTxn"] == []
    assert sim.check_invariants() == []


def test_delete_payment_restores_balance(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=100)
    pay = api.create("Payment", pay_body("1", 100, ("Invoice", inv["Id"], 100)))
    api.ok(api.post("payment", {"Id": pay["Id"], "SyncToken": "0"}, operation="delete"))
    assert api.read("Invoice", inv["Id"])["Balance"] == 100
    api.fault(api.get(f"payment/{pay['Id']}"), "610")


def test_void_paid_invoice_turns_payment_into_credit(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=100)
    pay = api.create("Payment", pay_body("1", 100, ("Invoice", inv["Id"], 100)))
    cur = api.read("Invoice", inv["Id"])
    api.ok(api.post("invoice", {"Id": inv["Id"], "SyncToken": cur["SyncToken"]}, operation="void"))
    p = api.read("Payment", pay["Id"])
    assert p["UnappliedAmt"] == 100 and p["Line"] == [] and p["SyncToken"] == "1"
    assert sim.check_invariants() == []


def test_invoice_total_cannot_drop_below_applied(api: Api) -> None:
    inv = api.invoice(amount=100)
    api.create("Payment", pay_body("1", 80, ("Invoice", inv["Id"], 80)))
    cur = api.read("Invoice", inv["Id"])
    body = {
        "Id": inv["Id"],
        "SyncToken": cur["SyncToken"],
        "sparse": True,
        "Line": invoice_body(amount=50)["Line"],
    }
    api.fault(api.post("invoice", body), "6000")


def test_acts_as_a_user_move_sync_token(api: Api, sim: Simulator) -> None:
    realm = sim.default_realm
    inv = api.invoice(amount=100)
    edited = sim.edit_invoice(realm, inv["Id"], {"PrivateNote": "edited in QBO"})
    assert edited["SyncToken"] == "1" and edited["PrivateNote"] == "edited in QBO"
    pay = sim.record_payment(realm, "1", "25.50", invoice_id=inv["Id"], payment_method_id="2")
    assert pay["TotalAmt"] == 25.5 and pay["PaymentMethodRef"]["value"] == "2"
    assert api.read("Invoice", inv["Id"])["Balance"] == 74.5
    sim.edit_payment(realm, pay["Id"], {"PaymentRefNum": "CHK-1"})
    sim.delete_payment(realm, pay["Id"])
    assert api.read("Invoice", inv["Id"])["Balance"] == 100
    sim.void_invoice(realm, inv["Id"])
    assert api.read("Invoice", inv["Id"])["TotalAmt"] == 0
    other = api.invoice(amount=5)
    sim.delete_invoice(realm, other["Id"])
    api.fault(api.get(f"invoice/{other['Id']}"), "610")
    assert sim.check_invariants() == []


def test_record_payment_with_credit_memos(api: Api, sim: Simulator) -> None:
    no_auto_credit(sim)
    realm = sim.default_realm
    inv = api.invoice(amount=100)
    cm = api.create("CreditMemo", invoice_body(amount=30))
    pay = sim.record_payment(realm, "1", 50, invoice_id=inv["Id"], credit_memo_ids=[cm["Id"]])
    assert pay["TotalAmt"] == 50 and pay["UnappliedAmt"] == 0
    assert api.read("Invoice", inv["Id"])["Balance"] == 20
    assert api.read("CreditMemo", cm["Id"])["RemainingCredit"] == 0
    assert sim.check_invariants() == []


def test_deactivate_and_merge_customer(api: Api, sim: Simulator) -> None:
    realm = sim.default_realm
    inv = api.invoice(customer="3", amount=40)
    sim.deactivate_customer(realm, "4")
    api.fault(api.post("invoice", invoice_body(customer="4")), "2500")
    out = sim.merge_customer(realm, "3", "1")
    assert out["moved"] == 1
    moved = api.read("Invoice", inv["Id"])
    assert moved["CustomerRef"]["value"] == "1" and moved["SyncToken"] == "1"
    gone = api.read("Customer", "3")
    assert gone["Active"] is False and gone["DisplayName"].endswith("(deleted)")
    assert api.read("Customer", "1")["Balance"] == 40
    assert sim.check_invariants() == []


def test_voiding_twice_changes_nothing(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=10, PrivateNote="n")
    once = sim.void_invoice(sim.default_realm, inv["Id"])
    twice = sim.void_invoice(sim.default_realm, inv["Id"])
    assert once == twice and twice["PrivateNote"] == "Voided - n"


def test_deposited_payment_cannot_change_6540(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=100)
    pay = sim.record_payment(sim.default_realm, "1", 100, invoice_id=inv["Id"])
    dep = sim.deposit_payment(sim.default_realm, pay["Id"])
    assert dep["LinkedTxn"][0]["TxnType"] == "Deposit" and dep["SyncToken"] == "1"
    tok = dep["SyncToken"]
    api.fault(
        api.post(
            "payment", {"Id": pay["Id"], "SyncToken": tok, "sparse": True, "PrivateNote": "x"}
        ),
        "6540",
    )
    api.fault(api.post("payment", {"Id": pay["Id"], "SyncToken": tok}, operation="delete"), "6540")
    api.fault(
        api.post(
            "payment",
            {"Id": pay["Id"], "SyncToken": tok, "sparse": True},
            operation="update",
            include="void",
        ),
        "6540",
    )
    assert api.read("Invoice", inv["Id"])["Balance"] == 0


def test_customer_of_a_paid_invoice_cannot_change(api: Api, sim: Simulator) -> None:
    inv = api.invoice(amount=100)
    sim.record_payment(sim.default_realm, "1", 10, invoice_id=inv["Id"])
    cur = api.read("Invoice", inv["Id"])
    body = {
        "Id": inv["Id"],
        "SyncToken": cur["SyncToken"],
        "sparse": True,
        "CustomerRef": {"value": "2"},
    }
    api.fault(api.post("invoice", body), "6000")
    fresh = api.invoice(amount=5)
    moved = api.create("Invoice", {**body, "Id": fresh["Id"], "SyncToken": "0"})
    assert moved["CustomerRef"]["value"] == "2"
    assert sim.check_invariants() == []
