"""The receivables reports: QBO's report JSON shape, and totals that tie to the documents'
balances to the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from conftest import Api, invoice_body

from qbsync.sim.core import Simulator

TODAY = "2026-06-15"


def _money(text: str) -> Decimal:
    return Decimal(text) if text else Decimal("0.00")


@pytest.fixture
def books(api: Api, sim: Simulator) -> dict[str, Any]:
    """A company on 15 June 2026 with open invoices in every aging bucket, a credit memo, a
    partial payment, an unapplied payment, and a payment dated after 31 May."""
    noon = datetime(2026, 6, 15, 19, 0, tzinfo=UTC).timestamp()
    sim.clock.set_offset(0.0)
    sim.clock.set_offset(noon - sim.clock.timestamp())
    api.renew()
    realm = sim.default_realm
    sim.set_preferences(realm, {"SalesFormsPrefs": {"AutoApplyCredit": False}})
    inv: dict[str, dict[str, Any]] = {}
    for key, cust, amount, txn, due in (
        ("current", "1", "100.10", "2026-06-10", "2026-07-10"),
        ("d10", "1", "200.20", "2026-05-01", "2026-06-05"),  # 10 days past due
        ("d45", "2", "300.30", "2026-04-01", "2026-05-01"),  # 45 days
        ("d75", "2", "400.40", "2026-03-01", "2026-04-01"),  # 75 days
        ("d120", "3", "500.55", "2026-01-01", "2026-02-15"),  # 120 days
        ("june", "3", "60.00", "2026-06-02", "2026-06-30"),  # after 31 May
    ):
        inv[key] = api.invoice(cust, amount, TxnDate=txn, DueDate=due)
    memo = api.create("CreditMemo", invoice_body("2", "50.05", TxnDate="2026-05-20"))
    sim.record_payment(realm, "1", "50.00", inv["d10"]["Id"], txn_date="2026-05-15")
    sim.record_payment(realm, "3", "25.25", txn_date="2026-05-10")  # left as credit
    sim.record_payment(realm, "2", "100.00", inv["d75"]["Id"], txn_date="2026-06-03")
    return {"invoices": inv, "memo": memo}


def report(api: Api, name: str, **params: str) -> dict[str, Any]:
    data: dict[str, Any] = api.ok(api.get(f"reports/{name}", **params))
    return data


def document_balances(sim: Simulator) -> dict[str, Decimal]:
    """Customer id -> open invoices less open credit memos less unapplied payments, read off
    the documents themselves."""
    c = sim.company()
    out: dict[str, Decimal] = {}
    for entity, field, sign in (
        ("Invoice", "Balance", 1),
        ("CreditMemo", "RemainingCredit", -1),
        ("Payment", "UnappliedAmt", -1),
    ):
        for doc in c.data[entity].values():
            cid = doc["CustomerRef"]["value"]
            out[cid] = out.get(cid, Decimal(0)) + sign * Decimal(str(doc[field]))
    return {k: v for k, v in out.items() if v != 0}


def test_customer_balance_ties_to_the_documents(api: Api, sim: Simulator, books: Any) -> None:
    """Shape from Intuit's CustomerBalance reference: `Header.ReportName`, `Columns.Column`
    [{ColType Customer}, {ColType Money, ColTitle Total}], one row per customer with
    `ColData[{id, value: name}, {value: "1593.50"}]` and a `GrandTotal` section whose Summary
    reads TOTAL."""
    rep = report(api, "CustomerBalance")
    assert rep["Header"]["ReportName"] == "CustomerBalance"
    assert [c["ColType"] for c in rep["Columns"]["Column"]] == ["Customer", "Money"]
    rows = rep["Rows"]["Row"]
    got = {r["ColData"][0]["id"]: _money(r["ColData"][1]["value"]) for r in rows[:-1]}
    want = document_balances(sim)
    assert got == want
    customers = sim.company().data["Customer"]
    assert got == {cid: Decimal(str(customers[cid]["Balance"])) for cid in got}
    grand = rows[-1]
    assert grand["group"] == "GrandTotal" and grand["Summary"]["ColData"][0]["value"] == "TOTAL"
    assert _money(grand["Summary"]["ColData"][1]["value"]) == sum(want.values())
    # 100.10 + 200.20 - 50.00 | 300.30 + 400.40 - 100.00 - 50.05 | 500.55 + 60.00 - 25.25
    assert want == {
        "1": Decimal("250.30"),
        "2": Decimal("550.65"),
        "3": Decimal("535.30"),
    }


def test_aged_receivables_buckets_and_totals(api: Api, sim: Simulator, books: Any) -> None:
    """Shape from Intuit's AgedReceivables reference: columns Customer, Current, 1 - 30,
    31 - 60, 61 - 90, 91 and over, Total; empty cells as ""; the GrandTotal summary with
    "0.00" for empty buckets."""
    rep = report(api, "AgedReceivables")
    titles = [c["ColTitle"] for c in rep["Columns"]["Column"]]
    assert titles == ["", "Current", "1 - 30", "31 - 60", "61 - 90", "91 and over", "Total"]
    rows = {
        r["ColData"][0]["id"]: [c["value"] for c in r["ColData"][1:]]
        for r in rep["Rows"]["Row"][:-1]
    }
    assert rows == {
        # Current: the June invoice; 1 - 30: 200.20 - 50.00
        "1": ["100.10", "150.20", "", "", "", "250.30"],
        # credit memo of 20 May is 26 days old; 300.30 at 45; 400.40 - 100 at 75
        "2": ["", "-50.05", "300.30", "300.40", "", "550.65"],
        # June invoice current, the payment of 10 May is 36 days old, 500.55 at 120
        "3": ["60.00", "", "-25.25", "", "500.55", "535.30"],
    }
    total = [c["value"] for c in rep["Rows"]["Row"][-1]["Summary"]["ColData"]]
    assert total == ["TOTAL", "160.10", "100.15", "275.05", "300.40", "500.55", "1336.25"]
    assert _money(total[-1]) == sum(document_balances(sim).values())


def test_aged_receivable_detail_sections_tie_out(api: Api, sim: Simulator, books: Any) -> None:
    """Shape from Intuit's AgedReceivableDetail reference: sections (`type: Section`) headed
    "31 - 60 days past due" and so on, `Rows.Row[]` of `type: Data` with ColData cells, each
    section's Summary "Total for ...", columns by ColType (tx_date, txn_type, doc_num,
    cust_name, due_date, ...)."""
    rep = report(api, "AgedReceivableDetail")
    types = [c["ColType"] for c in rep["Columns"]["Column"]]
    assert types[:5] == ["tx_date", "txn_type", "doc_num", "cust_name", "due_date"]
    open_col = types.index("subt_neg_open_bal")
    sections = rep["Rows"]["Row"][:-1]
    titles = [s["Header"]["ColData"][0]["value"] for s in sections]
    assert titles == [
        "91 or more days past due",
        "61 - 90 days past due",
        "31 - 60 days past due",
        "1 - 30 days past due",
        "Current",
    ]
    grand = Decimal(0)
    seen = 0
    for s in sections:
        values = [_money(r["ColData"][open_col]["value"]) for r in s["Rows"]["Row"]]
        assert all(r["type"] == "Data" for r in s["Rows"]["Row"])
        summary = s["Summary"]["ColData"]
        assert summary[0]["value"] == f"Total for {s['Header']['ColData'][0]['value']}"
        assert _money(summary[open_col]["value"]) == sum(values)
        grand += sum(values)
        seen += len(values)
    assert seen == 8  # six invoices, one memo, one unapplied payment
    total = rep["Rows"]["Row"][-1]["Summary"]["ColData"]
    assert _money(total[open_col]["value"]) == grand == sum(document_balances(sim).values())
    d45 = books["invoices"]["d45"]
    row = next(
        r
        for r in sections[2]["Rows"]["Row"]
        if r["ColData"][1].get("id") == d45["Id"] and r["ColData"][1]["value"] == "Invoice"
    )
    assert [c["value"] for c in row["ColData"]] == [
        "2026-04-01",
        "Invoice",
        d45["DocNumber"],
        sim.company().data["Customer"]["2"]["DisplayName"],
        "2026-05-01",
        "300.30",
        "300.30",
    ]
    assert row["ColData"][3]["id"] == "2"


def test_customer_balance_detail_runs_a_balance(api: Api, sim: Simulator, books: Any) -> None:
    """CustomerBalanceDetail: a section per customer, its transactions in date order with a
    running balance, "Total for <customer>", and the grand TOTAL."""
    rep = report(api, "CustomerBalanceDetail", customer="2")
    assert rep["Header"]["Customer"] == "2"
    sections = rep["Rows"]["Row"][:-1]
    assert len(sections) == 1 and sections[0]["Header"]["ColData"][0]["id"] == "2"
    rows = [[c["value"] for c in r["ColData"]] for r in sections[0]["Rows"]["Row"]]
    assert [(r[0], r[1], r[5], r[6]) for r in rows] == [
        ("2026-03-01", "Invoice", "300.40", "300.40"),
        ("2026-04-01", "Invoice", "300.30", "600.70"),
        ("2026-05-20", "Credit Memo", "-50.05", "550.65"),
    ]
    assert sections[0]["Summary"]["ColData"][5]["value"] == "550.65"
    assert rep["Rows"]["Row"][-1]["Summary"]["ColData"][5]["value"] == "550.65"


def test_report_date_rolls_back_later_documents_and_payments(
    api: Api, sim: Simulator, books: Any
) -> None:
    """On 31 May: the invoice of 2 June is not there yet, and the payment of 3 June has not
    yet reduced the invoice due on 1 April (then 60 days past due)."""
    rep = report(api, "AgedReceivables", report_date="2026-05-31")
    assert rep["Header"]["EndPeriod"] == "2026-05-31"
    rows = {
        r["ColData"][0]["id"]: [c["value"] for c in r["ColData"][1:]]
        for r in rep["Rows"]["Row"][:-1]
    }
    # 300.30 is 30 days past due and the memo 11 days old; 400.40 is 60 days past due
    assert rows["2"] == ["", "250.25", "400.40", "", "", "650.65"]
    assert rows["3"][-1] == "475.30"  # 500.55 - 25.25, no June invoice
    # Aged as of today instead, with the same documents:
    now = report(api, "AgedReceivables", report_date="2026-05-31", aging_method="Current")
    rows = {
        r["ColData"][0]["id"]: [c["value"] for c in r["ColData"][1:]]
        for r in now["Rows"]["Row"][:-1]
    }
    assert rows["2"] == ["", "-50.05", "300.30", "400.40", "", "650.65"]


def test_aging_period_and_num_periods_shape_the_detail_sections(
    api: Api, sim: Simulator, books: Any
) -> None:
    """Intuit's AgedReceivableDetail reference lists `aging_period` (days in each period,
    default 30) and `num_periods`; three periods of 15 days: 1 - 15, 16 - 30, 31 or more."""
    rep = report(api, "AgedReceivableDetail", aging_period="15", num_periods="3")
    types = [c["ColType"] for c in rep["Columns"]["Column"]]
    open_col = types.index("subt_neg_open_bal")
    sections = {
        s["Header"]["ColData"][0]["value"]: s["Summary"]["ColData"][open_col]["value"]
        for s in rep["Rows"]["Row"][:-1]
    }
    assert sections == {
        "31 or more days past due": "1076.00",  # 300.30 + 300.40 + 500.55 - 25.25
        "16 - 30 days past due": "-50.05",
        "1 - 15 days past due": "150.20",
        "Current": "160.10",
    }
    total = rep["Rows"]["Row"][-1]["Summary"]["ColData"][open_col]["value"]
    assert _money(total) == sum(document_balances(sim).values())
    err = api.fault(api.get("reports/AgedReceivableDetail", num_periods="0"), "2010")
    assert err["element"] == "num_periods"


def test_unknown_report_and_bad_parameters_are_refused(api: Api, books: Any) -> None:
    api.fault(api.get("reports/ProfitAndLoss"), "2010")
    err = api.fault(api.get("reports/AgedReceivables", report_date="31/05/2026"), "2010")
    assert err["element"] == "report_date"
    err = api.fault(api.get("reports/CustomerBalance", customer="999"), "2500")
    assert err["element"] == "customer"
