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


# ------------------------------------------------------------- us-ast: automated sales tax


def test_ast_picks_rates_from_the_address_and_ignores_what_is_sent(
    profile: Callable[[str], Api],
) -> None:
    api = profile("us-ast")
    items, people, codes = (
        ids(api, "Item"),
        ids(api, "Customer", "DisplayName"),
        ids(api, "TaxCode"),
    )
    inv = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": people["Lone Star Labs"]},
            "Line": [line(items["Hardware Kit"], "59.85")],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": codes["NY State"]}, "TotalTax": "1.00"},
        },
    )
    # Austin, TX: state 6.25 % of 59.85 = 3.740625 -> 3.74, city 2 % = 1.197 -> 1.20.
    assert inv["TxnTaxDetail"]["TxnTaxCodeRef"]["name"] == "TX State + Austin City"
    assert tax_lines(inv) == [
        ("TX State", D("6.25"), D("59.85"), D("3.74")),
        ("Austin City", D("2.0"), D("59.85"), D("1.20")),
    ]
    assert totals(inv) == (D("4.94"), D("64.79"), D("64.79"))
    nyc = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": people["Hudson Bakery"]},
            "Line": [line(items["Support Plan"], "49.99")],
        },
    )
    # New York City: 4 % = 1.9996 -> 2.00, 4.5 % = 2.24955 -> 2.25, 0.375 % = 0.18746 -> 0.19.
    assert [t[3] for t in tax_lines(nyc)] == [D("2.00"), D("2.25"), D("0.19")]
    assert totals(nyc) == (D("4.44"), D("54.43"), D("54.43"))
    oregon = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": people["Rose City Cycles"]},
            "Line": [line(items["Support Plan"], "49.99")],
        },
    )
    assert totals(oregon) == (D("0.00"), D("49.99"), D("49.99"))


# ------------------------------------------------------------------------------ uk-vat


@pytest.fixture
def uk(profile: Callable[[str], Api]) -> Api:
    return profile("uk-vat")


