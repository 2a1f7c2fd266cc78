from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from qbsync.ledger.store import get_invoice, invoice_balance, invoice_status
from qbsync.store import open_store
from qbsync.store.database import Database
from tests.fixtures.ledger import SAMPLE_LEDGER, SampleLedger, ensure_company
from tests.ledger.util import dump, fingerprint
from tests.support import run, run_json

DATA = Path(__file__).parent / "data"


def _ops(db: Database) -> list[tuple[str, str, str]]:
    return [
        (r["kind"], r["subject_type"], r["subject_id"])
        for r in db.query("SELECT * FROM outbox ORDER BY id")
    ]


def _import(*paths: Path | str, code: int = 0, company: str = "acme") -> dict:
    return run_json("ledger", "import", *map(str, paths), "--company", company, code=code)


def test_sample_ledger_counts_and_ops(sample_ledger: SampleLedger, ledger_db: Database) -> None:
    counts = sample_ledger.summary["counts"]
    assert counts["clients"] == {"added": 4, "updated": 0, "unchanged": 0}
    assert counts["invoices"]["added"] == 5
    assert sample_ledger.summary["ops"] == {
        "export_invoice": 3,
        "export_credit_memo": 1,
        "push_payment": 1,
        "apply_credit": 1,
    }
    assert ("export_credit_memo", "invoice", "CN-2001") in _ops(ledger_db)
    assert not any(subject == "INV-1004" for _, _, subject in _ops(ledger_db))  # the draft


def test_amounts_are_exact_decimals(sample_ledger: SampleLedger, ledger_db: Database) -> None:
    inv = get_invoice(ledger_db, "acme", "INV-1003")
    assert [line.amount for line in inv.lines] == [Decimal("600.00"), Decimal("171.88")]
    assert inv.subtotal == Decimal("771.88")  # 1.25 x 137.50 = 171.875, rounded half up
    assert inv.lines[1].unit_price == Decimal("137.50")
    # 1935.00 + 11.14 tax (135.00 taxed at 8.25 % = 11.1375) - 150.00 credited
    assert invoice_balance(ledger_db, "acme", "INV-1001") == Decimal("1796.14")
    assert invoice_status(ledger_db, "acme", "INV-1001") == "partially_paid"
    assert invoice_status(ledger_db, "acme", "CN-2001") == "paid"  # fully applied
    assert invoice_status(ledger_db, "acme", "INV-1004") == "draft"
    types = {
        r["typeof(subtotal)"]
        for r in ledger_db.query("SELECT typeof(subtotal) FROM ledger_invoices")
    }
    assert types == {"text"}


def test_reimport_is_a_no_op(sample_ledger: SampleLedger, ledger_db: Database) -> None:
    before = fingerprint(ledger_db)
    out = _import(SAMPLE_LEDGER)["data"]
    assert out["changed"] is False and out["ops"] == {}
    assert all(c["added"] == c["updated"] == 0 for c in out["counts"].values())
    assert fingerprint(ledger_db) == before
    human = run("ledger", "import", str(SAMPLE_LEDGER), "--company", "acme")
    assert "nothing to change" in human.stdout


def test_the_three_formats_give_the_same_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for n, source in enumerate((SAMPLE_LEDGER, DATA / "ledger.json", DATA / "csv")):
        monkeypatch.setenv("QBSYNC_HOME", str(tmp_path / f"home{n}"))  # a fresh store each
        ensure_company("acme")
        _import(source)
        db = open_store()
        results.append(dump(db, stable=True))
        db.close()
    assert results[0]["ledger_invoices"] and results[0]["ledger_invoice_lines"]
    assert results[0]["outbox"]
    assert results[0] == results[1] == results[2]


def test_dry_run_writes_nothing(ledger_company: str, ledger_db: Database) -> None:
    before = fingerprint(ledger_db)
    out = run_json("ledger", "import", str(SAMPLE_LEDGER), "--dry-run")["data"]
    assert out["dry_run"] and out["counts"]["invoices"]["added"] == 5
    assert fingerprint(ledger_db) == before


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(*paths: Path) -> str:
    out = run_json("ledger", "import", *map(str, paths), "--company", "acme", code=2)
    assert out["error"]["code"] == "invalid_input"
    return out["error"]["message"]


