"""A total or tax mismatch closes by itself once its document is void on both sides: nothing is
owed on it in either book (DESIGN rule 8: an exception resolves itself when its cause goes away).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures.qbo import ConnectedCompany
from tests.fixtures.sim import SimOptions
from tests.support import run_json
from tests.sync.test_verify import UK_LEDGER, export, open_exceptions

UK_TAX_CODES = {"TR-S": "20.0% S", "TR-R": "5.0% R", "TR-EX": "Exempt"}


@pytest.mark.parametrize("sim_options", [SimOptions(seed="uk-vat")])
def test_a_mismatch_closes_once_its_invoice_is_void_on_both_sides(
    connected_company: ConnectedCompany, tmp_path: Path
) -> None:
    docs = export(tmp_path, connected_company, UK_LEDGER, {"C-1": "Avon Architects"}, UK_TAX_CODES)
    assert (
        set(open_exceptions("total_mismatch")) == set(open_exceptions("tax_mismatch")) == {"7203"}
    )
    run_json("invoices", "void", "D-7203", "--reason", "issued with the wrong VAT", "--yes")
    # The cycle checks what settled before it sends the void: then QuickBooks still held the
    # wrong total, so the mismatch stays open through it.
    run_json("sync", "run")
    assert set(open_exceptions("total_mismatch")) == {"7203"}
    voided = connected_company.control.get(
        connected_company.realm_id, "Invoice", str(docs["7203"]["Id"])
    )
    assert Decimal(str(voided["TotalAmt"])) == 0  # the void reached QuickBooks
    run_json("sync", "run")
    assert open_exceptions("total_mismatch") == open_exceptions("tax_mismatch") == {}
    closed = run_json("exceptions", "list", "--kind", "total_mismatch")["data"]
    assert [(e["status"], e["resolution"]) for e in closed] == [("resolved", "auto")]
    assert closed[0]["note"] == "void in QuickBooks and in the ledger"
