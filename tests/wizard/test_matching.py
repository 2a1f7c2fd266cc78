"""Customer matching without QuickBooks: normalization, exact and fuzzy, review and inactive."""

from __future__ import annotations

from typing import Any

import pytest

from qbsync.wizard.matching import Client, Customer, match_customers
from qbsync.wizard.normalize import domain_of, emails_of, normalize_name


def customer(qbo_id: str, name: str, email: str | None = None, active: bool = True) -> Customer:
    obj: dict[str, Any] = {"Id": qbo_id, "DisplayName": name, "Active": active}
    if email:
        obj["PrimaryEmailAddr"] = {"Address": email}
    return Customer.from_qbo(obj)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Dental, Inc.", "ACME DENTAL LLC"),
        ("Müller GmbH", "muller"),
        ("Brightside Law L.L.P.", "brightside law"),
        ("The Cedar Clinic", "Cedar Clinic Co."),
        ("Smith & Sons Pty Ltd", "smith and sons"),
        ("O'Brien Plumbing Corp", "OBrien   Plumbing"),
    ],
)
def test_equal_after_normalization(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Harbor Dental", "Harbor Dental Group"), ("Unit 7 Storage", "Unit 9 Storage"), ("Co", "")],
)
def test_different_businesses_stay_different(a: str, b: str) -> None:
    assert normalize_name(a) != normalize_name(b)


def test_emails_and_domains() -> None:
    assert emails_of("A@X.example, b@y.example; junk") == ["a@x.example", "b@y.example"]
    assert domain_of("ap@acme.example") == "acme.example"
    assert domain_of("someone@gmail.com") is None


def test_exact_by_name_and_by_email_fuzzy_with_score_and_reason() -> None:
    customers = [
        customer("1", "Acme Dental LLC"),
        customer("2", "Northwind Holdings", "ap@northwind.example"),
        customer("3", "Fjord Analytics"),
        customer("4", "Pioneer Bakery", "orders@pioneer.example"),
    ]
    clients = [
        Client("A", "ACME DENTAL, INC.", None),
        Client("B", "Northwind Trading", "AP@northwind.example"),
        Client("C", "Fjord Analytcs", None),
        Client("D", "Pioneer Artisan Breads", "jo@pioneer.example"),
    ]
    got = {p.client_id: p for p in match_customers(clients, customers, 85)}
    assert (got["A"].status, got["A"].target and got["A"].target.qbo_id) == ("exact", "1")
    assert got["A"].why == "same name"
    assert (got["B"].status, got["B"].target and got["B"].target.qbo_id) == ("exact", "2")
    assert got["B"].candidates[0].reason == "email"
    assert got["C"].status == "fuzzy"
    assert got["C"].candidates[0].qbo_id == "3" and got["C"].candidates[0].score >= 85
    # below the threshold by name, same company domain: a ranked candidate, not a match
    assert got["D"].status == "unmatched"
    assert got["D"].candidates[0].qbo_id == "4" and "domain" in got["D"].candidates[0].reason


def test_two_clients_matching_one_customer_both_go_to_review() -> None:
    customers = [customer("7", "Granite Works")]
    clients = [Client("X", "Granite Works", None), Client("Y", "GRANITE WORKS INC.", None)]
    got = match_customers(clients, customers, 85)
    assert [p.status for p in got] == ["review", "review"]
    assert all("2 clients match customer Granite Works" in p.why for p in got)
    # a fuzzy claim on the customer an exact match takes sends both to review as well
    got = match_customers(
        [Client("X", "Granite Works", None), Client("Z", "Granite Wroks", None)], customers, 85
    )
    assert [p.status for p in got] == ["review", "review"]


def test_customer_mapped_to_another_client_sends_the_match_to_review() -> None:
    customers = [customer("7", "Granite Works")]
    got = match_customers([Client("Y", "Granite Works", None)], customers, 85, {"X": "7"})
    assert got[0].status == "review" and "mapped to client X" in got[0].why


def test_inactive_customers_are_shown_apart_and_never_accepted() -> None:
    customers = [
        customer("5", "Evergreen Realty", active=False),
        customer("6", "Evergreen Realty Partners"),
    ]
    got = match_customers([Client("E", "Evergreen Realty", None)], customers, 85)[0]
    assert got.status == "inactive" and got.target is None
    assert [c.qbo_id for c in got.inactive] == ["5"]
    assert all(c.active for c in got.candidates)
    # an inactive customer found only by similarity is never a fuzzy match either
    got = match_customers(
        [Client("E", "Evergreen Realtyy", None)],
        [customer("5", "Evergreen Realty", active=False)],
        85,
    )[0]
    assert got.status == "inactive" and got.target is None


def test_ambiguous_exact_matches_go_to_review() -> None:
    customers = [customer("1", "Summit Labs"), customer("2", "Summit Labs Inc", "a@summit.example")]
    got = match_customers([Client("S", "Summit Labs", "a@summit.example")], customers, 85)[0]
    assert got.status == "review" and "2 customers match exactly" in got.why


def test_threshold_decides_fuzzy() -> None:
    customers = [customer("3", "Fjord Analytics")]
    clients = [Client("C", "Fjord Analytcs", None)]
    assert match_customers(clients, customers, 85)[0].status == "fuzzy"
    assert match_customers(clients, customers, 99)[0].status == "unmatched"
