"""QuickBooks lists shaped like the simulator's demo company, for resolving names offline."""

from __future__ import annotations

from typing import Any

from qbsync.mappings.resolve import static_source


def _named(entity: str, names: list[str], start: int, **extra: Any) -> list[dict[str, Any]]:
    key = "DisplayName" if entity == "Customer" else "Name"
    return [
        {"Id": str(start + i), key: name, "FullyQualifiedName": name, "Active": True, **extra}
        for i, name in enumerate(names)
    ]


DEMO_LISTS: dict[str, list[dict[str, Any]]] = {
    "Item": [
        {"Id": "1", "Name": "Services", "Type": "Service", "Active": True},
        *_named(
            "Item",
            ["Managed Services", "Consulting Hours", "Hardware Setup", "Backup Storage"],
            2,
            Type="Service",
        ),
        {"Id": "9", "Name": "Hardware", "Type": "Category", "Active": True},
    ],
    "TaxCode": [
        {"Id": "TAX", "Name": "TAX", "Active": True},
        {"Id": "NON", "Name": "NON", "Active": True},
        {"Id": "3", "Name": "Harbor County", "Active": True},
    ],
    "Term": _named("Term", ["Due on receipt", "Net 15", "Net 30"], 1),
    "Customer": [
        *_named(
            "Customer",
            ["Acme Dental", "Brightside Law LLP", "Cedar Clinic", "Delta Logistics"],
            1,
        ),
        {"Id": "5", "DisplayName": "Evergreen Realty", "Active": False},
        {
            "Id": "6",
            "DisplayName": "Cedar Clinic:Annex",
            "FullyQualifiedName": "Cedar Clinic:Annex",
            "Active": True,
        },
    ],
    "PaymentMethod": _named("PaymentMethod", ["Cash", "Check", "Credit Card", "Direct Debit"], 1),
    "Account": [
        {
            "Id": "1",
            "Name": "Undeposited Funds",
            "AccountType": "Other Current Asset",
            "Active": True,
        },
        {
            "Id": "2",
            "Name": "Accounts Receivable (A/R)",
            "AccountType": "Accounts Receivable",
            "Active": True,
        },
        {"Id": "3", "Name": "Services", "AccountType": "Income", "Active": True},
        {"Id": "4", "Name": "Checking", "AccountType": "Bank", "Active": True},
        {"Id": "5", "Name": "Checking", "AccountType": "Income", "Active": True},
        {
            "Id": "6",
            "Name": "Discounts given",
            "AccountType": "Income",
            "AccountSubType": "DiscountsRefundsGiven",
            "Active": True,
        },
    ],
    "Class": _named("Class", ["Managed Services", "Projects"], 1),
    "Department": _named("Department", ["Downtown", "Harbor Point"], 1),
}


class CountingSource:
    """A static source that records which lists were read."""

    def __init__(self, lists: dict[str, list[dict[str, Any]]]) -> None:
        self.inner = static_source(lists)
        self.calls: list[str] = []

    def __call__(self, entity: str, include_inactive: bool) -> list[dict[str, Any]]:
        self.calls.append(entity)
        return self.inner(entity, include_inactive)
