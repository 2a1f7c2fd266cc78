"""Nothing created twice under one number: before an invoice or credit memo is created in
QuickBooks, its DocNumber is looked up (one query per entity for the batch). A document keyed by
hand in QuickBooks with the same number, customer and money (lines, discount, tax) is linked;
one that differs is a `duplicate_number` exception showing both, and no second document, until
the accountant fixes the cause, when the exception closes itself."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

import pytest

from qbsync import config, outbox
from qbsync.timeutil import parse_iso
from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import link, map_demo, sim_docs
from tests.wizard.helpers import qbo_copy


def sync(code: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = run_json("sync", "run", code=code)["data"]["cycles"][0]
    return data


def exceptions(kind: str, *, open_only: bool = True) -> list[dict[str, Any]]:
    flags = ["--open"] if open_only else []
    rows: list[dict[str, Any]] = run_json("exceptions", "list", *flags, "--kind", kind)["data"]
    return rows


def after_an_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's interval passes: ops waiting for a person come due again."""
    later = parse_iso(outbox.utc_now_iso()) + timedelta(seconds=config.load().sync.interval + 1)
    monkeypatch.setattr(outbox, "utc_now_iso", later.isoformat)


def numbers_held(server: Any, entity: str) -> Counter[str]:
    return Counter(str(d.get("DocNumber")) for d in sim_docs(server, entity))


def subtotal(invoice_id: str) -> Decimal:
    return Decimal(str(run_json("invoices", "show", invoice_id)["data"]["subtotal"]))


def key_by_hand(
    company: ConnectedCompany,
    ids: dict[tuple[str, str], str],
    entity: str,
    number: str,
    customer: str,
    amount: Decimal,
) -> dict[str, Any]:
    """What an accountant types into QuickBooks: one line of Managed Services."""
    body = {
        "DocNumber": number,
        "CustomerRef": {"value": ids[("Customer", customer)]},
        "TxnDate": "2026-01-05",
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": str(amount),
                "SalesItemLineDetail": {"ItemRef": {"value": ids[("Item", "Managed Services")]}},
            }
        ],
    }
    return company.control.create(company.realm_id, entity, body)


def same_as_ours(company: ConnectedCompany, invoice_id: str) -> dict[str, Any]:
    """The ledger document keyed in QuickBooks as it is: its lines, tax code and customer
    (INV-1001's 11.14 of tax included), so that it holds the ledger's money to the cent."""
    return qbo_copy(company, invoice_id)


@pytest.fixture
def mapped(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger
) -> dict[tuple[str, str], str]:
    return map_demo(connected_company.key)


def test_same_number_same_customer_and_amount_is_linked_not_created(
    connected_company: ConnectedCompany, mapped: dict[tuple[str, str], str]
) -> None:
    server = connected_company.server
    invoice = run_json("invoices", "show", "INV-1001")["data"]
    theirs = same_as_ours(connected_company, "INV-1001")
    assert invoice["client_id"] == "CL-1"
    memo = key_by_hand(
        connected_company, mapped, "CreditMemo", "CN-2001", "Acme Dental", subtotal("CN-2001")
    )

    cycle = sync()

    assert cycle["result"] == "succeeded", cycle
    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    assert numbers_held(server, "CreditMemo") == Counter({"CN-2001": 1})
    row = link(connected_company.key, "invoice", "INV-1001")
    assert row is not None
    assert (row["qbo_id"], row["linked_by"]) == (str(theirs["Id"]), "matched_number")
    memo_link = link(connected_company.key, "invoice", "CN-2001")
    assert memo_link is not None
    assert (memo_link["qbo_id"], memo_link["linked_by"]) == (str(memo["Id"]), "matched_number")
    assert exceptions("duplicate_number") == []
    # What follows the link goes on: the local payment and the credit application reach the
    # linked documents, with nothing failing and nothing left for a person.
    assert cycle["stats"]["ops_failed"] == 0, cycle
    assert run_json("exceptions", "list", "--open")["data"] == []
    payments = sim_docs(server, "Payment")
    assert payments, "the ledger's payment was not pushed"
    assert server.sim.check_invariants() == []


