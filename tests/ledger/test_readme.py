"""The ledger page's example (docs/ledger.md) works as documented."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.ledger import ensure_company
from tests.support import run_json

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _yaml_block(page: str, after_heading: str) -> str:
    """The first YAML block after `after_heading` in docs/`page`."""
    text = (DOCS / page).read_text()
    section = text[text.index(after_heading) :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, after_heading
    return match.group(1)


def test_ledger_page_example_imports(tmp_path: Path) -> None:
    ensure_company("acme")
    path = tmp_path / "ledger.yaml"
    path.write_text(_yaml_block("ledger.md", "## YAML and JSON"))
    out = run_json("ledger", "import", str(path))["data"]
    assert out["counts"]["invoices"]["added"] == 2
    assert out["ops"] == {
        "export_invoice": 1,
        "export_credit_memo": 1,
        "push_payment": 1,
        "apply_credit": 1,
    }


def test_ledger_page_tax_example_gives_the_documented_figures(tmp_path: Path) -> None:
    ensure_company("acme")
    path = tmp_path / "tax.yaml"
    path.write_text(_yaml_block("ledger.md", "## Tax, discounts and totals"))
    run_json("ledger", "import", str(path))
    rows = {r["id"]: r for r in run_json("ledger", "export", "invoices")["data"]}
    figures = ("subtotal", "discount", "tax", "total", "balance", "status")
    # The page's worked table, column by column.
    assert {k: rows["INV-3001"][k] for k in figures} == {
        "subtotal": "300.00",
        "discount": "45.00",
        "tax": "22.28",
        "total": "277.28",
        "balance": "277.28",
        "status": "open",
    }
    assert {k: rows["INV-3002"][k] for k in figures} == {
        "subtotal": "449.97",
        "discount": "0.00",
        "tax": "39.94",
        "total": "489.91",
        "balance": "489.91",
        "status": "open",
    }
    table = (DOCS / "ledger.md").read_text()
    for figure in ("= 277.28", "= 489.91", "22.275 → 22.28", "20.24865 → 20.25"):
        assert figure in table