def uk_body(api: Api, lines: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
    return {
        "CustomerRef": {"value": ids(api, "Customer", "DisplayName")["Avon Architects"]},
        "Line": lines,
        **body,
    }


def test_uk_vat_rates_exclusive(uk: Api) -> None:
    items, codes = ids(uk, "Item"), ids(uk, "TaxCode")
    inv = uk.create(
        "Invoice",
        uk_body(
            uk,
            [
                line(items["Consulting"], "120.00", codes["20.0% S"]),
                line(items["Hardware Kit"], "19.95", codes["5.0% R"]),
                line(items["Support Plan"], "49.99", codes["0.0% Z"]),
                line(items["Consulting"], "10.00", codes["Exempt"]),
            ],
            GlobalTaxCalculation="TaxExcluded",
        ),
    )
    # 20 % of 120.00 = 24.00; 5 % of 19.95 = 0.9975 -> 1.00; zero-rated 0.00; exempt: no line.
    assert tax_lines(inv) == [
        ("20.0% S", D("20"), D("120.00"), D("24.00")),
        ("5.0% R", D("5"), D("19.95"), D("1.00")),
        ("0.0% Z", D("0"), D("49.99"), D("0.00")),
    ]
    # 199.94 + 25.00
    assert totals(inv) == (D("25.00"), D("224.94"), D("224.94"))
    assert inv["CurrencyRef"]["value"] == "GBP" and inv["GlobalTaxCalculation"] == "TaxExcluded"


def test_uk_vat_inclusive_amounts(uk: Api) -> None:
    items, codes = ids(uk, "Item"), ids(uk, "TaxCode")
    inv = uk.create(
        "Invoice",
        uk_body(
            uk,
            [
                # the net in Amount, the gross in TaxInclusiveAmt (docs/qbo-tax.md)
                line(items["Consulting"], "100.00", codes["20.0% S"], TaxInclusiveAmt="120.00"),
                line(items["Consulting"], "8.33", codes["20.0% S"], TaxInclusiveAmt="10.00"),
            ],
            GlobalTaxCalculation="TaxInclusive",
        ),
    )
    # gross 130.00 at 20 %: net 130 / 1.2 = 108.333 -> 108.33, VAT 21.67; the lines' nets
    # 108.33 * 120 / 130 = 99.997 -> 100.00 and the rest 8.33.
    assert tax_lines(inv) == [("20.0% S", D("20"), D("108.33"), D("21.67"))]
    assert totals(inv) == (D("21.67"), D("130.00"), D("130.00"))
    sales = [ln for ln in inv["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    assert [money(ln["Amount"]) for ln in sales] == [D("100.00"), D("8.33")]
    assert [money(ln["SalesItemLineDetail"]["TaxInclusiveAmt"]) for ln in sales] == [
        D("120.00"),
        D("10.00"),
    ]


def test_uk_inclusive_with_a_discount_keeps_the_books_consistent(uk: Api) -> None:
    """Tax-inclusive lines with a discount: the discount comes off the gross, the VAT is on
    what remains, and the simulator's own invariants hold (TotalAmt is gross less discount,
    not the net lines less discount plus tax)."""
    items, codes = ids(uk, "Item"), ids(uk, "TaxCode")
    inv = uk.create(
        "Invoice",
        uk_body(
            uk,
            [
                line(items["Consulting"], "100.00", codes["20.0% S"], TaxInclusiveAmt="120.00"),
                discount("12.00"),
            ],
            GlobalTaxCalculation="TaxInclusive",
        ),
    )
    # 120.00 gross - 12.00 = 108.00, of which VAT at 20 %: 108 / 6 = 18.00
    assert totals(inv) == (D("18.00"), D("108.00"), D("108.00"))
    assert uk.sim.check_invariants() == []


def test_uk_inclusive_line_amount_is_the_net(uk: Api) -> None:
    """Under TaxInclusive a line's Amount is net of tax: sent alone, the tax comes on top; a
    gross sent in Amount (and TaxInclusiveAmt) is taxed again, as reported of QuickBooks."""
    items, codes = ids(uk, "Item"), ids(uk, "TaxCode")
    net_only = uk.create(
        "Invoice",
        uk_body(
            uk,
            [line(items["Consulting"], "100.00", codes["20.0% S"])],
            GlobalTaxCalculation="TaxInclusive",
        ),
    )
    # 100.00 net + 20 % = 120.00 gross
    assert totals(net_only) == (D("20.00"), D("120.00"), D("120.00"))
    [sale] = [ln for ln in net_only["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    assert money(sale["Amount"]) == D("100.00")
    assert money(sale["SalesItemLineDetail"]["TaxInclusiveAmt"]) == D("120.00")
    gross_twice = uk.create(
        "Invoice",
        uk_body(
            uk,
            [line(items["Consulting"], "120.00", codes["20.0% S"], TaxInclusiveAmt="120.00")],
            GlobalTaxCalculation="TaxInclusive",
        ),
    )
    # 120.00 read as the net: 144.00, 1.2 times what was meant
    assert totals(gross_twice) == (D("24.00"), D("144.00"), D("144.00"))


def test_uk_discount_spread_over_rates_and_credit_memo(uk: Api) -> None:
    items, codes = ids(uk, "Item"), ids(uk, "TaxCode")
    inv = uk.create(
        "Invoice",
        uk_body(
            uk,
            [
                line(items["Consulting"], "120.00", codes["20.0% S"]),
                line(items["Hardware Kit"], "19.95", codes["5.0% R"]),
                discount(amount="10.00"),
            ],
        ),
    )
    # 10.00 over 139.95: 20 % code 10 * 120 / 139.95 = 8.5745 -> 8.57, 5 % code 1.43;
    # nets 111.43 and 18.52: 22.286 -> 22.29 and 0.926 -> 0.93.
    assert tax_lines(inv) == [
        ("20.0% S", D("20"), D("111.43"), D("22.29")),
        ("5.0% R", D("5"), D("18.52"), D("0.93")),
    ]
    # 139.95 - 10.00 + 23.22
    assert totals(inv) == (D("23.22"), D("153.17"), D("153.17"))
    memo = uk.create(
        "CreditMemo", uk_body(uk, [line(items["Consulting"], "50.00", codes["20.0% S"])])
    )
    assert money(memo["TxnTaxDetail"]["TotalTax"]) == D("10.00")
    assert money(memo["TotalAmt"]) == D("60.00")


def test_uk_refuses_a_line_without_a_tax_code_and_us_pseudo_codes(uk: Api) -> None:
    items = ids(uk, "Item")
    err = uk.fault(uk.post("invoice", uk_body(uk, [line(items["Consulting"], "10.00")])), "6000")
    assert "VAT rate" in err["Detail"]
    err = uk.fault(
        uk.post("invoice", uk_body(uk, [line(items["Consulting"], "10.00", "TAX")])), "2500"
    )
    assert err["element"] == "Line.SalesItemLineDetail.TaxCodeRef"


# ------------------------------------------------------------------------------ ca-gst


def test_ca_gst_hst_and_qst(profile: Callable[[str], Api]) -> None:
    api = profile("ca-gst")
    items, codes, people = (
        ids(api, "Item"),
        ids(api, "TaxCode"),
        ids(api, "Customer", "DisplayName"),
    )
    qc = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": people["Montreal Bistro"]},
            "Line": [
                line(items["Consulting"], "120.00", codes["GST/QST QC"]),
                line(items["Hardware Kit"], "19.95", codes["GST"]),
            ],
        },
    )
    # GST on 139.95 = 6.9975 -> 7.00; QST 9.975 % of 120.00 = 11.97.
    assert tax_lines(qc) == [
        ("GST", D("5"), D("139.95"), D("7.00")),
        ("QST", D("9.975"), D("120.00"), D("11.97")),
    ]
    assert totals(qc) == (D("18.97"), D("158.92"), D("158.92"))
    on = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": people["Maple Dental"]},
            "Line": [line(items["Support Plan"], "49.99", codes["HST ON"])],
        },
    )
    # 13 % of 49.99 = 6.4987 -> 6.50
    assert totals(on) == (D("6.50"), D("56.49"), D("56.49"))
    inclusive = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": people["Montreal Bistro"]},
            "GlobalTaxCalculation": "TaxInclusive",
            "Line": [
                line(items["Consulting"], "100.00", codes["GST/QST QC"], TaxInclusiveAmt="114.98")
            ],
        },
    )
    # 114.98 / 1.14975 = 100.004 -> 100.00 net; GST 5.00; QST the rest 9.98.
    assert tax_lines(inclusive) == [
        ("GST", D("5"), D("100.00"), D("5.00")),
        ("QST", D("9.975"), D("100.00"), D("9.98")),
    ]
    assert totals(inclusive) == (D("14.98"), D("114.98"), D("114.98"))
    err = api.fault(
        api.post(
            "invoice",
            {
                "CustomerRef": {"value": people["Maple Dental"]},
                "Line": [line(items["Consulting"], "10.00")],
            },
        ),
        "6000",
    )
    assert "GST/HST rate" in err["Detail"]


