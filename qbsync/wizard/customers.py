"""The customers step: read both sides, propose, create customers in QuickBooks on demand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qbsync.errors import InputError
from qbsync.ledger import lookup
from qbsync.qbo.errors import DuplicateNameError
from qbsync.qbo.lists import fetch_list
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.wizard import decisions
from qbsync.wizard.matching import Client, Customer, Proposal, match_customers


@dataclass
class CustomerStep:
    company: str
    clients: list[Client]
    customers: list[Customer]
    proposals: list[Proposal]
    skipped: set[str]

    @property
    def by_id(self) -> dict[str, Customer]:
        return {c.qbo_id: c for c in self.customers}


def load_clients(db: Database, company: str) -> list[Client]:
    return [Client.from_row(r) for r in lookup.clients(db, company)]


async def fetch_customers(client: Any) -> list[Customer]:
    """Every customer, inactive ones included (QuickBooks leaves them out of plain queries)."""
    return [Customer.from_qbo(o) for o in await fetch_list(client, "Customer", True)]


def build(db: Database, company: str, customers: list[Customer], threshold: int) -> CustomerStep:
    clients = load_clients(db, company)
    mapped = decisions.customer_mappings(db, company)
    proposals = match_customers(clients, customers, threshold, mapped)
    skipped = {k for k, v in decisions.decided(db, company, "customers").items() if v == "skip"}
    return CustomerStep(company, clients, customers, proposals, skipped)


def accept_exact(
    db: Database, step: CustomerStep, *, source: str, include_skipped: bool = False
) -> list[dict[str, Any]]:
    """Map every exact match in one transaction (not those skipped by an earlier decision);
    returns what was mapped."""
    done = []
    with transaction(db):
        for p in step.proposals:
            target = p.target
            if p.status != "exact" or target is None:
                continue
            if p.client_id in step.skipped and not include_skipped:
                continue
            decisions.map_customer(
                db, step.company, p.client_id, target.qbo_id, target.name, source=source
            )
            done.append(
                {
                    "client": p.client_id,
                    "client_name": p.client_name,
                    "qbo_id": target.qbo_id,
                    "qbo_name": target.name,
                    "reason": p.why,
                }
            )
    return done


def name_holder(name: str, customers: list[Customer]) -> Customer | None:
    key = name.strip().casefold()
    return next((c for c in customers if c.name.strip().casefold() == key), None)


def clash_message(name: str, customers: list[Customer], detail: str | None) -> InputError:
    """Which record holds a name QuickBooks refused (6240): a customer we know of (active or
    inactive, by the Id QuickBooks names or by name), else a vendor or employee."""
    qbo_id = None
    if detail:
        found = re.search(r"Id=(\w+)", detail)
        qbo_id = found.group(1) if found else None
    holder = next((c for c in customers if qbo_id and c.qbo_id == qbo_id), None) or name_holder(
        name, customers
    )
    if holder is not None and not holder.active:
        return InputError(
            f"QuickBooks refused the name {name!r}: inactive customer {holder.qbo_id} "
            f"({holder.name}) holds it",
            "make that customer active in QuickBooks and link the client to it, or create the "
            "customer under another name",
        )
    if holder is not None:
        return InputError(
            f"QuickBooks refused the name {name!r}: customer {holder.qbo_id} ({holder.name}) "
            "holds it",
            "link the client to that customer instead",
        )
    which = f" (Id {qbo_id})" if qbo_id else ""
    return InputError(
        f"QuickBooks refused the name {name!r}: a vendor or employee{which} holds it "
        "(names are unique across customers, vendors and employees)",
        "create the customer under another name",
    )


async def create_customer(
    client: Any, name: str, email: str | None, customers: list[Customer]
) -> Customer:
    body: dict[str, Any] = {"DisplayName": name, "CompanyName": name}
    if email:
        body["PrimaryEmailAddr"] = {"Address": email}
    try:
        obj = await client.create("Customer", body)
    except DuplicateNameError as err:
        raise clash_message(name, customers, err.detail) from None
    created = Customer.from_qbo(obj)
    customers.append(created)
    return created
