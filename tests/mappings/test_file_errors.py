"""A mappings file that cannot be read as meant: not UTF-8, not YAML, or holding no mappings.
Each is exit 2 naming the file (and the line), with the next step, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbsync.store.database import Database
from tests.ledger.util import fingerprint
from tests.support import run_json


def _error(*args: str) -> dict[str, str]:
    error: dict[str, str] = run_json("mappings", "import", *args, code=2)["error"]
    return error


def test_a_mappings_file_that_is_not_utf8_names_the_byte_and_line(
    ledger_company: str, tmp_path: Path
) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_bytes("version: 1\nitems:\n  S-MSP: {qbo_name: Geb\u00fchren}\n".encode("latin-1"))
    error = _error(str(path))
    assert error["message"] == f"{path}: not UTF-8 text (byte 0xfc at line 3)"
    assert error["hint"] and "UTF-8" in error["hint"]


def test_a_yaml_syntax_error_in_mappings_says_what_to_do_next(
    ledger_company: str, tmp_path: Path
) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("version: 1\nitems: {S-MSP: {qbo: '12'}\n", encoding="utf-8")
    error = _error(str(path))
    assert error["message"].startswith(f"{path}:3: not valid YAML")
    assert error["hint"] == "fix the YAML at that line and import again; nothing was written"
    dupe = tmp_path / "dupe.yaml"
    dupe.write_text("items: {}\nitems: {}\n", encoding="utf-8")
    error = _error(str(dupe))
    assert error["message"] == f"{dupe}:2: items: duplicate key (also on line 1)"
    assert error["hint"] == "fix the YAML at that line and import again; nothing was written"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file: holds no mappings"),
        ("# mappings for acme\n", "empty file: holds no mappings"),
        ("version: 1\ncompany: acme\n", "holds no mappings (no section of items, "),
        ("{}", "holds no mappings (no section of items, "),
    ],
)
def test_a_mappings_file_that_holds_no_mappings_is_an_error(
    ledger_company: str, tmp_path: Path, ledger_db: Database, text: str, message: str
) -> None:
    run_json("mappings", "set", "items", "S-MSP", "12")
    before = fingerprint(ledger_db)
    path = tmp_path / "mappings.yaml"
    path.write_text(text, encoding="utf-8")
    for more in ((), ("--prune",), ("--dry-run",)):
        error = _error(str(path), *more)
        assert error["message"].startswith(f"{path}: {message}"), error
        assert error["hint"] and "cut short" in error["hint"]
    assert fingerprint(ledger_db) == before


def test_an_empty_section_still_prunes_its_kind(ledger_company: str, tmp_path: Path) -> None:
    run_json("mappings", "set", "items", "S-MSP", "12")
    path = tmp_path / "mappings.yaml"
    path.write_text("version: 1\nitems: {}\n", encoding="utf-8")
    out = run_json("mappings", "import", str(path), "--prune")["data"]
    assert [r["local_id"] for r in out["removed"]] == ["S-MSP"]
