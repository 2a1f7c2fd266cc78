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
