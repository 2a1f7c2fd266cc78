"""Tax and currency in the simulator's company profiles. Every expected figure is worked out
by hand in the comments (rate times net, half-up to the cent), never by the simulator's code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from conftest import Api

from qbsync.sim.core import Simulator
from qbsync.sim.testing import sim_client

D = Decimal


@pytest.fixture
def profile() -> Iterator[Callable[[str], Api]]:
    clients: list[httpx.Client] = []

    def make(seed: str) -> Api:
        sim = Simulator(seed=seed, rng_seed=7)
        client = sim_client(sim)
        clients.append(client)
        return Api(sim, client)

    yield make
    for client in clients:
        client.close()


def ids(api: Api, entity: str, field: str = "Name") -> dict[str, str]:
    return {row[field]: row["Id"] for row in api.query(f"SELECT * FROM {entity}")[entity]}


def line(item: str, amount: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    det: dict[str, Any] = {"ItemRef": {"value": item}}
    if code is not None:
        det["TaxCodeRef"] = {"value": code}
    det.update(extra)
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": det}


def discount(amount: str | None = None, percent: str | None = None) -> dict[str, Any]:
    if percent is not None:
        return {
            "DetailType": "DiscountLineDetail",
            "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": percent},
        }
    return {
        "DetailType": "DiscountLineDetail",
        "Amount": amount,
        "DiscountLineDetail": {"PercentBased": False},
    }


def money(v: Any) -> Decimal:
    return D(str(v)).quantize(D("0.01"))


def tax_lines(doc: dict[str, Any]) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [
        (
            tl["TaxLineDetail"]["TaxRateRef"]["name"],
            D(str(tl["TaxLineDetail"]["TaxPercent"])),
            money(tl["TaxLineDetail"]["NetAmountTaxable"]),
            money(tl["Amount"]),
        )
        for tl in doc["TxnTaxDetail"].get("TaxLine", [])
    ]


def totals(doc: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    return (
        money(doc["TxnTaxDetail"]["TotalTax"]),
        money(doc["TotalAmt"]),
        money(doc.get("Balance", doc.get("RemainingCredit"))),
    )


# ------------------------------------------------------------------- us-tax: manual sales tax


@pytest.fixture
def us(profile: Callable[[str], Api]) -> Api:
    return profile("us-tax")


def us_invoice(api: Api, *extra: dict[str, Any], **body: Any) -> dict[str, Any]:
    items, codes = ids(api, "Item"), ids(api, "TaxCode")
    lines = [line(items["Consulting"], "120.00"), line(items["Support Plan"], "99.98")]
    return api.create(
        "Invoice",
        {
            "CustomerRef": {"value": ids(api, "Customer", "DisplayName")["Hudson Bakery"]},
            "Line": lines + list(extra),
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": codes["New York City"]}, **body},
        },
    )


def test_us_combined_city_and_state_rates(us: Api) -> None:
    inv = us_invoice(us)
    # Consulting is not taxable (NON), Support Plan is (TAX): taxable net 99.98.
    # city 4.5 % = 4.4991 -> 4.50; state 4.375 % = 4.374125 -> 4.37; total 8.87.
    assert [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in inv["Line"][:2]] == [
        "NON",
        "TAX",
    ]
    assert tax_lines(inv) == [
        ("NYC City Tax", D("4.5"), D("99.98"), D("4.50")),
        ("NY State Tax", D("4.375"), D("99.98"), D("4.37")),
    ]
    # 120.00 + 99.98 + 8.87
    assert totals(inv) == (D("8.87"), D("228.85"), D("228.85"))
    assert inv["TxnTaxDetail"]["TxnTaxCodeRef"]["name"] == "New York City"


def test_us_percent_discount_comes_off_before_tax(us: Api) -> None:
    inv = us_invoice(us, discount(percent="10"))
    # 10 % of 219.98 = 21.998 -> 22.00, spread: NON 22 * 120 / 219.98 = 12.0011 -> 12.00,
    # TAX the rest 10.00; taxable 89.98: city 4.0491 -> 4.05, state 3.936625 -> 3.94.
    disc = [ln for ln in inv["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert money(disc[0]["Amount"]) == D("22.00")
    assert disc[0]["DiscountLineDetail"]["DiscountAccountRef"]["name"] == "Discounts given"
    assert tax_lines(us.read("Invoice", inv["Id"])) == [
        ("NYC City Tax", D("4.5"), D("89.98"), D("4.05")),
        ("NY State Tax", D("4.375"), D("89.98"), D("3.94")),
    ]
    # 219.98 - 22.00 + 7.99
    assert totals(inv) == (D("7.99"), D("205.97"), D("205.97"))
    sub = [ln for ln in inv["Line"] if ln["DetailType"] == "SubTotalLineDetail"]
    assert money(sub[0]["Amount"]) == D("219.98")


def test_us_amount_discount_and_credit_memo(us: Api) -> None:
    items, codes = ids(us, "Item"), ids(us, "TaxCode")
    memo = us.create(
        "CreditMemo",
        {
            "CustomerRef": {"value": ids(us, "Customer", "DisplayName")["Albany Optics"]},
            "Line": [line(items["Hardware Kit"], "39.90"), discount(amount="5.00")],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": codes["NY State"]}},
        },
    )
    # all taxable: 39.90 - 5.00 = 34.90; state 4.375 % = 1.526875 -> 1.53; 34.90 + 1.53.
    assert tax_lines(memo) == [("NY State Tax", D("4.375"), D("34.90"), D("1.53"))]
    assert money(memo["TotalAmt"]) == D("36.43")
    assert money(memo["TxnTaxDetail"]["TotalTax"]) == D("1.53")


def test_us_sent_total_tax_is_kept_under_manual_tax(us: Api) -> None:
    inv = us_invoice(us, TotalTax="8.88")
    # computed 8.87 (see above); the client's 8.88 stands, the cent shows as the delta.
    assert totals(inv) == (D("8.88"), D("228.86"), D("228.86"))
    assert money(inv["TxnTaxDetail"]["TaxLine"][-1]["TaxLineDetail"]["OverrideDeltaAmount"]) == D(
        "0.01"
    )
    sparse = {"Id": inv["Id"], "SyncToken": inv["SyncToken"], "sparse": True, "PrivateNote": "x"}
    again = us.ok(us.post("invoice", sparse, operation="update"))["Invoice"]
    assert money(again["TxnTaxDetail"]["TotalTax"]) == D("8.88")


def test_us_refuses_a_real_tax_code_on_a_line(us: Api) -> None:
    items, codes = ids(us, "Item"), ids(us, "TaxCode")
    body = {
        "CustomerRef": {"value": "1"},
        "Line": [line(items["Support Plan"], "49.99", codes["New York City"])],
    }
    err = us.fault(us.post("invoice", body), "2500")
    assert err["element"] == "Line.SalesItemLineDetail.TaxCodeRef"


def test_us_refuses_a_foreign_currency_when_multicurrency_is_off(us: Api) -> None:
    items = ids(us, "Item")
    body = {
        "CustomerRef": {"value": "1"},
        "CurrencyRef": {"value": "EUR"},
        "Line": [line(items["Consulting"], "10.00")],
    }
    err = us.fault(us.post("invoice", body), "6000")
    assert err["element"] == "CurrencyRef"