# ---------------------------------------------------------------------- multi-currency


def test_foreign_currency_invoice_and_payment(profile: Callable[[str], Api]) -> None:
    api = profile("multi-currency")
    items, people = ids(api, "Item"), ids(api, "Customer", "DisplayName")
    berlin = people["Berlin Robotics GmbH"]
    inv = api.create(
        "Invoice",
        {"CustomerRef": {"value": berlin}, "Line": [line(items["Consulting"], "120.00")]},
    )
    # EUR from the customer; 120.00 EUR at 1.0850 = 130.20 USD.
    assert inv["CurrencyRef"]["value"] == "EUR"
    assert D(str(inv["ExchangeRate"])) == D("1.085")
    assert money(inv["HomeTotalAmt"]) == D("130.20")
    sent_rate = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": berlin},
            "CurrencyRef": {"value": "EUR"},
            "ExchangeRate": "1.1",
            "Line": [line(items["Consulting"], "120.00")],
        },
    )
    assert money(sent_rate["HomeTotalAmt"]) == D("132.00")
    pay = api.create(
        "Payment",
        {
            "CustomerRef": {"value": berlin},
            "TotalAmt": "50.00",
            "Line": [
                {"Amount": "50.00", "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert pay["CurrencyRef"]["value"] == "EUR" and D(str(pay["ExchangeRate"])) == D("1.085")
    # the balance stays in euros: 120.00 - 50.00
    assert money(api.read("Invoice", inv["Id"])["Balance"]) == D("70.00")
    err = api.fault(
        api.post(
            "invoice",
            {
                "CustomerRef": {"value": berlin},
                "CurrencyRef": {"value": "GBP"},
                "Line": [line(items["Consulting"], "10.00")],
            },
        ),
        "6000",
    )
    assert err["element"] == "CurrencyRef"
    home = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": people["Hudson Bakery"]},
            "Line": [line(items["Consulting"], "10.00")],
        },
    )
    assert home["CurrencyRef"]["value"] == "USD" and "HomeTotalAmt" not in home


def test_a_profile_for_a_new_company_and_through_a_reset() -> None:
    sim = Simulator(seed="uk-vat", rng_seed=7)
    rid = sim.add_company("Second Co", seed="ca-gst")
    second = sim.company(rid)
    assert second.country == "CA" and second.home_currency == "CAD"
    assert {c["Name"] for c in second.data["TaxCode"].values()} == {
        "GST",
        "HST ON",
        "GST/QST QC",
        "Exempt",
    }
    sim.reset()
    first = sim.company()
    assert first.country == "GB" and first.home_currency == "GBP"
    assert first.singleton("CompanyInfo")["Country"] == "GB"
    with pytest.raises(ValueError, match="unknown seed"):
        sim.add_company("Third", seed="mars")


def test_us_tax_is_recomputed_when_lines_change_and_the_old_total_is_echoed(us: Api) -> None:
    inv = us_invoice(us)
    items = ids(us, "Item")
    body = {
        "Id": inv["Id"],
        "SyncToken": inv["SyncToken"],
        "sparse": True,
        "Line": [line(items["Support Plan"], "100.00")],
        "TxnTaxDetail": inv["TxnTaxDetail"],
    }
    upd = us.ok(us.post("invoice", body, operation="update"))["Invoice"]
    # 100.00 taxable: city 4.50, state 4.375 -> 4.38 (half-up); 100.00 + 8.88.
    assert totals(upd) == (D("8.88"), D("108.88"), D("108.88"))


def test_discount_and_payment_refusals(profile: Callable[[str], Api]) -> None:
    api = profile("multi-currency")
    items, people = ids(api, "Item"), ids(api, "Customer", "DisplayName")
    too_much = {
        "CustomerRef": {"value": people["Hudson Bakery"]},
        "Line": [line(items["Consulting"], "10.00"), discount(amount="10.01")],
    }
    assert api.fault(api.post("invoice", too_much), "6000")["element"] == "Line.Amount"
    two = dict(too_much, Line=[line(items["Consulting"], "10.00"), discount("1"), discount("1")])
    api.fault(api.post("invoice", two), "6000")
    pay = {
        "CustomerRef": {"value": people["Leeds Textiles Ltd"]},
        "CurrencyRef": {"value": "EUR"},
        "TotalAmt": "5.00",
    }
    assert api.fault(api.post("payment", pay), "6000")["element"] == "CurrencyRef"
