"""Local cost that stays flat as the store grows: `status`, `invoices list -n 50`, `exceptions
list` and an idle `sync run` read through indexes only (no full scan of the big tables, proved
with EXPLAIN QUERY PLAN on every statement they run), and the work SQLite does for them (its
virtual machine's steps, counted with a progress handler) does not grow from 1,000 to 11,000
invoices."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

import qbsync.store.db as store_db
from qbsync import paths
from qbsync.store.database import Database
from qbsync.store.db import open_store
from tests.fixtures.qbo import ConnectedCompany
from tests.perf.bulk import generate
from tests.support import run

BIG_TABLES = {
    "ledger_invoices",
    "ledger_invoice_lines",
    "ledger_payments",
    "outbox",
    "sync_exceptions",
    "qbo_links",
    "qbo_payments",
    "sync_cycles",
}
STEP = 100  # the progress handler runs every STEP virtual-machine instructions


@dataclass
class Trace:
    statements: list[str] = field(default_factory=list)
    steps: int = 0
    listed: int = 0  # rows a listing printed


@contextmanager
def traced(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trace]:
    """Every statement the stores opened meanwhile run, and SQLite's work for them."""
    trace = Trace()
    configure = store_db.configure

    def count() -> int:
        trace.steps += STEP
        return 0

    def traced_configure(db: Database) -> Database:
        configure(db)
        db.conn.set_trace_callback(trace.statements.append)
        db.conn.set_progress_handler(count, STEP)
        return db

    with monkeypatch.context() as m:
        m.setattr(store_db, "configure", traced_configure)
        yield trace


