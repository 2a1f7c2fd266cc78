"""Reversals reach billing: a QuickBooks payment already handed over by `ledger export payments`
and later voided, deleted or reduced in QuickBooks comes out of the next export as a reversal
row (original id, negative amount, reason), once; the rows of each payment add up to what
QuickBooks holds for it. End to end: the real CLI, the simulator in-process acting as the
accountant, a generated ledger of one-line exempt invoices."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import generated_ledger, link, map_demo

FIRST, SECOND = "INV-5001", "INV-5005"  # both bill CL-1


def sync() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] == "succeeded", cycle
    return cycle


def export(*args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_json("ledger", "export", "payments", *args)["data"]
    return rows


def lines(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"Amount": amount, "LinkedTxn": [{"TxnId": qbo_id, "TxnType": "Invoice"}]}
        for qbo_id, amount in pairs
    ]


def net_by_payment(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    """What the billing system holds per QuickBooks payment line, summing every row it got."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        out[r["original_id"] or r["id"]] += Decimal(r["amount"])
    return dict(out)


@pytest.fixture
def exported(
    connected_company: ConnectedCompany, ledger_company: str, tmp_path: Path
) -> ConnectedCompany:
    generated_ledger(tmp_path / "ledger.json", 8)
    run_json("ledger", "import", str(tmp_path / "ledger.json"), "--company", ledger_company)
    map_demo(connected_company.key)
    sync()
    return connected_company


def _qbo(company: ConnectedCompany, local_id: str) -> tuple[str, str]:
    row = link(company.key, "invoice", local_id)
    assert row
    doc = company.control.get(company.realm_id, "Invoice", row["qbo_id"])
    return row["qbo_id"], doc["CustomerRef"]["value"]


def _pay(company: ConnectedCompany, total: str, *pairs: tuple[str, str]) -> str:
    _, customer = _qbo(company, FIRST)
    doc = company.control.create(
        company.realm_id,
        "Payment",
        {"CustomerRef": {"value": customer}, "TotalAmt": total, "Line": lines(*pairs)},
    )
    return str(doc["Id"])


def test_voided_payment_already_handed_over_comes_back_as_a_reversal(
    exported: ConnectedCompany,
) -> None:
    first, _ = _qbo(exported, FIRST)
    second, _ = _qbo(exported, SECOND)
    early = _pay(exported, "30.00", (first, "30.00"))
    sync()
    exported.control.void_payment(exported.realm_id, early)  # before anything was handed over
    payment = _pay(exported, "100.00", (first, "60.00"), (second, "40.00"))
    sync()
    handed = export()
    assert [r for r in handed if r["qbo_id"] == early] == []  # nothing to reverse, ever
    assert {(r["invoice"], r["amount"], r["kind"]) for r in handed} == {
        (FIRST, "60.00", "payment"),
        (SECOND, "40.00", "payment"),
    }
    ids = {r["invoice"]: r["id"] for r in handed}

    exported.control.void_payment(exported.realm_id, payment)
    sync()
    rows = export()
    reversals = [r for r in rows if r["kind"] == "reversal"]
    assert sorted((r["original_id"], r["amount"], r["reason"]) for r in reversals) == sorted(
        [(ids[FIRST], "-60.00", "voided"), (ids[SECOND], "-40.00", "voided")]
    )
    assert all(r["qbo_id"] == payment for r in reversals)
    assert net_by_payment(rows) == {ids[FIRST]: Decimal(0), ids[SECOND]: Decimal(0)}

    # Once: an export since the reversal does not repeat it; the full export lists it again
    # (as it lists every payment again) under the same id.
    # --since takes a date: every row changed on or after that day, whatever its second.
    day = max(r["updated_at"] for r in reversals)[:10]
    later = [r for r in rows if r["updated_at"] >= day]
    assert export("--since", day) == later and later[-len(reversals) :] == reversals
    assert export() == rows
    sync()
    assert export() == rows  # a later cycle and export add nothing

    text = run("ledger", "export", "payments", "--format", "csv").stdout
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0].keys() >= {"kind", "original_id", "reason"}
    assert {(r["kind"], r["amount"], r["reason"]) for r in parsed} == {
        ("payment", "60.00", ""),
        ("payment", "40.00", ""),
        ("reversal", "-60.00", "voided"),
        ("reversal", "-40.00", "voided"),
    }


def test_deleted_and_reduced_payments_come_back_as_reversals(exported: ConnectedCompany) -> None:
    ctl, realm = exported.control, exported.realm_id
    first, _ = _qbo(exported, FIRST)
    second, _ = _qbo(exported, SECOND)
    kept = _pay(exported, "100.00", (first, "60.00"), (second, "40.00"))
    gone = _pay(exported, "25.50", (second, "25.50"))
    sync()
    handed = {(r["qbo_id"], r["invoice"]): r["id"] for r in export()}

    # The accountant takes 15.25 off the first invoice's line, and deletes the other payment.
    ctl.edit_payment(
        realm, kept, {"TotalAmt": "84.75", "Line": lines((first, "44.75"), (second, "40.00"))}
    )
    ctl.delete_payment(realm, gone)
    sync()
    rows = export()
    reversals = {
        (r["original_id"], r["amount"], r["reason"]) for r in rows if r["kind"] == "reversal"
    }
    assert reversals == {
        (handed[(kept, FIRST)], "-15.25", "reduced"),
        (handed[(gone, SECOND)], "-25.50", "deleted"),
    }
    assert net_by_payment(rows) == {
        handed[(kept, FIRST)]: Decimal("44.75"),
        handed[(kept, SECOND)]: Decimal("40.00"),
        handed[(gone, SECOND)]: Decimal("0.00"),
    }

    # All of it moved onto the second invoice: the first line is reversed, the second gets more.
    ctl.edit_payment(realm, kept, {"TotalAmt": "84.75", "Line": lines((second, "84.75"))})
    sync()
    rows = export()
    assert net_by_payment(rows) == {
        handed[(kept, FIRST)]: Decimal("0.00"),
        handed[(kept, SECOND)]: Decimal("84.75"),
        handed[(gone, SECOND)]: Decimal("0.00"),
    }
    more = [r for r in rows if r["original_id"] == handed[(kept, SECOND)]]
    assert [(r["kind"], r["amount"], r["reason"]) for r in more] == [
        ("payment", "44.75", "increased")
    ]
    # What billing holds per invoice ties to what the ledger says was paid.
    for invoice in (FIRST, SECOND):
        paid = Decimal(run_json("invoices", "show", invoice)["data"]["paid"])
        assert sum(Decimal(r["amount"]) for r in rows if r["invoice"] == invoice) == paid
