"""An output that is not UTF-8 (a Latin-1 locale, PYTHONIOENCODING=ascii, a pipe into an old
tool): JSON gets its own escapes (read back as the very same text), what a person reads gets
Python's (\\u0141) before the table is laid out, and a data file is never written with escapes
in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.ledger import ensure_company
from tests.support import run_json

pytestmark = pytest.mark.slow  # the real program, in a process of its own

LEDGER = """\
clients:
  - {id: C1, name: Café Łódź, currency: EUR}
services:
  - {id: S1, name: Beratung}
invoices:
  - {id: I1, number: "Nº1", client: C1, date: 2026-10-01, status: draft,
     lines: [{service: S1, quantity: 1, unit_price: "10.00"}]}
"""


def _qbsync() -> str:
    program = Path(sys.executable).parent / "qbsync"
    found = str(program) if program.exists() else shutil.which("qbsync")
    assert found, "the qbsync entry point is not installed"
    return found


@pytest.fixture
def ledger(tmp_path: Path) -> None:
    ensure_company("acme")
    path = tmp_path / "ledger.yaml"
    path.write_text(LEDGER, encoding="utf-8")
    run_json("ledger", "import", str(path), "--company", "acme")


def _listing(encoding: str, *options: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [_qbsync(), "invoices", "list", "--company", "acme", *options],
        env={**os.environ, "PYTHONIOENCODING": encoding},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_json_reads_back_the_same_text_whatever_the_encoding(ledger: None, encoding: str) -> None:
    done = _listing(encoding, "--json")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    (row,) = json.loads(done.stdout.decode("ascii"))["data"]
    assert (row["number"], row["client"]) == ("Nº1", "Café Łódź")


@pytest.mark.parametrize("form", ["plain", "table"])
def test_text_for_a_person_escapes_what_the_output_cannot_hold(ledger: None, form: str) -> None:
    done = _listing("latin-1", "--format", form)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = done.stdout.decode("latin-1")
    assert "Café \\u0141ód\\u017a" in out  # é and ó are Latin-1; Ł and ź are not
    assert "Nº1" in out
    if form == "table":  # escaped before rich measured the cells: the rows fit the borders
        widths = {len(line) for line in out.splitlines() if line.startswith(("|", "+"))}
        assert len(widths) == 1, out


def test_a_data_export_is_never_written_with_escapes(ledger: None) -> None:
    done = subprocess.run(
        [_qbsync(), "ledger", "export", "clients", "--company", "acme"],
        env={**os.environ, "PYTHONIOENCODING": "latin-1"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    # It cannot be written in Latin-1: it fails in one line (`-o FILE` writes UTF-8), and
    # nothing altered reaches the billing system.
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().startswith("error: UnicodeEncodeError"), done.stderr