def _aliases(sql: str) -> dict[str, str]:
    """alias -> table for `FROM table alias` and `JOIN table alias` (EXPLAIN names aliases)."""
    found = re.findall(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", sql, re.I)
    out = {table: table for table, _ in found}
    for table, alias in found:
        if alias and alias.upper() not in {"WHERE", "ON", "LEFT", "JOIN", "ORDER", "GROUP"}:
            out[alias] = table
    return out


def full_scans(statements: list[str]) -> list[tuple[str, str]]:
    """(statement, plan line) for each SCAN of a big table in the statements' query plans."""
    con = sqlite3.connect(paths.database_file())
    found = []
    for sql in dict.fromkeys(statements):
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb not in {"SELECT", "UPDATE", "DELETE", "WITH", "INSERT"}:
            continue
        aliases = _aliases(sql)
        for row in con.execute("EXPLAIN QUERY PLAN " + sql):
            detail: str = row[3]
            match = re.match(r"SCAN (\w+)", detail)
            if match and aliases.get(match.group(1), match.group(1)) in BIG_TABLES:
                found.append((" ".join(sql.split()), detail))
    con.close()
    return found


def _grow(company: str, n: int, prefix: str) -> None:
    db = open_store()
    generate(db, company, n, cycles=200, prefix=prefix)
    db.close()


COMMANDS: dict[str, Callable[[str], list[str]]] = {
    "status": lambda c: ["status", "--company", c, "--json"],
    "invoices list -n 50": lambda c: ["invoices", "list", "-n", "50", "--company", c, "--json"],
    "exceptions list": lambda c: ["exceptions", "list", "--company", c, "--json"],
    "sync run (idle)": lambda c: ["sync", "run", "--company", c, "--json"],
}


def _run(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Trace:
    with traced(monkeypatch) as trace:
        result = run(*args)
    assert result.exit_code in (0, 1), result.output  # status is yellow with errored ops
    data = json.loads(result.output)["data"]
    trace.listed = len(data) if isinstance(data, list) else 0
    return trace


def test_the_paths_use_indexes_and_stay_flat(
    connected_company: ConnectedCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = connected_company.key
    run("sync", "run", "--company", company)  # the first cycle: the cursor is set
    _grow(company, 1_000, "A")
    small = {name: _run(monkeypatch, args(company)) for name, args in COMMANDS.items()}
    _grow(company, 10_000, "B")
    big = {name: _run(monkeypatch, args(company)) for name, args in COMMANDS.items()}

    scans = {name: full_scans(trace.statements) for name, trace in big.items()}
    assert scans == {name: [] for name in COMMANDS}
    growth = {name: (small[name].steps, big[name].steps) for name in COMMANDS}
    # 11 times the invoices: a flat path does (about) the same work. The listing's "showing 50
    # of N" counts the invoices on an index, the one part that grows: a few steps an invoice
    # (deriving each invoice's sync state to count them, as before, took over ten).
    # A listing also does a little work per row it prints (`exceptions list` prints up to its
    # limit of 100: more of them at 11,000 invoices than at 1,000).
    count_walk = 4 * 10_000
    per_row = 60

    def allowed(name: str, before: int) -> float:
        walk = count_walk if name.startswith("invoices") else 0
        rows = per_row * max(0, big[name].listed - small[name].listed)
        return before * 1.25 + 2_000 + walk + rows

    grown = {
        name: (before, after)
        for name, (before, after) in growth.items()
        if after > allowed(name, before)
    }
    assert grown == {}, growth


def _link_customers(company: str, start: int, stop: int) -> None:
    """Clients CL-G<start>..<stop-1> linked to customers with a baseline, as a cycle that
    created or adopted them leaves them."""
    from qbsync.mappings.store import Mapping, apply_diff, diff_entries
    from qbsync.sync import customer_baselines

    db = open_store()
    entries = [Mapping("customers", f"CL-G{i}", str(9000 + i), None) for i in range(start, stop)]
    apply_diff(db, company, diff_entries(db, company, entries))
    for i in range(start, stop):
        shape = {"name": f"Client {i}", "email": f"ap{i}@example.com"}
        shape |= {"phone": None, "bill_address": None, "ship_address": None}
        customer_baselines.save(db, company, f"CL-G{i}", str(9000 + i), shape)
    db.close()


def test_an_idle_cycle_does_not_read_every_linked_customer(
    connected_company: ConnectedCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With customers.update off (the default) a cycle sends only the customers the accountant
    # chose to overwrite: it finds them on an index, however many customers are linked. (It
    # read each linked customer's baseline and client, two statements a customer, every cycle.)
    company = connected_company.key
    run("sync", "run", "--company", company)
    _grow(company, 100, "C")  # 500 clients
    _link_customers(company, 0, 10)
    few = _run(monkeypatch, COMMANDS["sync run (idle)"](company))
    _link_customers(company, 10, 400)
    many = _run(monkeypatch, COMMANDS["sync run (idle)"](company))
    assert len(many.statements) == len(few.statements), (
        len(few.statements),
        len(many.statements),
    )
    assert not [s for s in many.statements if "customer_baselines" in s and "push = 1" not in s]
    # With customers.update on, every linked client is compared with its customer's baseline:
    # read together, in the same few statements whatever their number.
    run("config", "set", f"companies.{company}.customers.update", "true")
    few_compared = _run(monkeypatch, COMMANDS["sync run (idle)"](company))
    _link_customers(company, 400, 500)
    many_compared = _run(monkeypatch, COMMANDS["sync run (idle)"](company))
    assert len(many_compared.statements) == len(few_compared.statements), (
        len(few_compared.statements),
        len(many_compared.statements),
    )


def test_a_window_naming_a_customer_looks_up_its_client_alone(
    connected_company: ConnectedCompany, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A customer changed in QuickBooks: the cycle asks which client is mapped to it, on an index
    # by QuickBooks id. (It read every customer mapping of the company to answer.)
    company = connected_company
    run("sync", "run", "--company", company.key)
    _grow(company.key, 100, "C")

    def window_with_a_customer(name: str) -> Trace:
        made = company.control.create(company.realm_id, "Customer", {"DisplayName": name})
        company.control.edit(company.realm_id, "Customer", made["Id"], {"Notes": "changed"})
        return _run(monkeypatch, COMMANDS["sync run (idle)"](company.key))

    _link_customers(company.key, 0, 10)
    few = window_with_a_customer("Walk-in one")
    _link_customers(company.key, 10, 500)
    many = window_with_a_customer("Walk-in two")
    reads = [s for s in many.statements if "FROM mappings" in s and "'customers'" in s]
    assert reads and all("qbo_id = " in s for s in reads), reads
    con = sqlite3.connect(paths.database_file())
    plans = [(s, row[3]) for s in reads for row in con.execute("EXPLAIN QUERY PLAN " + s)]
    con.close()
    assert [(s, plan) for s, plan in plans if "mappings_qbo_id" not in plan] == []
    assert many.steps - few.steps < 1_500, (few.steps, many.steps)  # 490 mappings more
