"""Tax, discounts and currency in the export: for each of the simulator's tax profiles, a taxed
invoice, a discounted one and a credit note go through a real sync cycle (in-process simulator,
the real OAuth connection, the ledger imported through `qbsync ledger import`), and QuickBooks'
`TotalAmt` and `TxnTaxDetail.TotalTax` come out as the ledger's total and tax, to the cent.

The figures are worked out by hand in each test (docs/ledger.md's rounding rule: tax rounded
once per rate on the taxable net, half-up)."""

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
from tests.support import run_json
from tests.sync.helpers import set_mapping, sim_docs, store_query

SERVICES = [
    {"id": "S-CON", "name": "Consulting"},
    {"id": "S-SUP", "name": "Support plan"},
    {"id": "S-HW", "name": "Hardware kit"},
]
ITEMS = {"S-CON": "Consulting", "S-SUP": "Support Plan", "S-HW": "Hardware Kit"}


@pytest.fixture(autouse=True)
def consistent_simulator(connected_company: ConnectedCompany) -> Any:
    """After each export, the simulator's own derived state (totals less discounts plus tax,
    balances, links) still holds."""
    yield
    assert connected_company.control.invariants() == []


def by_name(server: Any, entity: str, name: str) -> str:
    field = "DisplayName" if entity == "Customer" else "Name"
    found = [d["Id"] for d in sim_docs(server, entity) if d.get(field) == name]
    assert len(found) == 1, (entity, name, found)
    return str(found[0])


