"""Starting companies: `demo` (a small US managed-service provider), `empty`, and the tax
and currency profiles of `qbsync.sim.profiles`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync.sim.company import Company

SEEDS = ("demo", "empty", "us-tax", "us-ast", "uk-vat", "ca-gst", "multi-currency")


def _preferences(custom_numbers: bool = False) -> dict[str, Any]:
    return {
        "Id": "1",
        "AccountingInfoPrefs": {
            "TrackDepartments": True,
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": True,
            "CustomerTerminology": "Customers",
        },
        "SalesFormsPrefs": {
            "CustomTxnNumbers": custom_numbers,
            # Not a named QBO field: stands for the company's "warn on duplicate number" setting.
            "WarnDuplicateDocNum": True,
            "AutoApplyCredit": True,
            "AllowDiscount": True,
            "AllowDeposit": False,
            "AllowShipping": False,
            "ETransactionEnabledStatus": "NotApplicable",
        },
        "CurrencyPrefs": {
            "MultiCurrencyEnabled": False,
            "HomeCurrency": {"value": "USD"},
        },
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False},
        "SalesFormsPrefsExtra": None,
        "OtherPrefs": {"NameValue": []},
    }


def _company_info(c: Company) -> dict[str, Any]:
    return {
        "Id": "1",
        "CompanyName": c.name,
        "LegalName": c.name,
        "Country": c.country,
        "CompanyAddr": {
            "Line1": "100 Harbor Way",
            "City": "Harbor City",
            "CountrySubDivisionCode": "CA",
            "PostalCode": "90710",
            "Country": c.country,
        },
        "Email": {"Address": "books@example.com"},
        "FiscalYearStartMonth": "January",
        "SupportedLanguages": "en",
        "DefaultTimeZone": "America/Los_Angeles",
        "NameValue": [{"Name": "NeoEnabled", "Value": "true"}],
    }


def _singletons(c: Company) -> None:
    for entity, obj in (("CompanyInfo", _company_info(c)), ("Preferences", _preferences())):
        oid = obj.pop("Id")
        obj = {k: v for k, v in obj.items() if v is not None}
        c._stamp_new(entity, obj, oid)
        c._put(entity, obj)


def _tax_basics(c: Company) -> None:
    for code, taxable in (("TAX", True), ("NON", False)):
        obj: dict[str, Any] = {
            "Name": code,
            "Description": "Taxable" if taxable else "Non-taxable",
            "Active": True,
            "Taxable": taxable,
            "TaxGroup": False,
            "Hidden": False,
            "SalesTaxRateList": {"TaxRateDetail": []},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        }
        c._stamp_new("TaxCode", obj, code)
        c._put("TaxCode", obj)


def _minimum(c: Company) -> dict[str, str]:
    _singletons(c)
    _tax_basics(c)
    ids = {}
    for name, atype, sub in (
        ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
        ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
        ("Services", "Income", "ServiceFeeIncome"),
    ):
        ids[name] = c.create(
            "Account", {"Name": name, "AccountType": atype, "AccountSubType": sub}
        )["Id"]
    c.create(
        "Item",
        {"Name": "Services", "Type": "Service", "IncomeAccountRef": {"value": ids["Services"]}},
    )
    return ids


def seed_empty(c: Company) -> None:
    _minimum(c)


def seed_demo(c: Company) -> None:
    accounts = _minimum(c)
    for name, atype, sub in (
        ("Checking", "Bank", "Checking"),
        ("Managed Services Income", "Income", "ServiceFeeIncome"),
        ("Hardware Sales", "Income", "SalesOfProductIncome"),
        ("Sales Tax Payable", "Other Current Liability", "SalesTaxPayable"),
    ):
        accounts[name] = c.create(
            "Account", {"Name": name, "AccountType": atype, "AccountSubType": sub}
        )["Id"]

    rate = dict(
        Name="Harbor County Sales Tax",
        Description="Harbor County sales tax",
        Active=True,
        RateValue=Decimal("8.25"),
        AgencyRef={"value": "1", "name": "California Department of Tax and Fee Administration"},
        SpecialTaxType="NONE",
        DisplayType="ReadOnly",
    )
    c._stamp_new("TaxRate", rate)
    c._put("TaxRate", rate)
    code: dict[str, Any] = {
        "Name": "Harbor County",
        "Description": "Harbor County sales tax",
        "Active": True,
        "Taxable": True,
        "TaxGroup": True,
        "Hidden": False,
        "SalesTaxRateList": {
            "TaxRateDetail": [
                {
                    "TaxRateRef": {"value": rate["Id"], "name": rate["Name"]},
                    "TaxTypeApplicable": "TaxOnAmount",
                    "TaxOrder": 0,
                }
            ]
        },
        "PurchaseTaxRateList": {"TaxRateDetail": []},
    }
    c._stamp_new("TaxCode", code)
    c._put("TaxCode", code)

    terms = {}
    for name, days in (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30)):
        terms[name] = c.create("Term", {"Name": name, "DueDays": days})["Id"]
    c.prefs["SalesFormsPrefs"]["DefaultTerms"] = {"value": terms["Net 30"]}

    for name, price, income, taxable in (
        ("Managed Services", "150.00", "Managed Services Income", False),
        ("Consulting Hours", "125.00", "Services", False),
        ("Hardware Setup", "95.00", "Hardware Sales", True),
        ("Backup Storage", "45.00", "Managed Services Income", True),
    ):
        c.create(
            "Item",
            {
                "Name": name,
                "Type": "Service",
                "UnitPrice": Decimal(price),
                "Taxable": taxable,
                "IncomeAccountRef": {"value": accounts[income]},
            },
        )

    for name in ("Managed Services", "Projects"):
        c.create("Class", {"Name": name})
    for name in ("Downtown", "Harbor Point"):
        c.create("Department", {"Name": name})
    for name, kind in (
        ("Cash", "NON_CREDIT_CARD"),
        ("Check", "NON_CREDIT_CARD"),
        ("Credit Card", "CREDIT_CARD"),
        ("Direct Debit", "NON_CREDIT_CARD"),
    ):
        c.create("PaymentMethod", {"Name": name, "Type": kind})

    for n, (name, email, term, active) in enumerate(
        (
            ("Acme Dental", "ap@acme-dental.example", "Net 30", True),
            ("Brightside Law LLP", "billing@brightside.example", "Net 15", True),
            ("Cedar Clinic", "office@cedar.example", "Net 30", True),
            ("Delta Logistics", "finance@delta.example", "Due on receipt", True),
            ("Evergreen Realty", "accounts@evergreen.example", "Net 30", False),
        ),
        start=1,
    ):
        c.create(
            "Customer",
            {
                "DisplayName": name,
                "CompanyName": name,
                "PrimaryEmailAddr": {"Address": email},
                "BillAddr": {
                    "Line1": f"{n * 100} Harbor Blvd",
                    "City": "Harbor City",
                    "CountrySubDivisionCode": "CA",
                    "PostalCode": "90710",
                },
                "SalesTermRef": {"value": terms[term]},
                "Active": active,
            },
        )


def apply_seed(c: Company, seed: str) -> None:
    if seed == "demo":
        seed_demo(c)
    elif seed == "empty":
        seed_empty(c)
    elif seed in SEEDS:
        from qbsync.sim.profiles import BUILDERS

        BUILDERS[seed](c)
    else:
        raise ValueError(f"unknown seed {seed!r}: use one of {', '.join(SEEDS)}")