def _modified_sample(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = SAMPLE_LEDGER.read_text()
    assert old in text
    return _write(tmp_path, "ledger.yaml", text.replace(old, new, count))


def test_a_finalized_invoice_cannot_change(
    sample_ledger: SampleLedger, ledger_db: Database, tmp_path: Path
) -> None:
    before = fingerprint(ledger_db)
    changed = _modified_sample(
        tmp_path, "quantity: 12, unit_price: 150.00", "quantity: 12, unit_price: 155.00"
    )
    message = _error(changed)
    line = next(n for n, text in enumerate(changed.read_text().splitlines(), 1) if "155.00" in text)
    assert f"{changed}:{line}: invoices[0].lines[0].unit_price" in message
    assert "INV-1001 is finalized and cannot change" in message
    assert "150.00" in message and "155.00" in message
    hint = run_json("ledger", "import", str(changed), code=2)["error"]
    assert "void" in hint["message"] + (hint["hint"] or "")
    assert fingerprint(ledger_db) == before


def test_finalized_back_to_draft_and_unvoid_are_refused(
    sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    draft = _modified_sample(
        tmp_path, "terms: T-30\n    status: finalized", "terms: T-30\n    status: draft"
    )
    assert "cannot go back to draft; void it and re-issue" in _error(draft)
    # INV-1001 has CN-2001's credit applied: voiding it would leave the credit dangling.
    refused = _modified_sample(tmp_path, "status: finalized", "status: void")
    assert "INV-1001 has 150.00 credited against it" in _error(refused)
    text = SAMPLE_LEDGER.read_text()
    at = text.index("status: finalized", text.index("id: INV-1003"))  # nothing against it
    voided = _write(tmp_path, "ledger.yaml", text[:at] + "status: void" + text[at + 17 :])
    out = _import(voided)["data"]
    assert out["ops"] == {"void_invoice": 1}
    # Listed finalized again, as issued: the ledger cannot tell a billing system that takes
    # its void back from an export of before the void, and cannot un-void either way. It stays
    # void, counted, and the rest of the file imports (docs/ledger.md).
    again = _write(tmp_path, "ledger.yaml", text)
    out = _import(again)["data"]
    assert out["counts"]["invoices"]["kept_void"] == 1 and out["ops"] == {}
    redrafted = _write(tmp_path, "ledger.yaml", text[:at] + "status: draft" + text[at + 17 :])
    assert "INV-1003 is void and cannot be un-voided" in _error(redrafted)


def test_draft_transitions(
    sample_ledger: SampleLedger, ledger_db: Database, tmp_path: Path
) -> None:
    edited = _modified_sample(
        tmp_path, "quantity: 2, unit_price: 95.00", "quantity: 3, unit_price: 95.00"
    )
    out = _import(edited)["data"]
    assert out["counts"]["invoices"]["updated"] == 1 and out["ops"] == {}
    assert get_invoice(ledger_db, "acme", "INV-1004").subtotal == Decimal("285.00")
    final = _write(
        tmp_path, "ledger.yaml", edited.read_text().replace("status: draft", "status: finalized")
    )
    assert _import(final)["data"]["ops"] == {"export_invoice": 1}
    inv = get_invoice(ledger_db, "acme", "INV-1004")
    assert inv.status == "finalized" and inv.finalized_at
    assert ("export_invoice", "invoice", "INV-1004") in _ops(ledger_db)


def test_draft_to_void_queues_nothing_and_credit_note_void_deletes(
    sample_ledger: SampleLedger, ledger_db: Database, tmp_path: Path
) -> None:
    cn = "type: credit_note\n    client: CL-1\n    date: 2026-10-10\n    status: "
    # A second credit note, not applied to anything, next to CN-2001 (applied to INV-1001).
    second = (
        "  - id: CN-2002\n    number: CN-2002\n    " + cn + "finalized\n    lines:\n"
        "      - {service: S-MSP, quantity: 1, unit_price: 40.00, tax_region: TR-EX}\n\n"
        "  - id: INV-1004\n"
    )
    text = SAMPLE_LEDGER.read_text().replace("  - id: INV-1004\n", second)
    assert _import(_write(tmp_path, "ledger.yaml", text))["data"]["ops"] == {
        "export_credit_memo": 1
    }
    text = text.replace("status: draft", "status: void").replace(
        "CN-2002\n    " + cn + "finalized", "CN-2002\n    " + cn + "void"
    )
    out = _import(_write(tmp_path, "ledger.yaml", text))["data"]
    assert out["ops"] == {"delete_credit_memo": 1}
    assert get_invoice(ledger_db, "acme", "INV-1004").status == "void"
    assert get_invoice(ledger_db, "acme", "CN-2002").status == "void"
    # Voiding the applied one is refused: its credit would still be counted.
    applied = text.replace(cn + "finalized", cn + "void", 1)
    assert "credit note CN-2001 has 150.00 applied to invoices" in _error(
        _write(tmp_path, "ledger.yaml", applied)
    )


def test_payments_and_credit_applications_are_immutable(
    sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    pay = _modified_sample(tmp_path, "amount: 500.00", "amount: 501.00")
    message = _error(pay)
    assert "payments[0].amount" in message and "PAY-1 is recorded and cannot change" in message
    credit = _modified_sample(
        tmp_path, "amount: 150.00, date: 2026-10-11", "amount: 100.00, date: 2026-10-11"
    )
    assert "credit_applications[0].amount" in _error(credit)


def test_references_are_checked_against_file_and_store(
    sample_ledger: SampleLedger, tmp_path: Path
) -> None:
    doc = {
        "version": 1,
        "payments": [
            {"id": "P-9", "invoice": "INV-1004", "amount": "1.00", "date": "2026-10-20"},
            {"id": "P-10", "invoice": "CN-2001", "amount": "1.00", "date": "2026-10-20"},
            {"id": "P-11", "invoice": "INV-404", "amount": "1.00", "date": "2026-10-20"},
        ],
        "credit_applications": [
            {
                "id": "CA-9",
                "credit_note": "CN-2001",
                "invoice": "INV-1002",
                "amount": "1.00",
                "date": "2026-10-20",
            },
        ],
    }
    message = _error(_write(tmp_path, "more.json", json.dumps(doc)))
    assert "payments[0].invoice: invoice INV-1004 is draft" in message
    assert "payments[1].invoice: CN-2001 is a credit note" in message
    assert "payments[2].invoice: unknown invoice 'INV-404'" in message
    assert "belong to different clients" in message


def test_a_new_payment_in_a_later_file_queues_a_push(
    sample_ledger: SampleLedger, ledger_db: Database, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "payments.csv",
        "id,invoice,amount,date,method,reference\nPAY-2,INV-1003,0.10,2026-10-21,check,1042\n"
        "PAY-3,INV-1003,0.20,2026-10-21,check,1043\n",
    )
    assert _import(path)["data"]["ops"] == {"push_payment": 2}
    assert invoice_balance(ledger_db, "acme", "INV-1003") == Decimal("771.58")  # no float drift


def test_directory_with_csv_and_yaml_parts(ledger_company: str, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(DATA / "csv", folder)
    (folder / "notes.txt").write_text("ignored")
    out = _import(folder)["data"]
    assert out["counts"]["invoices"]["added"] == 5
    assert len(out["files"]) == 8


def test_unknown_company_is_exit_2(tmp_path: Path) -> None:
    out = run_json("ledger", "import", str(SAMPLE_LEDGER), "--company", "nope", code=2)
    assert out["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 2\n", "ledger.yaml:1: version: unsupported version"),
        ("invoices: {}\n", "ledger.yaml:1: invoices: expected a list"),
        ("payment: []\n", "ledger.yaml:1: payment: unknown section"),
        (
            "clients:\n  - {id: C, name: A}\n  - {id: C, name: B}\n",
            "ledger.yaml:3: clients[1].id: duplicate id 'C'",
        ),
        (
            "clients:\n  - {id: C, name: A, name: B}\n",
            "ledger.yaml:2: clients[0].name: duplicate key",
        ),
        ("clients:\n  - {id: C, nam: A}\n", "ledger.yaml:2: clients[0].nam: unknown field"),
        ("clients: [\n", "ledger.yaml:2: not valid YAML"),
        ("terms:\n  - id: T\n    name: x\n    due_days: 1.5\n", "ledger.yaml:4: terms[0].due_days"),
    ],
)
def test_structural_errors_name_the_line(
    ledger_company: str, tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, "ledger.yaml", text)
    assert expected.replace("ledger.yaml", str(path)) in _error(path)


def test_a_client_currency_change_does_not_alter_issued_invoices(
    sample_ledger: SampleLedger, ledger_db: Database, tmp_path: Path
) -> None:
    changed = _modified_sample(
        tmp_path, "ap@acme-dental.example, currency: USD", "ap@acme-dental.example, currency: CAD"
    )
    out = _import(changed)["data"]
    assert out["counts"]["clients"]["updated"] == 1
    assert out["counts"]["invoices"] == {"added": 0, "updated": 0, "unchanged": 5}
    assert get_invoice(ledger_db, "acme", "INV-1001").currency == "USD"
    new = {
        "invoices": [
            {
                "id": "INV-2000",
                "number": "2000",
                "client": "CL-1",
                "date": "2026-11-01",
                "status": "draft",
                "currency": "USD",
                "lines": [{"service": "S-MSP", "quantity": 1, "unit_price": 1}],
            }
        ]
    }
    message = _error(_write(tmp_path, "new.json", json.dumps(new)))
    assert "invoices[0].currency: USD differs from client CL-1's currency CAD" in message


def test_csv_problems_name_the_right_line_after_empty_and_blank_lines(
    ledger_company: str, tmp_path: Path
) -> None:
    # Line 3 is empty (not a row), so the bad row is on line 4 and is the second row; line 5
    # has blank cells only (a row, skipped), so the next bad one is line 6, the fourth row.
    folder = tmp_path / "csv"
    shutil.copytree(DATA / "csv", folder)
    terms = folder / "terms.csv"
    header, first, *_ = terms.read_text().splitlines()
    terms.write_text("\n".join([header, first, "", "T-BAD,Bad,soon", ",,", "T-BAD2,Bad,later"]))
    message = _error(folder)
    assert f"{terms}:4 (row 2): due_days" in message, message
    assert f"{terms}:6 (row 4): due_days" in message, message


def _invoice_id(written: object) -> tuple[str | None, list[str]]:
    from qbsync.ledger.readers import RawRecord
    from qbsync.ledger.validate import Problems, parse_record

    data = {
        "id": written,
        "number": "1",
        "client": "CL-1",
        "date": "2026-11-02",
        "status": "draft",
        "lines": [{"service": "S-1", "quantity": "1", "unit_price": "1.00"}],
    }
    problems = Problems()
    parsed = parse_record(RawRecord("invoices", data, "f.csv", row=1, line=2), problems)
    return (parsed.id if parsed else None), problems.items  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("written", "taken"),
    [(" INV-1 ", "INV-1"), ("INV\u00a01", "INV\u00a01"), ("Факт-1", "Факт-1"), (7, "7")],
)
def test_an_id_is_text_trimmed_of_spaces(written: object, taken: str) -> None:
    assert _invoice_id(written) == (taken, [])


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("INV\t1", "an id cannot hold control characters"),
        ("INV\x7f1", "an id cannot hold control characters"),
        (True, "expected an id (text)"),
    ],
)
def test_an_id_with_a_control_character_or_a_flag_is_refused(written: object, message: str) -> None:
    assert _invoice_id(written) == (None, [f"f.csv:2 (row 1): id: {message}"])
