"""Every listing takes --format table|plain|csv|tsv|json (--json its alias, QBSYNC_FORMAT its
default): csv/tsv are a header row and raw values (money as 2-decimal text, ids and dates whole),
plain is aligned text without box drawing, and a paged list says "showing N of M" in the table's
caption, on stderr for the other formats, and in --json's meta, never inside the data."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.fixtures.ledger import SampleLedger
from tests.support import run, run_json

AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
BOX = set("│┃─━┏┓┗┛┡┩└┘┌┐╇╈╭╮╰╯")


def _data(*args: str) -> list[dict]:
    return run_json(*args)["data"]


def test_csv_is_a_header_row_and_raw_values(sample_ledger: SampleLedger) -> None:
    rows = _data("invoices", "list")
    result = run("invoices", "list", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    parsed = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(parsed[0]) == list(rows[0]), result.stdout
    assert len(parsed) == len(rows) >= 3
    for got, want in zip(parsed, rows, strict=True):
        assert got["id"] == want["id"] and got["date"] == want["date"]
        assert got["total"] == str(want["total"]) and AMOUNT.match(got["total"]), got
        assert got["balance"] == str(want["balance"]) and AMOUNT.match(got["balance"]), got
        assert AMOUNT.match(got["paid"]), got
    assert "showing" not in result.stdout
    assert result.stderr == f"showing {len(rows)} of {len(rows)}\n"


def test_tsv_has_one_line_per_row_and_tabs_between_fields(sample_ledger: SampleLedger) -> None:
    rows = _data("invoices", "list")
    result = run("invoices", "list", "--format", "tsv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == list(rows[0])
    assert len(lines) == len(rows) + 1
    for line, row in zip(lines[1:], rows, strict=True):
        values = line.split("\t")
        assert values[0] == str(row[next(iter(row))])
        assert len(values) == len(row)


def test_plain_is_aligned_text_without_boxes_and_never_cut(
    sample_ledger: SampleLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    rows = _data("invoices", "list")
    result = run("invoices", "list", "--format", "plain")
    assert result.exit_code == 0, result.stderr
    assert not BOX & set(result.stdout), result.stdout
    assert "…" not in result.stdout
    lines = result.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines), lines
    assert lines[0].split()[:3] == ["id", "number", "type"], lines[0]
    assert len(lines) == len(rows) + 1
    for row in rows:
        assert (
            row["id"] in result.stdout
            and row["total"] in result.stdout
            and row["balance"] in result.stdout
        )
    assert result.stderr == f"showing {len(rows)} of {len(rows)}\n"


def test_a_paged_table_says_showing_n_of_m_in_its_caption(sample_ledger: SampleLedger) -> None:
    total = len(_data("invoices", "list"))
    assert total >= 3
    table = run("invoices", "list", "-n", "2")
    assert table.exit_code == 0
    assert f"showing 2 of {total}" in table.stdout and table.stderr == ""
    payload = json.loads(run("invoices", "list", "-n", "2", "--json").stdout)
    assert len(payload["data"]) == 2
    assert payload["meta"] == {"shown": 2, "total": total}
    assert (
        run("invoices", "list", "-n", "2", "--format", "json").stdout
        == json.dumps(payload, ensure_ascii=False) + "\n"
    )
    csv_run = run("invoices", "list", "-n", "2", "--format", "csv")
    assert len(csv_run.stdout.splitlines()) == 3 and "showing" not in csv_run.stdout
    assert csv_run.stderr == f"showing 2 of {total}\n"
    assert run("invoices", "list", "-n", "2", "--format", "csv", "--quiet").stderr == ""


def test_qbsync_format_sets_the_default_and_a_flag_wins(
    sample_ledger: SampleLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _data("invoices", "list")
    monkeypatch.setenv("QBSYNC_FORMAT", "csv")
    from_env = run("invoices", "list")
    assert from_env.stdout.splitlines()[0] == ",".join(rows[0]), from_env.stdout
    assert json.loads(run("invoices", "list", "--format", "json").stdout)["data"] == rows
    assert json.loads(run("invoices", "list", "--json").stdout)["data"] == rows
    assert "┃" in run("invoices", "list", "--format", "table").stdout
    # A command that is no listing keeps its human form under csv...
    assert run("config", "path").stdout.strip().endswith("config.yaml")
    # ...and gives JSON under json.
    monkeypatch.setenv("QBSYNC_FORMAT", "json")
    assert json.loads(run("config", "path").stdout)["data"].endswith("config.yaml")


def test_a_bad_format_is_exit_2_with_the_choices(
    sample_ledger: SampleLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = run("invoices", "list", "--format", "xml")
    assert flag.exit_code == 2 and "table" in flag.stderr and "tsv" in flag.stderr
    both = run("invoices", "list", "--format", "csv", "--json")
    assert both.exit_code == 2 and "disagree" in both.stdout + both.stderr
    monkeypatch.setenv("QBSYNC_FORMAT", "xml")
    env = run("invoices", "list")
    assert env.exit_code == 2
    assert "QBSYNC_FORMAT='xml' is not a format" in env.stderr
    assert "table, plain, csv, tsv, json" in env.stderr
