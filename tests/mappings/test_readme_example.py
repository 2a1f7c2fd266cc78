"""The mappings page's example (docs/mappings.md) imports as documented."""

from __future__ import annotations

from pathlib import Path

from qbsync.mappings.store import lookup
from qbsync.store.database import Database
from tests.fixtures.ledger import ensure_company
from tests.ledger.test_readme import _yaml_block
from tests.mappings.lists import CountingSource
from tests.support import run_json


def test_mappings_page_example_imports(
    demo_lists: CountingSource, tmp_path: Path, ledger_db: Database
) -> None:
    ensure_company("acme")
    path = tmp_path / "mappings.yaml"
    path.write_text(_yaml_block("mappings.md", "## The mappings YAML"))
    out = run_json("mappings", "import", str(path))["data"]
    assert len(out["added"]) == 11
    assert lookup(ledger_db, "acme", "items", "S-MSP") == "12"  # by id, no lookup
    assert lookup(ledger_db, "acme", "items", "S-HW") == "4"
    assert lookup(ledger_db, "acme", "tax_codes", "TR-NY") == "TAX"
    assert lookup(ledger_db, "acme", "defaults", "department") == "1"
    assert lookup(ledger_db, "acme", "accounts", "discount") == "6"