def test_same_number_different_amount_raises_an_exception_and_creates_nothing(
    connected_company: ConnectedCompany,
    mapped: dict[tuple[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, ctl, realm = (
        connected_company.server,
        connected_company.control,
        connected_company.realm_id,
    )
    ours = subtotal("INV-1002")
    theirs = key_by_hand(
        connected_company, mapped, "Invoice", "1002", "Cedar Clinic", ours + Decimal("10.00")
    )

    sync()
    after_an_interval(monkeypatch)
    sync()  # a later cycle looks again and still creates nothing

    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    assert link(connected_company.key, "invoice", "INV-1002") is None
    [raised] = exceptions("duplicate_number")
    assert raised["subject_id"] == "INV-1002"
    data = raised["data"]
    assert data["ours"]["number"] == "1002"
    assert Decimal(data["ours"]["net"]) == ours
    assert data["ours"]["customer"] == mapped[("Customer", "Brightside Law LLP")]
    [shown] = data["theirs"]
    assert shown["id"] == str(theirs["Id"])
    assert shown["customer"] == mapped[("Customer", "Cedar Clinic")]
    assert Decimal(shown["net"]) == ours + Decimal("10.00")
    assert Decimal(shown["total"]) == Decimal(str(theirs["TotalAmt"]))
    assert shown["date"] == "2026-01-05"
    assert str(theirs["Id"]) in raised["message"] and "1002" in raised["message"]
    shown_to_a_person = run("exceptions", "show", str(raised["id"]))
    assert shown_to_a_person.exit_code == 0
    assert f"Id {theirs['Id']}" in " ".join(shown_to_a_person.stdout.split())

    # The accountant renumbers theirs: the next cycle creates ours and the exception closes.
    ctl.edit_invoice(realm, str(theirs["Id"]), {"DocNumber": "1002-A"})
    after_an_interval(monkeypatch)
    sync()
    assert numbers_held(server, "Invoice") == Counter(
        {"1001": 1, "1002": 1, "1002-A": 1, "1003": 1}
    )
    row = link(connected_company.key, "invoice", "INV-1002")
    assert row is not None and row["linked_by"] == "export"
    assert row["qbo_id"] != str(theirs["Id"])
    assert exceptions("duplicate_number") == []
    [closed] = exceptions("duplicate_number", open_only=False)
    assert closed["status"] == "resolved"
    assert server.sim.check_invariants() == []


def test_a_conflict_the_accountant_makes_match_is_linked(
    connected_company: ConnectedCompany,
    mapped: dict[tuple[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, ctl, realm = (
        connected_company.server,
        connected_company.control,
        connected_company.realm_id,
    )
    ours = subtotal("INV-1003")
    customer = run_json("invoices", "show", "INV-1003")["data"]["client_id"]
    name = {"CL-1": "Acme Dental", "CL-2": "Brightside Law LLP", "CL-3": "Cedar Clinic"}[customer]
    theirs = key_by_hand(connected_company, mapped, "Invoice", "1003", name, ours + Decimal("1"))
    sync()
    assert len(exceptions("duplicate_number")) == 1

    line = dict(theirs["Line"][0])
    line["Amount"] = str(ours)
    ctl.edit_invoice(realm, str(theirs["Id"]), {"Line": [line]})
    after_an_interval(monkeypatch)
    sync()

    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    row = link(connected_company.key, "invoice", "INV-1003")
    assert row is not None
    assert (row["qbo_id"], row["linked_by"]) == (str(theirs["Id"]), "matched_number")
    assert exceptions("duplicate_number") == []


def test_a_conflict_closes_when_ours_is_voided(
    connected_company: ConnectedCompany, mapped: dict[tuple[str, str], str]
) -> None:
    server = connected_company.server
    key_by_hand(connected_company, mapped, "Invoice", "1003", "Delta Logistics", Decimal("5"))
    sync()
    assert len(exceptions("duplicate_number")) == 1

    run_json("invoices", "void", "INV-1003", "--reason", "keyed in QuickBooks already", "--yes")
    sync()

    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    assert link(connected_company.key, "invoice", "INV-1003") is None
    assert exceptions("duplicate_number") == []


def test_one_lookup_query_per_entity_for_a_batch(
    connected_company: ConnectedCompany, mapped: dict[tuple[str, str], str]
) -> None:
    same_as_ours(connected_company, "INV-1001")
    connected_company.control.clear_request_log()
    sync()
    queries = [
        unquote_plus(r["query"])
        for r in connected_company.control.request_log()
        if "DocNumber IN" in unquote_plus(r["query"] or "")
    ]
    # Invoices 1001-1003 in one query, the credit memo in another.
    assert len(queries) == 2, queries


def test_a_dry_run_says_what_the_numbers_decide_and_writes_none_of_it(
    connected_company: ConnectedCompany, mapped: dict[tuple[str, str], str]
) -> None:
    same = same_as_ours(connected_company, "INV-1001")
    other = key_by_hand(connected_company, mapped, "Invoice", "1002", "Cedar Clinic", Decimal("1"))

    dry = run_json("sync", "run", "--dry-run")["data"]["cycles"][0]

    plan = dry["stats"]["would_send"]
    links_planned = [e for e in plan if "link" in e]
    conflicts = [e for e in plan if "duplicate_number" in e]
    assert [e["ids"] for e in links_planned] == [[str(same["Id"])]], plan
    assert [e["ids"] for e in conflicts] == [[str(other["Id"])]], plan
    assert link(connected_company.key, "invoice", "INV-1001") is None
    assert exceptions("duplicate_number", open_only=False) == []
    assert numbers_held(connected_company.server, "Invoice") == Counter({"1001": 1, "1002": 1})


def test_two_documents_under_one_number_are_never_guessed_between(
    connected_company: ConnectedCompany, mapped: dict[tuple[str, str], str]
) -> None:
    amount = subtotal("INV-1001")
    first = key_by_hand(connected_company, mapped, "Invoice", "1001", "Acme Dental", amount)
    second = key_by_hand(connected_company, mapped, "Invoice", "1001", "Acme Dental", amount)

    sync()

    assert link(connected_company.key, "invoice", "INV-1001") is None
    [raised] = exceptions("duplicate_number")
    assert sorted(t["id"] for t in raised["data"]["theirs"]) == sorted(
        [str(first["Id"]), str(second["Id"])]
    )
    assert numbers_held(connected_company.server, "Invoice")["1001"] == 2  # theirs, not ours


def test_a_failed_lookup_creates_nothing_and_is_tried_again(
    connected_company: ConnectedCompany,
    mapped: dict[tuple[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctl = connected_company.control
    theirs = same_as_ours(connected_company, "INV-1001")
    ctl.inject_fault("*DocNumber*", status=503, count=50)

    cycle = sync()

    assert cycle["stats"]["ops_failed"] >= 1, cycle
    assert numbers_held(connected_company.server, "Invoice") == Counter({"1001": 1})
    ctl.clear_faults()
    after_an_interval(monkeypatch)
    sync()
    row = link(connected_company.key, "invoice", "INV-1001")
    assert row is not None
    assert (row["qbo_id"], row["linked_by"]) == (str(theirs["Id"]), "matched_number")
    assert numbers_held(connected_company.server, "Invoice") == Counter(
        {"1001": 1, "1002": 1, "1003": 1}
    )


def test_theirs_deleted_then_retry_creates_ours_at_once(
    connected_company: ConnectedCompany, mapped: dict[tuple[str, str], str]
) -> None:
    ctl, realm = connected_company.control, connected_company.realm_id
    theirs = key_by_hand(connected_company, mapped, "Invoice", "1003", "Acme Dental", Decimal("7"))
    sync()
    [raised] = exceptions("duplicate_number")

    ctl.delete_invoice(realm, str(theirs["Id"]))
    run_json("exceptions", "resolve", str(raised["id"]), "--retry")
    sync()

    row = link(connected_company.key, "invoice", "INV-1003")
    assert row is not None and row["linked_by"] == "export"
    assert row["qbo_id"] != str(theirs["Id"])
    assert numbers_held(connected_company.server, "Invoice") == Counter(
        {"1001": 1, "1002": 1, "1003": 1}
    )
    assert exceptions("duplicate_number") == []


def test_lookup_queries_run_side_by_side(
    connected_company: ConnectedCompany,
    mapped: dict[tuple[str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One number per query: the three invoices and the credit memo take four queries, which
    # go out together (not one after another, which cost 26 s before the first create of
    # 10,000 invoices), and decide the same as one query would.
    from qbsync.qbo.client import QboClient
    from qbsync.sync.outbound import numbers

    monkeypatch.setattr(numbers, "LOOKUP_NUMBERS", 1)
    flight = {"now": 0, "peak": 0}
    real = QboClient.query_all

    async def counted(self: QboClient, entity: str, where: str | None = None, **kw: Any) -> Any:
        lookup = where is not None and "DocNumber IN" in where
        if lookup:
            flight["now"] += 1
            flight["peak"] = max(flight["peak"], flight["now"])
        try:
            return await real(self, entity, where, **kw)
        finally:
            if lookup:
                flight["now"] -= 1

    monkeypatch.setattr(QboClient, "query_all", counted)
    theirs = same_as_ours(connected_company, "INV-1001")
    connected_company.control.set_latency(per_request_ms=300)  # longer than the pacer's gap
    try:
        sync()
    finally:
        connected_company.control.set_latency(0)
    assert flight["peak"] > 1, flight
    row = link(connected_company.key, "invoice", "INV-1001")
    assert row is not None and row["qbo_id"] == str(theirs["Id"])
    assert numbers_held(connected_company.server, "Invoice") == Counter(
        {"1001": 1, "1002": 1, "1003": 1}
    )
