"""User data is shown as written, never read as rich markup: `Harbor Marine [old account]`,
`[/]` and `[bold]` in client and customer names, memos, file paths and error text come out
verbatim, and a file named `[/]x.yaml` is a clean exit-2 error, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.ledger import SAMPLE_LEDGER
from tests.fixtures.qbo import ConnectedCompany
from tests.support import run

NAMES = ("Harbor Marine [old account]", "[/]", "[bold]Cedar Clinic")
MEMO = "[bold]October[/] services [/] for [old account]"


@pytest.fixture
def bracketed_ledger(ledger_company: str, tmp_path: Path) -> str:
    """The sample ledger with three clients and a line's memo (its description, what
    QuickBooks shows on the line) full of brackets, imported."""
    text = SAMPLE_LEDGER.read_text(encoding="utf-8")
    for old, new in zip(("Acme Dental", "Brightside Law LLP", "Cedar Clinic"), NAMES, strict=True):
        text = text.replace(f"name: {old},", f"name: {json.dumps(new)},")
    text = text.replace("description: Managed seats", f"description: {json.dumps(MEMO)}")
    path = tmp_path / "ledger.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("ledger", "import", str(path), "--company", ledger_company)
    assert result.exit_code == 0, result.stderr
    return ledger_company


def test_client_names_and_memos_are_shown_verbatim(bracketed_ledger: str) -> None:
    listed = run("invoices", "list")
    assert listed.exit_code == 0, listed.stderr
    for name in NAMES:
        assert name in listed.stdout, (name, listed.stdout)

    shown = run("invoices", "show", "INV-1001")
    assert shown.exit_code == 0, shown.stderr
    assert MEMO in shown.stdout, shown.stdout
    assert NAMES[0] in shown.stdout, shown.stdout


@pytest.mark.parametrize("name", ["[/]x.yaml", "[bold]x.yaml", "Harbor Marine [old account].yaml"])
def test_a_file_path_with_brackets_is_a_clean_error_naming_it(
    bracketed_ledger: str, tmp_path: Path, name: str
) -> None:
    missing = tmp_path / name
    result = run("ledger", "import", str(missing))  # run() lets a traceback through
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert name in result.stderr, result.stderr

    broken = tmp_path / "broken" / name  # "[/]x.yaml" is the file "]x.yaml" in a folder "["
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("invoices: [\n", encoding="utf-8")
    result = run("ledger", "import", str(broken))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert f"broken/{name}" in result.stderr, result.stderr

    quiet = run("ledger", "import", str(missing), "--quiet")
    assert quiet.exit_code == 2 and quiet.stderr.count("\n") == 1
    assert name in quiet.stderr, quiet.stderr


def test_error_text_with_brackets_is_shown_verbatim(bracketed_ledger: str) -> None:
    result = run("invoices", "show", "[bold]INV-9[/]")
    assert result.exit_code == 2
    assert "[bold]INV-9[/]" in result.stderr, result.stderr


def test_quickbooks_customer_names_are_shown_verbatim(connected_company: ConnectedCompany) -> None:
    for name in NAMES:
        connected_company.control.create(
            connected_company.realm_id, "Customer", {"DisplayName": name}
        )
    listed = run("qbo", "customers")
    assert listed.exit_code == 0, listed.stderr
    for name in NAMES:
        assert name in listed.stdout, (name, listed.stdout)


def test_the_wizard_shows_names_and_numbers_verbatim() -> None:
    from io import StringIO

    from rich.console import Console

    from qbsync.wizard.interactive import _candidates_table, render_go_live
    from qbsync.wizard.matching import Candidate

    buffer = StringIO()
    out = Console(file=buffer, width=200, no_color=True)
    cands = [Candidate(str(n), name, 90, "name", True) for n, name in enumerate(NAMES, 1)]
    out.print(_candidates_table("search: [old account]", cands, True))
    render_go_live(
        out,
        {
            "go_live": "2026-10-01",
            "will_export": [
                {
                    "invoice": "[/]INV-1",
                    "number": "[bold]1001",
                    "type": "standard",
                    "date": "2026-10-01",
                    "client": NAMES[0],
                    "subtotal": "1500.00",
                    "total": "1620.00",
                    "currency": None,
                }
            ],
            "total_to_export": {"home": "1620.00"},
            "held_back": 0,
            "linked_by_wizard": 0,
        },
    )
    shown = buffer.getvalue()
    for text in (*NAMES, "search: [old account]", "[/]INV-1", "[bold]1001", "1620.00"):
        assert text in shown, (text, shown)


def test_emoji_codes_in_user_data_stay_text(capsys: pytest.CaptureFixture[str]) -> None:
    # A memo or file name that says `:warning:` is printed as written, inside markup too.
    from qbsync.cli.render import console, safe

    for plain in (False, True):
        console(plain=plain).print(f"[bold]memo[/]: {safe('late fee :warning: :smile:')}")
        assert capsys.readouterr().out.strip() == "memo: late fee :warning: :smile:"
