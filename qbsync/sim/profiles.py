"""Company profiles for tax and currency: `us-tax`, `us-ast`, `uk-vat`, `ca-gst` and
`multi-currency`, each a complete company (accounts with a discount account, terms, items,
customers, tax codes and rates with their agencies, preferences, company info).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync.sim.company import Company
from qbsync.sim.company.currency import currency_ref
from qbsync.sim.company.tax import AST_JURISDICTIONS
from qbsync.sim.seed import _company_info, _preferences, _tax_basics

# Tax agencies, by id (TaxAgency is not a simulated entity: rates name theirs in AgencyRef).
AGENCIES = [
    "New York State Department of Taxation",
    "NYC Department of Finance",
    "California Department of Tax and Fee Administration",
    "Texas Comptroller of Public Accounts",
    "HM Revenue & Customs",
    "Canada Revenue Agency",
    "Revenu Québec",
]
PROFILES = ("us-tax", "us-ast", "uk-vat", "ca-gst", "multi-currency")


def _singletons(
    c: Company, home: str, addr: dict[str, str], *, multi: bool = False, ast: bool = False
) -> None:
    info = _company_info(c)
    info["CompanyAddr"] = dict(addr, Country=c.country)
    prefs = _preferences()
    prefs["CurrencyPrefs"] = {"MultiCurrencyEnabled": multi, "HomeCurrency": currency_ref(home)}
    prefs["TaxPrefs"] = {"UsingSalesTax": True, "PartnerTaxEnabled": ast}
    for entity, obj in (("CompanyInfo", info), ("Preferences", prefs)):
        oid = obj.pop("Id")
        obj = {k: v for k, v in obj.items() if v is not None}
        c._stamp_new(entity, obj, oid)
        c._put(entity, obj)


def _accounts(c: Company, home: str, tax_account: str) -> dict[str, str]:
    ids = {}
    for name, atype, sub in (
        ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
        ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
        ("Checking", "Bank", "Checking"),
        ("Services", "Income", "ServiceFeeIncome"),
        ("Product Sales", "Income", "SalesOfProductIncome"),
        ("Discounts given", "Income", "DiscountsRefundsGiven"),
        (tax_account, "Other Current Liability", "SalesTaxPayable"),
    ):
        ids[name] = c.create(
            "Account",
            {
                "Name": name,
                "AccountType": atype,
                "AccountSubType": sub,
                "CurrencyRef": currency_ref(home),
            },
        )["Id"]
    return ids


def _terms(c: Company) -> dict[str, str]:
    terms = {}
    for name, days in (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30)):
        terms[name] = c.create("Term", {"Name": name, "DueDays": days})["Id"]
    c.prefs["SalesFormsPrefs"]["DefaultTerms"] = {"value": terms["Net 30"]}
    return terms


def _rate(c: Company, name: str, pct: str, agency: str) -> dict[str, Any]:
    rate: dict[str, Any] = {
        "Name": name,
        "Description": name,
        "Active": True,
        "RateValue": Decimal(pct),
        "AgencyRef": {"value": str(AGENCIES.index(agency) + 1), "name": agency},
        "SpecialTaxType": "NONE",
        "DisplayType": "ReadOnly",
    }
    c._stamp_new("TaxRate", rate)
    c._put("TaxRate", rate)
    return rate


def _code(c: Company, name: str, rates: list[dict[str, Any]], taxable: bool = True) -> str:
    code: dict[str, Any] = {
        "Name": name,
        "Description": name,
        "Active": True,
        "Taxable": taxable,
        "TaxGroup": len(rates) > 1,
        "Hidden": False,
        "SalesTaxRateList": {
            "TaxRateDetail": [
                {
                    "TaxRateRef": {"value": r["Id"], "name": r["Name"]},
                    "TaxTypeApplicable": "TaxOnAmount",
                    "TaxOrder": 0,
                }
                for r in rates
            ]
        },
        "PurchaseTaxRateList": {"TaxRateDetail": []},
    }
    c._stamp_new("TaxCode", code)
    c._put("TaxCode", code)
    return str(code["Id"])


def _items(c: Company, accounts: dict[str, str], taxable: bool = True) -> None:
    for name, price, income, tx in (
        ("Consulting", "120.00", "Services", False),
        ("Support Plan", "49.99", "Services", True),
        ("Hardware Kit", "19.95", "Product Sales", True),
    ):
        c.create(
            "Item",
            {
                "Name": name,
                "Type": "Service",
                "UnitPrice": Decimal(price),
                "Taxable": tx and taxable,
                "IncomeAccountRef": {"value": accounts[income]},
            },
        )


def _customers(
    c: Company, terms: dict[str, str], rows: list[tuple[str, str, str, str, str]]
) -> None:
    for name, city, region, postal, cur in rows:
        c.create(
            "Customer",
            {
                "DisplayName": name,
                "CompanyName": name,
                "PrimaryEmailAddr": {"Address": f"ap@{name.split()[0].lower()}.example"},
                "BillAddr": {
                    "Line1": "1 Main Street",
                    "City": city,
                    "CountrySubDivisionCode": region,
                    "PostalCode": postal,
                },
                "SalesTermRef": {"value": terms["Net 30"]},
                "CurrencyRef": currency_ref(cur),
            },
        )


def _us_base(c: Company, *, ast: bool = False, multi: bool = False) -> dict[str, str]:
    c.country = "US"
    _singletons(
        c,
        "USD",
        {"Line1": "350 Fifth Avenue", "City": "New York", "CountrySubDivisionCode": "NY"},
        multi=multi,
        ast=ast,
    )
    _tax_basics(c)
    return _accounts(c, "USD", "Sales Tax Payable")


def seed_us_tax(c: Company) -> None:
    """Manual sales tax: `New York City` is 4.5 % city + 4.375 % state, 8.875 % in all."""
    accounts = _us_base(c)
    city = _rate(c, "NYC City Tax", "4.5", "NYC Department of Finance")
    state = _rate(c, "NY State Tax", "4.375", "New York State Department of Taxation")
    _code(c, "New York City", [city, state])
    _code(c, "NY State", [state])
    _items(c, accounts)
    _customers(
        c,
        _terms(c),
        [
            ("Hudson Bakery", "New York", "NY", "10001", "USD"),
            ("Albany Optics", "Albany", "NY", "12207", "USD"),
        ],
    )


def seed_us_ast(c: Company) -> None:
    """Automated sales tax: QuickBooks picks the rates from the address (tax.py's table)."""
    accounts = _us_base(c, ast=True)
    pct = {
        "NY State": ("4.0", "New York State Department of Taxation"),
        "New York City": ("4.5", "NYC Department of Finance"),
        "NY MCTD": ("0.375", "New York State Department of Taxation"),
        "CA State": ("7.25", "California Department of Tax and Fee Administration"),
        "Los Angeles County District": (
            "2.25",
            "California Department of Tax and Fee Administration",
        ),
        "TX State": ("6.25", "Texas Comptroller of Public Accounts"),
        "Austin City": ("2.0", "Texas Comptroller of Public Accounts"),
    }
    rates = {name: _rate(c, name, p, agency) for name, (p, agency) in pct.items()}
    for names in AST_JURISDICTIONS.values():
        if names:
            _code(c, " + ".join(names), [rates[n] for n in names])
    _items(c, accounts)
    _customers(
        c,
        _terms(c),
        [
            ("Hudson Bakery", "New York", "NY", "10001", "USD"),
            ("Sunset Studios", "Los Angeles", "CA", "90028", "USD"),
            ("Capitol Books", "Sacramento", "CA", "95814", "USD"),
            ("Lone Star Labs", "Austin", "TX", "78701", "USD"),
            ("Rose City Cycles", "Portland", "OR", "97201", "USD"),
        ],
    )


def seed_uk_vat(c: Company) -> None:
    """VAT: 20 % standard, 5 % reduced, 0 % zero-rated, and exempt (no rate)."""
    c.country = "GB"
    _singletons(
        c, "GBP", {"Line1": "10 Quay Street", "City": "Bristol", "CountrySubDivisionCode": ""}
    )
    accounts = _accounts(c, "GBP", "VAT Control")
    hmrc = "HM Revenue & Customs"
    _code(c, "20.0% S", [_rate(c, "20.0% S", "20", hmrc)])
    _code(c, "5.0% R", [_rate(c, "5.0% R", "5", hmrc)])
    _code(c, "0.0% Z", [_rate(c, "0.0% Z", "0", hmrc)])
    _code(c, "Exempt", [], taxable=False)
    _items(c, accounts)
    _customers(
        c,
        _terms(c),
        [
            ("Avon Architects", "Bristol", "", "BS1 4DJ", "GBP"),
            ("Thames Print Ltd", "London", "", "EC1A 1BB", "GBP"),
        ],
    )


def seed_ca_gst(c: Company) -> None:
    """GST 5 %, HST 13 % (Ontario), GST + QST 5 % + 9.975 % (Quebec), and exempt."""
    c.country = "CA"
    _singletons(
        c, "CAD", {"Line1": "200 Bay Street", "City": "Toronto", "CountrySubDivisionCode": "ON"}
    )
    accounts = _accounts(c, "CAD", "GST/HST Payable")
    cra = "Canada Revenue Agency"
    gst = _rate(c, "GST", "5", cra)
    _code(c, "GST", [gst])
    _code(c, "HST ON", [_rate(c, "HST ON", "13", cra)])
    _code(c, "GST/QST QC", [gst, _rate(c, "QST", "9.975", "Revenu Québec")])
    _code(c, "Exempt", [], taxable=False)
    _items(c, accounts)
    _customers(
        c,
        _terms(c),
        [
            ("Maple Dental", "Toronto", "ON", "M5J 2N8", "CAD"),
            ("Montreal Bistro", "Montreal", "QC", "H2Y 1C6", "CAD"),
            ("Calgary Freight", "Calgary", "AB", "T2P 1J9", "CAD"),
        ],
    )


def seed_multi_currency(c: Company) -> None:
    """USD home with multi-currency on: USD, EUR and GBP customers; exchange rates in
    company/currency.py."""
    accounts = _us_base(c, multi=True)
    _code(c, "NY State", [_rate(c, "NY State Tax", "4.0", "New York State Department of Taxation")])
    _items(c, accounts)
    _customers(
        c,
        _terms(c),
        [
            ("Hudson Bakery", "New York", "NY", "10001", "USD"),
            ("Berlin Robotics GmbH", "Berlin", "BE", "10115", "EUR"),
            ("Leeds Textiles Ltd", "Leeds", "", "LS1 4AP", "GBP"),
        ],
    )


BUILDERS = {
    "us-tax": seed_us_tax,
    "us-ast": seed_us_ast,
    "uk-vat": seed_uk_vat,
    "ca-gst": seed_ca_gst,
    "multi-currency": seed_multi_currency,
}
