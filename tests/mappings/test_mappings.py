from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from qbsync.errors import ReconnectRequired
from qbsync.mappings import live
from qbsync.mappings.ops import import_mappings
from qbsync.mappings.resolve import ListSource, Resolver, static_source
from qbsync.mappings.store import list_mappings, lookup
from qbsync.mappings.yamlio import parse
from qbsync.store.database import Database
from tests.fixtures.ledger import SAMPLE_MAPPINGS, ensure_company
from tests.ledger.util import fingerprint
from tests.mappings.lists import DEMO_LISTS, CountingSource
from tests.support import run, run_json


def _no_connection(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The live source as it is without a connection: any read fails (and is recorded)."""
    asked: list[str] = []

    def open_source(ws: object, company: str) -> ListSource:
        def fetch(entity: str, include_inactive: bool) -> list[dict]:
            asked.append(entity)
            raise ReconnectRequired(f"{company} is not connected", "qbsync connect")

        return fetch

    monkeypatch.setattr(live, "open_source", open_source)
    return asked


def _write(tmp_path: Path, text: str, name: str = "mappings.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_demo_mappings_resolve_by_name_and_reimport_is_a_no_op(
    ledger_company: str, demo_lists: CountingSource, ledger_db: Database
) -> None:
    out = run_json("mappings", "import", str(SAMPLE_MAPPINGS))["data"]
    assert out["company"] == "acme" and out["written"]
    assert len(out["added"]) == 18 and out["changed"] == out["removed"] == []
    assert lookup(ledger_db, "acme", "items", "S-HW") == "4"
    assert lookup(ledger_db, "acme", "tax_codes", "TR-HC") == "3"  # Harbor County
    assert lookup(ledger_db, "acme", "tax_codes", "TR-EX") == "NON"
    assert out["counts"]["items"] == {"added": 4, "changed": 0, "removed": 0, "unchanged": 0}
    assert lookup(ledger_db, "acme", "accounts", "deposit") == "4"  # the Bank one, not Income
    assert lookup(ledger_db, "acme", "defaults", "class") == "1"  # Class, not the Item
    assert lookup(ledger_db, "acme", "defaults", "department") == "1"
    assert lookup(ledger_db, "acme", "customers", "CL-3") == "3"
    assert len(demo_lists.calls) == len(set(demo_lists.calls))  # each list read once
    before = fingerprint(ledger_db)
    again = run_json("mappings", "import", str(SAMPLE_MAPPINGS))["data"]
    assert not again["written"] and again["unchanged"] == 18
    assert again["counts"]["terms"] == {"added": 0, "changed": 0, "removed": 0, "unchanged": 3}
    assert fingerprint(ledger_db) == before
    human = run("mappings", "import", str(SAMPLE_MAPPINGS))
    assert "no changes: already up to date" in human.stdout


def test_export_round_trips_without_a_connection(
    ledger_company: str,
    demo_lists: CountingSource,
    ledger_db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_json("mappings", "import", str(SAMPLE_MAPPINGS))
    exported = tmp_path / "out.yaml"
    assert run_json("mappings", "export", str(exported))["data"]["count"] == 18
    data = yaml.safe_load(exported.read_text())
    assert data["items"]["S-HW"] == {"qbo": "4", "qbo_name": "Hardware Setup"}
    stdout = run("mappings", "export").stdout
    assert stdout == exported.read_text()
    asked = _no_connection(monkeypatch)
    before = fingerprint(ledger_db)
    out = run_json("mappings", "import", str(exported), "--prune")["data"]
    assert out["added"] == out["changed"] == out["removed"] == [] and not out["written"]
    assert asked == [] and fingerprint(ledger_db) == before


def test_by_id_and_tax_pseudo_codes_need_no_connection(
    ledger_company: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ledger_db: Database
) -> None:
    asked = _no_connection(monkeypatch)
    path = _write(
        tmp_path,
        "version: 1\nitems: {S-MSP: {qbo: '12'}, S-HW: {qbo: 7}}\n"
        "tax_codes: {TR-NY: {qbo: TAX}, TR-EX: {qbo: non}}\n",
    )
    out = run_json("mappings", "import", str(path))["data"]
    assert len(out["added"]) == 4 and asked == []
    assert lookup(ledger_db, "acme", "tax_codes", "TR-EX") == "NON"
    assert lookup(ledger_db, "acme", "items", "S-HW") == "7"
    assert run_json("mappings", "set", "items", "S-X", "15")["data"]["added"][0]["qbo_id"] == "15"
    assert asked == []
    failed = run_json("mappings", "set", "items", "S-Y", "Hardware Setup", code=3)
    assert "resolve names" in failed["error"]["message"] and asked == ["Item"]


def test_company_option_wins_over_the_file(
    demo_lists: CountingSource, tmp_path: Path, ledger_db: Database
) -> None:
    ensure_company("acme")
    ensure_company("acme-sandbox")
    run_json("mappings", "import", str(SAMPLE_MAPPINGS), "--company", "acme-sandbox")
    assert list_mappings(ledger_db, "acme") == []
    assert len(list_mappings(ledger_db, "acme-sandbox")) == 18
    unknown = _write(tmp_path, "company: nope\nitems: {A: {qbo: '1'}}\n")
    assert run_json("mappings", "import", str(unknown), code=2)["error"]["code"] == "not_found"


def test_unknown_ambiguous_and_inactive_names_list_candidates(
    ledger_company: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ledger_db: Database
) -> None:
    lists = dict(DEMO_LISTS)
    lists["Item"] = [
        *DEMO_LISTS["Item"],
        {"Id": "20", "Name": "Setup", "FullyQualifiedName": "Hardware:Setup", "Active": True},
        {"Id": "21", "Name": "Setup", "FullyQualifiedName": "Software:Setup", "Active": True},
    ]
    monkeypatch.setattr(live, "open_source", lambda ws, company: static_source(lists))
    path = _write(
        tmp_path,
        "version: 1\n"
        "items:\n"
        "  S-HW: {qbo_name: Hardwre Setup}\n"
        "  S-SET: {qbo_name: Setup}\n"
        "  S-OK: {qbo_name: consulting  hours}\n"
        "customers:\n"
        "  CL-9: {qbo_name: Evergreen Realty}\n",
    )
    before = fingerprint(ledger_db)
    error = run_json("mappings", "import", str(path), code=2)["error"]
    message = error["message"]
    assert f"{path}:3: items.S-HW.qbo_name: no QuickBooks Item named 'Hardwre Setup'" in message
    assert "closest: 'Hardware Setup' (Id 4)" in message
    assert f"{path}:4: items.S-SET.qbo_name: 'Setup' matches 2" in message
    assert "'Hardware:Setup' (Id 20)" in message and "'Software:Setup' (Id 21)" in message
    assert f"{path}:7: customers.CL-9.qbo_name" in message and "is inactive" in message
    assert "S-OK" not in message  # case and spacing do not matter
    assert fingerprint(ledger_db) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nitem: {}\n", ":2: item: unknown mapping kind"),
        ("items:\n  S-1: {qbo: abc}\n", ":2: items.S-1.qbo: 'abc' is not a QuickBooks id"),
        ("tax_codes:\n  T: {qbo: TAXX}\n", "(digits or TAX / NON)"),
        ("items:\n  S-1: {}\n", ":2: items.S-1: give qbo"),
        ("items:\n  S-1: {qbo: '1', id: 2}\n", ":2: items.S-1.id: unknown field"),
        ("accounts:\n  withdrawal: {qbo: '3'}\n", "accounts maps only deposit"),
        ("defaults:\n  location: {qbo: '3'}\n", "defaults maps only class, department"),
        ("items: [1, 2]\n", ":1: items: expected a mapping"),
        ("items:\n  S-1: {qbo: '1'\n", "not valid YAML"),
        ("items:\n  S-1: {qbo: '1'}\n  S-1: {qbo: '2'}\n", ":3: items.S-1: duplicate key"),
        ("version: 3\n", ":1: version: unsupported version"),
    ],
)
def test_file_errors_name_the_line_and_write_nothing(
    ledger_company: str, tmp_path: Path, ledger_db: Database, text: str, expected: str
) -> None:
    before = fingerprint(ledger_db)
    path = _write(tmp_path, text)
    error = run_json("mappings", "import", str(path), code=2)["error"]
    assert expected in error["message"], error["message"]
    assert fingerprint(ledger_db) == before


def test_prune_removes_only_kinds_in_the_file(
    ledger_company: str, tmp_path: Path, ledger_db: Database
) -> None:
    full = _write(tmp_path, "items: {A: {qbo: '1'}, B: {qbo: '2'}}\nterms: {T: {qbo: '3'}}\n")
    run_json("mappings", "import", str(full))
    part = _write(tmp_path, "items: {A: {qbo: '5'}}\n", "part.yaml")
    dry = run_json("mappings", "import", str(part), "--prune", "--dry-run")["data"]
    assert [c["local_id"] for c in dry["removed"]] == ["B"] and not dry["written"]
    assert dry["changed"][0]["old_qbo_id"] == "1" and dry["changed"][0]["qbo_id"] == "5"
    assert lookup(ledger_db, "acme", "items", "B") == "2"
    run_json("mappings", "import", str(part), "--prune")
    assert [(m.kind, m.local_id, m.qbo_id) for m in list_mappings(ledger_db, "acme")] == [
        ("items", "A", "5"),
        ("terms", "T", "3"),
    ]
    no_prune = run_json("mappings", "import", str(full))["data"]
    assert len(no_prune["added"]) == 1 and len(no_prune["changed"]) == 1


def test_set_list_delete(ledger_company: str, demo_lists: CountingSource) -> None:
    out = run_json("mappings", "set", "customers", "CL-1", "Acme Dental")["data"]
    assert out["added"] == [
        {"kind": "customers", "local_id": "CL-1", "qbo_id": "1", "qbo_name": "Acme Dental"}
    ]
    changed = run_json("mappings", "set", "customers", "CL-1", "2", "--id")["data"]
    assert changed["changed"][0]["old_qbo_id"] == "1"
    run_json("mappings", "set", "accounts", "deposit", "Checking")
    rows = run_json("mappings", "list")["data"]
    assert [(r["kind"], r["local_id"], r["qbo_id"]) for r in rows] == [
        ("accounts", "deposit", "4"),
        ("customers", "CL-1", "2"),
    ]
    assert len(run_json("mappings", "list", "accounts")["data"]) == 1
    assert run_json("mappings", "list", "widgets", code=2)["error"]["code"] == "invalid_input"
    bad = run_json("mappings", "set", "accounts", "deposit", "Services", code=2)["error"]
    assert "'Services' (Id 3) is of type Income" in bad["message"]  # not a deposit account
    run_json("mappings", "delete", "customers", "CL-1", "-y")
    assert run_json("mappings", "delete", "customers", "-y", "CL-1", code=2)["error"]["code"] == (
        "not_found"
    )


def test_resolver_reads_each_list_once() -> None:
    source = CountingSource(DEMO_LISTS)
    resolver = Resolver(source)
    for name in ("Managed Services", "Consulting Hours", "Backup Storage"):
        resolver.resolve("items", "x", name)
    resolver.resolve("defaults", "class", "Projects")
    assert source.calls == ["Item", "Class"]


def _big_file(tmp_path: Path, n: int = 5000, offset: int = 0) -> Path:
    lines = ["version: 1", "company: acme"]
    per_kind = {"items": 2500, "customers": 1999, "payment_methods": 498}
    for kind, count in per_kind.items():
        lines.append(f"{kind}:")
        lines += [f"  L-{i:05d}: {{qbo: '{i + offset + 1}'}}" for i in range(count)]
    lines += ["accounts:", "  deposit: {qbo: '35'}", "defaults:"]
    lines += ["  class: {qbo: '1'}", "  department: {qbo: '2'}"]
    assert sum(per_kind.values()) + 3 == n
    return _write(tmp_path, "\n".join(lines) + "\n", f"big{offset}.yaml")


@pytest.mark.slow
def test_five_thousand_mappings_in_one_transaction_fast(
    ledger_company: str, tmp_path: Path, ledger_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _no_connection(monkeypatch)
    big = _big_file(tmp_path)

    dry = run_json("mappings", "import", str(big), "--dry-run")["data"]
    assert len(dry["added"]) == 5000 and not dry["written"]
    assert list_mappings(ledger_db, "acme") == []

    started = time.perf_counter()
    out = run_json("mappings", "import", str(big))["data"]
    first = time.perf_counter() - started
    assert len(out["added"]) == 5000 and out["written"]

    before = fingerprint(ledger_db)
    started = time.perf_counter()
    again = run_json("mappings", "import", str(big))["data"]
    second = time.perf_counter() - started
    assert again["unchanged"] == 5000 and not again["written"]
    assert fingerprint(ledger_db) == before
    print(f"5,000 mappings: import {first:.2f}s, re-import {second:.2f}s")
    assert first < 5 and second < 5
    assert asked == []

    # One transaction: the writes of a changed file are a single BEGIN ... COMMIT.
    statements: list[str] = []
    ledger_db.conn.set_trace_callback(statements.append)
    changed = parse(_big_file(tmp_path, offset=7).read_text(), "big7.yaml")
    result = import_mappings(ledger_db, "acme", changed, None)
    ledger_db.conn.set_trace_callback(None)
    assert len(result["changed"]) == 4997  # accounts and defaults kept their ids
    transactions = [s for s in statements if s.split()[0].upper() in ("BEGIN", "COMMIT")]
    assert transactions == ["BEGIN IMMEDIATE", "COMMIT"]


def test_thousands_of_names_resolve_in_one_pass() -> None:
    customers = [
        {"Id": str(i), "DisplayName": f"Client {i:04d} LLC", "Active": True} for i in range(3000)
    ]
    source = CountingSource({"Customer": customers})
    resolver = Resolver(source)
    started = time.perf_counter()
    found = [resolver.resolve("customers", f"CL-{i}", f"client {i:04d} llc") for i in range(3000)]
    elapsed = time.perf_counter() - started
    assert [f.qbo_id for f in found[:3]] == ["0", "1", "2"] and found[-1].qbo_name == (
        "Client 2999 LLC"
    )
    assert source.calls == ["Customer"] and elapsed < 2, elapsed