def export(
    tmp_path: Path,
    company: ConnectedCompany,
    ledger: dict[str, Any],
    clients: dict[str, str],
    tax_codes: dict[str, str],
    *,
    failed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Import `ledger`, map its clients, services and tax regions by id to the profile's
    customers, items and tax codes (a code given by name, or TAX/NON as they are), run one
    cycle (in which `failed` operations fail); the QuickBooks documents by DocNumber."""
    path = tmp_path / "ledger.json"
    path.write_text(json.dumps({"version": 1, "services": SERVICES, **ledger}), encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", company.key)
    server = company.server
    with Workspace() as ws, transaction(ws.store):
        for local, name in clients.items():
            qbo = by_name(server, "Customer", name)
            set_mapping(ws, company.key, "customers", local, qbo, name)
        for local, name in ITEMS.items():
            set_mapping(ws, company.key, "items", local, by_name(server, "Item", name), name)
        for local, name in tax_codes.items():
            qbo = name if name in ("TAX", "NON") else by_name(server, "TaxCode", name)
            set_mapping(ws, company.key, "tax_codes", local, qbo, name)
    cycle = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["stats"]["ops_failed"] == failed, cycle
    assert failed or cycle["result"] == "succeeded", cycle
    docs = {d["DocNumber"]: d for d in sim_docs(server, "Invoice")}
    docs.update({d["DocNumber"]: d for d in sim_docs(server, "CreditMemo")})
    return docs


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def check(docs: dict[str, dict[str, Any]], expected: dict[str, tuple[str, str]]) -> None:
    """Each document's (total, tax) in the ledger and in QuickBooks is the stated figure."""
    ledger = {
        r["number"]: (Decimal(r["total"]), Decimal(r["tax"]))
        for r in store_query("SELECT number, total, tax FROM ledger_invoices")
    }
    for number, (total, tax) in expected.items():
        want = (Decimal(total), Decimal(tax))
        assert ledger[number] == want, (number, "ledger", ledger[number])
        doc = docs[number]
        got = (money(doc["TotalAmt"]), money(doc["TxnTaxDetail"]["TotalTax"]))
        assert got == want, (number, "QuickBooks", got)


def doc(number: str, client: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": f"D-{number}",
        "number": number,
        "client": client,
        "date": "2026-11-02",
        "status": "finalized",
        "lines": lines,
        **extra,
    }


def item(service: str, quantity: str, price: str, region: str) -> dict[str, Any]:
    return {"service": service, "quantity": quantity, "unit_price": price, "tax_region": region}


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_us_manual_sales_tax(connected_company: ConnectedCompany, tmp_path: Path) -> None:
    ledger = {
        "clients": [{"id": "C-1", "name": "Hudson Bakery", "currency": "USD"}],
        "tax_regions": [
            {
                "id": "TR-NYC",
                "name": "New York City",
                "components": [{"name": "NYC", "rate": "4.5"}, {"name": "NY", "rate": "4.375"}],
            },
            {"id": "TR-NYS", "name": "NY State", "rate": "4.375"},
            {"id": "TR-EX", "name": "Exempt"},
        ],
        "invoices": [
            # 99.98 taxed: 4.4991 -> 4.50 + 4.374125 -> 4.37 = 8.87; 120.00 not taxed
            doc(
                "7001",
                "C-1",
                [item("S-SUP", "2", "49.99", "TR-NYC"), item("S-CON", "1", "120.00", "TR-EX")],
            ),
            # 499.90 less 10 % (49.99) = 449.91: 20.24595 -> 20.25 + 19.6835625 -> 19.68
            doc(
                "7002",
                "C-1",
                [
                    item("S-SUP", "10", "49.99", "TR-NYC"),
                    {"kind": "discount", "description": "Loyalty", "percent": "10"},
                ],
            ),
            # the billing system's own tax figure (QuickBooks would compute 8.87): kept
            doc("7003", "C-1", [item("S-SUP", "2", "49.99", "TR-NYC")], tax_total="9.01"),
            # 10.00 off after tax: the tax stays on 99.98 (8.87); QuickBooks, which takes a
            # discount before tax, would compute 7.99 on 89.98, and keeps the sent 8.87
            doc(
                "7005",
                "C-1",
                [
                    item("S-SUP", "2", "49.99", "TR-NYC"),
                    {
                        "kind": "discount",
                        "description": "Voucher",
                        "amount": "10.00",
                        "taxable": False,
                    },
                ],
            ),
            # two discounts go as one line of 45.00: 10 % of 300.00 before tax, 15.00 after;
            # 270.00 at 4.375 % = 11.8125 -> 11.81
            doc(
                "7006",
                "C-1",
                [
                    item("S-SUP", "10", "25.00", "TR-NYS"),
                    item("S-SUP", "1", "50.00", "TR-NYS"),
                    {"kind": "discount", "description": "Loyalty", "percent": "10"},
                    {
                        "kind": "discount",
                        "description": "Voucher",
                        "amount": "15.00",
                        "taxable": False,
                    },
                ],
            ),
            # credit note: 19.95 at 4.375 % = 0.8728125 -> 0.87
            doc("CN-7004", "C-1", [item("S-HW", "1", "19.95", "TR-NYS")], type="credit_note"),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-1": "Hudson Bakery"},
        {"TR-NYC": "New York City", "TR-NYS": "NY State", "TR-EX": "NON"},
    )
    check(
        docs,
        {
            "7001": ("228.85", "8.87"),
            "7002": ("489.84", "39.93"),
            "7003": ("108.99", "9.01"),
            "7005": ("98.85", "8.87"),
            "7006": ("266.81", "11.81"),
            "CN-7004": ("20.82", "0.87"),
        },
    )
    lines = [ln for ln in docs["7001"]["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    assert [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in lines] == ["TAX", "NON"]
    discount = [ln for ln in docs["7002"]["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert discount[0]["DiscountLineDetail"]["PercentBased"] is True
    assert money(discount[0]["Amount"]) == Decimal("49.99")
    both = [ln for ln in docs["7006"]["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert len(both) == 1 and money(both[0]["Amount"]) == Decimal("45.00")
    assert both[0]["DiscountLineDetail"]["PercentBased"] is False


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-ast")])
def test_us_automated_sales_tax(connected_company: ConnectedCompany, tmp_path: Path) -> None:
    # QuickBooks picks the rates from the customer's address; the ledger holds the same rates.
    ledger = {
        "clients": [
            {"id": "C-1", "name": "Hudson Bakery", "currency": "USD"},
            {"id": "C-2", "name": "Lone Star Labs", "currency": "USD"},
        ],
        "tax_regions": [
            {
                "id": "TR-NYC",
                "name": "New York City",
                "components": [
                    {"name": "NY State", "rate": "4"},
                    {"name": "New York City", "rate": "4.5"},
                    {"name": "NY MCTD", "rate": "0.375"},
                ],
            },
            {
                "id": "TR-AUS",
                "name": "Austin",
                "components": [
                    {"name": "TX State", "rate": "6.25"},
                    {"name": "Austin City", "rate": "2"},
                ],
            },
        ],
        "invoices": [
            # 99.98: 3.9992 -> 4.00, 4.4991 -> 4.50, 0.374925 -> 0.37 = 8.87
            doc("7101", "C-1", [item("S-SUP", "2", "49.99", "TR-NYC")]),
            # 499.90 less 10 % = 449.91: 17.9964 -> 18.00, 20.24595 -> 20.25,
            # 1.6871625 -> 1.69 = 39.94
            doc(
                "7102",
                "C-1",
                [
                    item("S-SUP", "10", "49.99", "TR-NYC"),
                    {"kind": "discount", "description": "Loyalty", "percent": "10"},
                ],
            ),
            # credit note in Austin: 39.90: 2.49375 -> 2.49, 0.798 -> 0.80 = 3.29
            doc("CN-7103", "C-2", [item("S-HW", "2", "19.95", "TR-AUS")], type="credit_note"),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-1": "Hudson Bakery", "C-2": "Lone Star Labs"},
        {"TR-NYC": "TAX", "TR-AUS": "TAX"},
    )
    check(
        docs,
        {"7101": ("108.85", "8.87"), "7102": ("489.85", "39.94"), "CN-7103": ("43.19", "3.29")},
    )


@pytest.mark.parametrize("sim_options", [SimOptions(seed="uk-vat")])
def test_uk_vat_exclusive_inclusive_discount(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    ledger = {
        "clients": [{"id": "C-1", "name": "Avon Architects", "currency": "GBP"}],
        "tax_regions": [
            {"id": "TR-S", "name": "Standard", "rate": "20"},
            {"id": "TR-R", "name": "Reduced", "rate": "5"},
            {"id": "TR-EX", "name": "Exempt", "rate": "0"},
        ],
        "invoices": [
            # 99.98 at 20 % = 19.996 -> 20.00; 120.00 exempt
            doc(
                "7201",
                "C-1",
                [item("S-SUP", "2", "49.99", "TR-S"), item("S-CON", "1", "120.00", "TR-EX")],
            ),
            # prices include VAT: 99.98 x 20/120 = 16.6633 -> 16.66; 59.85 x 5/105 = 2.85
            doc(
                "7202",
                "C-1",
                [item("S-SUP", "2", "49.99", "TR-S"), item("S-HW", "3", "19.95", "TR-R")],
                amounts="inclusive",
            ),
            # 199.96 at 20 % and 99.75 at 5 %, 25.00 off before tax, spread 16.68 / 8.32:
            # 183.28 x 20 % = 36.656 -> 36.66; 91.43 x 5 % = 4.5715 -> 4.57
            doc(
                "7203",
                "C-1",
                [
                    item("S-SUP", "4", "49.99", "TR-S"),
                    item("S-HW", "5", "19.95", "TR-R"),
                    {"kind": "discount", "description": "Goodwill", "amount": "25.00"},
                ],
            ),
            # credit note: 120.00 at 20 % = 24.00
            doc("CN-7204", "C-1", [item("S-CON", "1", "120.00", "TR-S")], type="credit_note"),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-1": "Avon Architects"},
        {"TR-S": "20.0% S", "TR-R": "5.0% R", "TR-EX": "Exempt"},
    )
    check(
        docs,
        {
            "7201": ("239.98", "20.00"),
            "7202": ("159.83", "19.51"),
            "7203": ("315.94", "41.23"),
            "CN-7204": ("144.00", "24.00"),
        },
    )
    assert docs["7201"]["GlobalTaxCalculation"] == "TaxExcluded"
    assert docs["7202"]["GlobalTaxCalculation"] == "TaxInclusive"


@pytest.mark.parametrize("sim_options", [SimOptions(seed="uk-vat")])
def test_a_discount_after_tax_is_refused_where_quickbooks_cannot_keep_the_tax(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    # QuickBooks takes a discount before VAT and computes VAT itself: 100.00 less 10.00 after
    # tax is 110.00 in the ledger, but would be 108.00 there. The export says so and sends
    # nothing; the other invoice goes.
    ledger = {
        "clients": [{"id": "C-1", "name": "Avon Architects", "currency": "GBP"}],
        "tax_regions": [{"id": "TR-S", "name": "Standard", "rate": "20"}],
        "invoices": [
            doc(
                "7251",
                "C-1",
                [
                    item("S-CON", "1", "100.00", "TR-S"),
                    {
                        "kind": "discount",
                        "description": "Voucher",
                        "amount": "10.00",
                        "taxable": False,
                    },
                ],
            ),
            doc("7252", "C-1", [item("S-CON", "1", "100.00", "TR-S")]),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-1": "Avon Architects"},
        {"TR-S": "20.0% S"},
        failed=1,
    )
    assert set(docs) == {"7252"}
    check(docs, {"7252": ("120.00", "20.00")})
    found = run_json("exceptions", "list", "--open", "--kind", "export_failing")["data"]
    assert len(found) == 1, found
    text = json.dumps(found[0])
    assert "7251" in text and "Voucher" in text and "after tax" in text


@pytest.mark.parametrize("sim_options", [SimOptions(seed="ca-gst")])
def test_canada_gst_hst_qst(connected_company: ConnectedCompany, tmp_path: Path) -> None:
    ledger = {
        "clients": [
            {"id": "C-QC", "name": "Montreal Bistro", "currency": "CAD"},
            {"id": "C-ON", "name": "Maple Dental", "currency": "CAD"},
            {"id": "C-AB", "name": "Calgary Freight", "currency": "CAD"},
        ],
        "tax_regions": [
            {
                "id": "TR-QC",
                "name": "Quebec",
                "components": [{"name": "GST", "rate": "5"}, {"name": "QST", "rate": "9.975"}],
            },
            {"id": "TR-ON", "name": "Ontario", "rate": "13"},
            {"id": "TR-AB", "name": "Alberta", "rate": "5"},
        ],
        "invoices": [
            # 149.97: GST 7.4985 -> 7.50, QST 14.9595075 -> 14.96 = 22.46
            doc("7301", "C-QC", [item("S-SUP", "3", "49.99", "TR-QC")]),
            # 199.50 less 5 % (9.975 -> 9.98) = 189.52 at 13 % = 24.6376 -> 24.64
            doc(
                "7302",
                "C-ON",
                [
                    item("S-HW", "10", "19.95", "TR-ON"),
                    {"kind": "discount", "description": "Volume", "percent": "5"},
                ],
            ),
            # credit note: 120.00 at 5 % = 6.00
            doc("CN-7303", "C-AB", [item("S-CON", "1", "120.00", "TR-AB")], type="credit_note"),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-QC": "Montreal Bistro", "C-ON": "Maple Dental", "C-AB": "Calgary Freight"},
        {"TR-QC": "GST/QST QC", "TR-ON": "HST ON", "TR-AB": "GST"},
    )
    check(
        docs,
        {"7301": ("172.43", "22.46"), "7302": ("214.16", "24.64"), "CN-7303": ("126.00", "6.00")},
    )


@pytest.mark.parametrize("sim_options", [SimOptions(seed="multi-currency")])
def test_multi_currency(connected_company: ConnectedCompany, tmp_path: Path) -> None:
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
            # EUR 99.98 at 4 % = 3.9992 -> 4.00: 103.98, at 1.1 USD = 114.378 -> 114.38
            doc(
                "7401",
                "C-EU",
                [item("S-SUP", "2", "49.99", "TR-NY")],
                currency="EUR",
                exchange_rate="1.1",
            ),
            # GBP 240.00 not taxed, 20.00 off: 220.00, at 1.25 USD = 275.00
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
            # credit note in USD: 19.95 at 4 % = 0.798 -> 0.80
            doc("CN-7403", "C-US", [item("S-HW", "1", "19.95", "TR-NY")], type="credit_note"),
        ],
    }
    docs = export(
        tmp_path,
        connected_company,
        ledger,
        {"C-EU": "Berlin Robotics GmbH", "C-GB": "Leeds Textiles Ltd", "C-US": "Hudson Bakery"},
        {"TR-NY": "NY State", "TR-EX": "NON"},
    )
    check(
        docs,
        {"7401": ("103.98", "4.00"), "7402": ("220.00", "0.00"), "CN-7403": ("20.75", "0.80")},
    )
    assert docs["7401"]["CurrencyRef"]["value"] == "EUR"
    assert money(docs["7401"]["ExchangeRate"]) == Decimal("1.10")
    assert money(docs["7401"]["HomeTotalAmt"]) == Decimal("114.38")
    assert docs["7402"]["CurrencyRef"]["value"] == "GBP"
    assert money(docs["7402"]["HomeTotalAmt"]) == Decimal("275.00")
    homes = {r["number"]: r["home_total"] for r in store_query("SELECT * FROM ledger_invoices")}
    assert (homes["7401"], homes["7402"]) == ("114.38", "275.00")


def test_inclusive_line_sends_the_net_in_amount_and_the_gross_apart() -> None:
    """docs/qbo-tax.md, "Tax-inclusive lines": Amount is net of tax, TaxInclusiveAmt the
    gross, and UnitPrice net (7 places), so that Qty x UnitPrice rounds to Amount."""
    from qbsync.sync.payload_tax import inclusive_amounts

    # 2 x 49.99 = 99.98 at 20 %: 16.66 VAT inside; 3 x 19.95 = 59.85 at 5 %: 2.85 inside
    assert inclusive_amounts(
        {"amount": "99.98", "discount": "0.00", "tax": "16.66", "quantity": "2"}
    ) == (Decimal("83.32"), Decimal("99.98"), Decimal("41.6600000"))
    assert inclusive_amounts(
        {"amount": "59.85", "discount": "0.00", "tax": "2.85", "quantity": "3"}
    ) == (Decimal("57.00"), Decimal("59.85"), Decimal("19.0000000"))
    # 120.00 with 12.00 of discount: 108.00 holds 18.00 of VAT (20/120); the undiscounted
    # gross holds the same sixth: 20.00, net 100.00. 3.5 units: 28.5714286 each.
    net, gross, unit = inclusive_amounts(
        {"amount": "120.00", "discount": "12.00", "tax": "18.00", "quantity": "3.5"}
    )
    assert (net, gross, unit) == (Decimal("100.00"), Decimal("120.00"), Decimal("28.5714286"))
    assert (Decimal("3.5") * unit).quantize(Decimal("0.01")) == net
    # untaxed: the gross is the net
    assert inclusive_amounts({"amount": "10.00", "tax": "0.00", "quantity": "0"}) == (
        Decimal("10.00"),
        Decimal("10.00"),
        None,
    )


@pytest.mark.parametrize("sim_options", [SimOptions(seed="us-tax")])
def test_a_credit_note_smaller_in_quickbooks_says_so_not_that_its_credit_was_spent(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    # The ledger's credit note holds 4.37 of NY State tax (99.98 x 4.375 %): 104.35, applied
    # in full. Its region is mapped to NON, so QuickBooks' credit memo is 99.98: the
    # application cannot go, and the reason is the memo's size, not a credit spent elsewhere.
    connected_company.control.set_preferences(
        connected_company.realm_id, {"SalesFormsPrefs": {"AutoApplyCredit": False}}
    )
    ledger = {
        "clients": [{"id": "C-1", "name": "Hudson Bakery", "currency": "USD"}],
        "tax_regions": [{"id": "TR-NYS", "name": "NY State", "rate": "4.375"}],
        "invoices": [
            doc("7801", "C-1", [item("S-SUP", "4", "49.99", "TR-NYS")]),
            doc("7802", "C-1", [item("S-SUP", "2", "49.99", "TR-NYS")], type="credit_note"),
        ],
        "credit_applications": [
            {
                "id": "CA-7802",
                "credit_note": "D-7802",
                "invoice": "D-7801",
                "amount": "104.35",
                "date": "2026-11-21",
            }
        ],
    }
    export(
        tmp_path, connected_company, ledger, {"C-1": "Hudson Bakery"}, {"TR-NYS": "NON"}, failed=1
    )
    [failing] = run_json("exceptions", "list", "--open", "--kind", "credit_application_failing")[
        "data"
    ]
    assert (
        "credit note 7802 is 99.98 in QuickBooks, less than this application of 104.35"
        in (failing["message"])
    )
    assert "the ledger's is 104.35" in failing["message"]
    assert "AutoApplyCredit" not in failing["message"]
