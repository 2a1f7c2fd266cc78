"""The CSV fallback marks what it wrote. The next connected cycle links what QuickBooks' import
made, by number; what QuickBooks does not hold yet is held (nothing created, a
`csv_not_imported` exception saying when the file was written and the two ways on) until the
file is imported or the accountant releases it. End to end: the real CLI, the simulator
in-process, QuickBooks' invoice import played by the test."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run, run_json
from tests.sync.helpers import link, map_demo
from tests.sync.test_dupes_numbers import after_an_interval
from tests.sync.test_dupes_paths import import_csv, numbers_held

INVOICES = ("INV-1001", "INV-1002", "INV-1003")


def sync() -> dict[str, Any]:
    cycle: dict[str, Any] = run_json("sync", "run")["data"]["cycles"][0]
    assert cycle["result"] in ("succeeded", "partial"), cycle
    return cycle


def held_exceptions() -> dict[str, dict[str, Any]]:
    found = run_json("exceptions", "list", "--open", "--kind", "csv_not_imported")["data"]
    return {e["subject_id"]: e for e in found}


def listed() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in run_json("invoices", "list")["data"]}


def test_written_to_csv_then_synced_before_the_import_is_held_then_linked(
    connected_company: ConnectedCompany,
    sample_ledger: SampleLedger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = map_demo(connected_company.key)
    # The credit note goes out in the first cycle, before the import: QuickBooks would spend
    # its credit on the imported invoice by itself (AutoApplyCredit), a story of its own.
    connected_company.control.set_preferences(
        connected_company.realm_id, {"SalesFormsPrefs": {"AutoApplyCredit": False}}
    )
    path = tmp_path / "invoices.csv"
    out = run_json("invoices", "export", "--csv", str(path))["data"]
    assert out["marked"] == 3
    rows = listed()
    for invoice_id in INVOICES:
        assert rows[invoice_id]["held"] == "csv fallback"
        assert "written to CSV on " in rows[invoice_id]["held_reason"]
    assert rows["CN-2001"]["held"] is None  # credit notes are not in the file

    # The accountant has not imported the file yet: the cycle creates none of them.
    sync()
    server = connected_company.server
    assert numbers_held(server, "Invoice") == Counter()
    assert numbers_held(server, "CreditMemo") == Counter({"CN-2001": 1})
    held = held_exceptions()
    assert sorted(held) == list(INVOICES)
    message = held["INV-1001"]["message"]
    assert "written to CSV on " in message and "invoices.csv" in message
    assert "qbsync invoices release INV-1001" in message
    assert "Nothing was created" in message
    after_an_interval(monkeypatch)
    second = sync()  # looked at again: still held, still nothing created, no second exception
    assert second["stats"]["exceptions_raised"] == 0
    assert numbers_held(server, "Invoice") == Counter()
    assert sorted(held_exceptions()) == list(INVOICES)
    table = run("invoices", "list").stdout
    assert "held: csv fallback" in table

    # The file is imported: the next cycle links each one and the holds close by themselves.
    import_csv(connected_company, ids, path)
    imported = {d["DocNumber"]: str(d["Id"]) for d in _docs(connected_company, "Invoice")}
    after_an_interval(monkeypatch)
    sync()
    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    for invoice_id, number in zip(INVOICES, ("1001", "1002", "1003"), strict=True):
        row = link(connected_company.key, "invoice", invoice_id)
        assert row is not None and row["qbo_id"] == imported[number]
    assert run_json("exceptions", "list", "--open")["data"] == []
    assert all(listed()[i]["held"] is None for i in INVOICES)
    assert server.sim.check_invariants() == []

    # The mark has done its job: deleted in QuickBooks later and sent again, it is not held.
    connected_company.control.delete_invoice(connected_company.realm_id, imported["1003"])
    sync()
    [drift] = run_json("exceptions", "list", "--open", "--kind", "drift_voided_or_deleted")["data"]
    run_json("exceptions", "resolve", str(drift["id"]), "--reexport")
    again = link(connected_company.key, "invoice", "INV-1003")
    assert again is not None and again["qbo_id"] != imported["1003"]
    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    assert held_exceptions() == {}
    refused = run_json("invoices", "release", "INV-1003", code=2)["error"]
    assert "in QuickBooks already" in refused["message"]


def test_written_to_csv_never_imported_is_created_only_once_released(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    map_demo(connected_company.key)
    run_json("invoices", "export", "--csv", str(tmp_path / "invoices.csv"))
    sync()
    server = connected_company.server
    assert numbers_held(server, "Invoice") == Counter()
    assert sorted(held_exceptions()) == list(INVOICES)

    # The accountant decides: INV-1002 will never be imported; create it.
    released = run_json("invoices", "release", "INV-1002")["data"]
    assert released["released"] == ["INV-1002"] and released["requeued"] == 1
    assert sorted(held_exceptions()) == ["INV-1001", "INV-1003"]
    assert listed()["INV-1002"]["held"] is None
    sync()
    assert numbers_held(server, "Invoice") == Counter({"1002": 1})
    row = link(connected_company.key, "invoice", "INV-1002")
    assert row is not None and row["linked_by"] == "export"
    assert sorted(held_exceptions()) == ["INV-1001", "INV-1003"]

    # Refused: twice, an invoice never written to a file, one not in the ledger (nothing done).
    again = run_json("invoices", "release", "INV-1002", code=2)["error"]
    assert "in QuickBooks already" in again["message"]
    never = run_json("invoices", "release", "INV-1001", "CN-2001", code=2)["error"]
    assert "CN-2001 was not written to a CSV file" in never["message"]
    assert sorted(held_exceptions()) == ["INV-1001", "INV-1003"]
    run_json("invoices", "release", "INV-404", code=2)

    run_json("invoices", "release", "INV-1001", "INV-1003")
    sync()
    assert numbers_held(server, "Invoice") == Counter({"1001": 1, "1002": 1, "1003": 1})
    assert run_json("exceptions", "list", "--open")["data"] == []
    assert server.sim.check_invariants() == []


def _docs(company: ConnectedCompany, entity: str) -> list[dict[str, Any]]:
    sim_company = company.server.sim.company(company.server.realm_id)
    return list(sim_company.data[entity].values())


def test_no_file_for_a_company_that_numbers_invoices_itself(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    # Custom transaction numbers off: QuickBooks would give the imported invoices numbers of
    # its own, the sync would not find them by the ledger's, and they would be created twice.
    map_demo(connected_company.key)
    connected_company.control.set_preferences(
        connected_company.realm_id, {"SalesFormsPrefs": {"CustomTxnNumbers": False}}
    )
    run("doctor", "--json")  # reads the company's preferences, as a cycle does
    path = tmp_path / "invoices.csv"
    refused = run_json("invoices", "export", "--csv", str(path), code=2)["error"]
    assert "custom transaction numbers are off" in refused["message"]
    assert "Custom transaction numbers" in refused["hint"]
    assert not path.exists()
    assert {r["id"]: r["held"] for r in run_json("invoices", "list")["data"]}["INV-1001"] is None


def test_the_file_holds_only_invoices_quickbooks_does_not_hold(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    # Once the sync has sent them, the invoices are not written again: imported, the file
    # would put them in QuickBooks twice. Nothing is marked or held, no exception opened.
    map_demo(connected_company.key)
    connected_company.control.set_preferences(
        connected_company.realm_id, {"SalesFormsPrefs": {"CustomTxnNumbers": True}}
    )
    sync()
    path = tmp_path / "invoices.csv"
    out = run_json("invoices", "export", "--csv", str(path))["data"]
    assert (out["invoices"], out["marked"], out["in_quickbooks_already"]) == (0, 0, 3)
    assert path.read_text(encoding="utf-8").count("\n") == 1  # the header alone
    assert held_exceptions() == {}
    assert all(r["held"] is None for r in listed().values())


def test_invoices_before_the_go_live_date_are_not_in_the_file(
    connected_company: ConnectedCompany, sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    map_demo(connected_company.key)
    run_json("config", "set", f"companies.{connected_company.key}.go_live", "2026-10-02")
    out = run_json("invoices", "export", "--csv", str(tmp_path / "invoices.csv"))["data"]
    assert out["before_go_live"] == 1  # INV-1001, of 2026-10-01
    assert sorted(r for r, row in listed().items() if row["held"]) == ["INV-1002", "INV-1003"]
