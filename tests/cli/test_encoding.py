"""An output that is not UTF-8 (a Latin-1 locale, PYTHONIOENCODING=ascii, a pipe into an old
tool): JSON gets its own escapes (read back as the very same text), what a person reads gets
Python's (\\u0141) before the table is laid out, and a data file is never written with escapes
in it: it fails, naming the character and where it is. A file name that is not UTF-8 has its
bytes shown \\xff, in JSON as for a person."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def _run(encoding: str, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [_qbsync(), *args],
        env={**os.environ, "PYTHONIOENCODING": encoding, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )


def _listing(encoding: str, *options: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return _run(encoding, "invoices", "list", "--company", "acme", *options, **env)


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


@pytest.mark.parametrize(
    ("encoding", "form", "lacking"),
    [
        ("latin-1", "csv", "U+0141 (LATIN CAPITAL LETTER L WITH STROKE) in row 1, column client"),
        ("ascii", "tsv", "U+00BA (MASCULINE ORDINAL INDICATOR) in row 1, column number"),
    ],
)
def test_a_csv_or_tsv_listing_fails_naming_what_the_output_cannot_hold(
    ledger: None, encoding: str, form: str, lacking: str
) -> None:
    for done in (_listing(encoding, "--format", form), _listing(encoding, QBSYNC_FORMAT=form)):
        # Nothing written rather than half a file, or an escape the billing system takes as data.
        assert done.returncode == 1 and done.stdout == b"", done.stderr
        assert done.stderr.decode().splitlines() == [
            f"error: stdout ({encoding}) cannot hold {lacking}; nothing was written",
            "hint: set a UTF-8 locale or PYTHONIOENCODING=utf-8",
        ]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_json_export_uses_json_escapes_and_reads_back_the_same(
    ledger: None, encoding: str
) -> None:
    # JSON can say every character in ASCII: the export goes through, and a JSON reader gets
    # exactly the billing system's text.
    done = _run(encoding, "ledger", "export", "clients", "--company", "acme", "--format", "json")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    (client,) = json.loads(done.stdout.decode("ascii"))
    assert client["name"] == "Café Łódź"


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_mappings_export_uses_yaml_escapes_and_imports_back_the_same(
    tmp_path: Path, encoding: str
) -> None:
    ensure_company("acme")
    given = tmp_path / "mappings.yaml"
    given.write_text("version: 1\nitems: {S-\u0141\u00f3d\u017a: {qbo: '12'}}\n", encoding="utf-8")
    run_json("mappings", "import", str(given), "--company", "acme")
    done = _run(encoding, "mappings", "export", "--company", "acme")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    data = yaml.safe_load(done.stdout.decode("ascii"))
    assert data["items"] == {"S-\u0141\u00f3d\u017a": {"qbo": "12"}}


def test_a_data_export_is_never_written_with_escapes(ledger: None, tmp_path: Path) -> None:
    export = ("ledger", "export", "clients", "--company", "acme", "--format", "csv")
    # It cannot be written in Latin-1: it fails in one line, and nothing altered reaches the
    # billing system.
    done = _run("latin-1", *export, "--quiet")
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode() == (
        "error: stdout (latin-1) cannot hold U+0141 (LATIN CAPITAL LETTER L WITH STROKE) in"
        " row 1, column name; nothing was written (hint: write it with -o FILE (always UTF-8),"
        " or set a UTF-8 locale or PYTHONIOENCODING=utf-8)\n"
    )
    # As the hint says: `-o FILE` writes it whole, in UTF-8.
    written = _run("latin-1", *export, "-o", str(tmp_path / "clients.csv"))
    assert written.returncode == 0, written.stderr
    assert "C1,Café Łódź," in (tmp_path / "clients.csv").read_text(encoding="utf-8")


@pytest.fixture
def undecodable(tmp_path: Path) -> Path:
    """The ledger under a file name whose byte 0xff is not UTF-8 (Python holds it as U+DCFF)."""
    ensure_company("acme")
    path = tmp_path / os.fsdecode(b"ledger-\xff.yaml")
    path.write_text(LEDGER, encoding="utf-8")
    return path


@pytest.mark.parametrize("encoding", ["utf-8:strict", "utf-8:surrogateescape", "ascii"])
def test_json_shows_the_bytes_of_a_file_name_that_is_not_utf8(
    undecodable: Path, encoding: str
) -> None:
    done = _run(encoding, "ledger", "import", str(undecodable), "--company", "acme", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.decode("utf-8"))["data"]  # valid UTF-8, whatever stdout is
    assert data["files"] == [str(undecodable.parent / "ledger-\\xff.yaml")]
    assert data["counts"]["invoices"]["added"] == 1


def test_a_json_error_shows_the_bytes_of_a_file_name_that_is_not_utf8(undecodable: Path) -> None:
    missing = undecodable.with_name(os.fsdecode(b"missing-\xff.yaml"))
    done = _run("utf-8:strict", "ledger", "import", str(missing), "--company", "acme", "--json")
    assert done.returncode == 2, done.stderr
    error = json.loads(done.stdout.decode("utf-8"))["error"]
    assert error["message"].startswith(str(undecodable.parent / "missing-\\xff.yaml"))


def test_a_table_shows_the_bytes_of_a_file_name_that_is_not_utf8(undecodable: Path) -> None:
    target = undecodable.with_name(os.fsdecode(b"clients-\xff.csv"))
    export = ("ledger", "export", "clients", "--company", "acme", "--format", "csv")
    done = _run("utf-8:strict", *export, "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert "clients-\\xff.csv" in done.stdout.decode("utf-8")
