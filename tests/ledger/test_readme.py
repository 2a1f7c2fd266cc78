"""The README's examples work as documented."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.ledger import ensure_company
from tests.support import run_json

README = Path(__file__).resolve().parents[2] / "README.md"


def _yaml_block(after_heading: str) -> str:
    text = README.read_text()
    section = text[text.index(after_heading) :]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, after_heading
    return match.group(1)


def test_readme_ledger_example_imports(tmp_path: Path) -> None:
    ensure_company("acme")
    path = tmp_path / "ledger.yaml"
    path.write_text(_yaml_block("### YAML and JSON"))
    out = run_json("ledger", "import", str(path))["data"]
    assert out["counts"]["invoices"]["added"] == 2
    assert out["ops"] == {
        "export_invoice": 1,
        "export_credit_memo": 1,
        "push_payment": 1,
        "apply_credit": 1,
    }
