"""The house rules of CONTRIBUTING.md, checked on the code itself: one owner per table, arrows
that point down, one way to open a transaction, and rooms of a readable size."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qbsync"

# table -> the module (file) or room (folder, ending in /) that alone names it in SQL.
OWNERS = {
    "ledger_clients": "qbsync/ledger/",
    "ledger_services": "qbsync/ledger/",
    "ledger_tax_regions": "qbsync/ledger/",
    "ledger_terms": "qbsync/ledger/",
    "ledger_invoices": "qbsync/ledger/",
    "ledger_invoice_lines": "qbsync/ledger/",
    "ledger_payments": "qbsync/ledger/",
    "ledger_credit_applications": "qbsync/ledger/",
    "ledger_payment_handovers": "qbsync/ledger/",
    "ledger_csv_written": "qbsync/ledger/",
    "ledger_reversed": "qbsync/ledger/",
    "outbox": "qbsync/outbox.py",
    "mappings": "qbsync/mappings/store.py",
    "companies": "qbsync/companies/",
    "company_facts": "qbsync/companies/",
    "events": "qbsync/companies/",
    "qbo_links": "qbsync/sync/links.py",
    "customer_baselines": "qbsync/sync/customer_baselines.py",
    "qbo_payments": "qbsync/sync/qbo_payments.py",
    "notify_expiry_sent": "qbsync/notify/sent.py",
    "sync_cursors": "qbsync/sync/inbound/cursor.py",
    "sync_cycles": "qbsync/sync/cycles.py",
    "sync_exceptions": "qbsync/sync/exceptions.py",
    "wizard_decisions": "qbsync/wizard/decisions.py",
}
VIEWS = "qbsync/views/"  # the read side: any table, SELECT only
# The schema defines every table; the simulator keeps its own, separate state.
NOT_CHECKED = ("qbsync/store/schema/", "qbsync/sim/")

SQL_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z_]+)\b")
SQL_WRITE = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b")


@dataclass(frozen=True)
class Module:
    path: str  # qbsync/sync/links.py
    name: str  # qbsync.sync.links
    tree: ast.Module


def modules() -> Iterator[Module]:
    for file in sorted(PACKAGE.rglob("*.py")):
        rel = file.relative_to(ROOT).as_posix()
        name = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        yield Module(rel, name, ast.parse(file.read_text(), rel))


def strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every literal string, f-strings joined with a placeholder for their fields."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "?"
                for v in node.values
            )
            yield node.lineno, text
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def owns(owner: str, path: str) -> bool:
    return path.startswith(owner) if owner.endswith("/") else path == owner


def store_like(node: ast.expr) -> bool:
    """`db`, `store`, `ws.store`, `ctx.db`: what a sqlite-utils Database is called here."""
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    return name in ("db", "store", "database")


def table_violations() -> list[str]:
    found = []
    for mod in modules():
        if mod.path.startswith(NOT_CHECKED):
            continue
        for line, text in strings(mod.tree):
            for table in SQL_TABLE.findall(text):
                owner = OWNERS.get(table)
                if owner is None or owns(owner, mod.path):
                    continue
                if mod.path.startswith(VIEWS) and not SQL_WRITE.search(text):
                    continue
                found.append(f"{mod.path}:{line} names {table} (owned by {owner})")
        # sqlite-utils' table access by name: db["outbox"], db.table("outbox")
        for node in ast.walk(mod.tree):
            name = None
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.slice, ast.Constant)
                and store_like(node.value)
            ):
                name = node.slice.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "table"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                name = node.args[0].value
            owner = OWNERS.get(name) if isinstance(name, str) else None
            if owner and not owns(owner, mod.path):
                found.append(f"{mod.path}:{node.lineno} opens table {name} (owned by {owner})")
    return found


def test_every_table_is_named_in_sql_by_its_owner_alone() -> None:
    assert table_violations() == []


def test_the_ownership_check_sees_a_stray_statement() -> None:
    tree = ast.parse('db.execute("UPDATE outbox SET state = ? WHERE id = ?")')
    texts = [t for _, t in strings(tree)]
    assert SQL_TABLE.findall(texts[0]) == ["outbox"]
    assert SQL_WRITE.search(texts[0])


# --- imports -------------------------------------------------------------------------------


def imports(tree: ast.Module, *, top_level_only: bool = False) -> Iterator[tuple[int, str]]:
    """The qbsync modules a module imports; with top_level_only, those it imports at load time
    (not inside functions, not under `if TYPE_CHECKING`)."""
    nodes: list[ast.AST] = list(tree.body) if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("qbsync"):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qbsync"):
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif top_level_only and isinstance(node, ast.Try):
            yield from imports(ast.Module(body=node.body, type_ignores=[]), top_level_only=True)


# room (module prefix) -> rooms it must never import
FORBIDDEN = {
    "qbsync.store": (
        "qbsync.ledger",
        "qbsync.sync",
        "qbsync.mappings",
        "qbsync.companies",
        "qbsync.qbo",
        "qbsync.outbox",
        "qbsync.views",
        "qbsync.wizard",
        "qbsync.workspace",
        "qbsync.cli",
    ),
    "qbsync.outbox": (
        "qbsync.ledger",
        "qbsync.sync",
        "qbsync.mappings",
        "qbsync.companies",
        "qbsync.qbo",
        "qbsync.views",
        "qbsync.wizard",
        "qbsync.cli",
    ),
    "qbsync.qbo": (
        "qbsync.workspace",
        "qbsync.config",
        "qbsync.store",
        "qbsync.secrets",
        "qbsync.companies",
        "qbsync.ledger",
        "qbsync.sync",
        "qbsync.mappings",
        "qbsync.outbox",
        "qbsync.views",
        "qbsync.wizard",
        "qbsync.cli",
    ),
    "qbsync.ledger": (
        "qbsync.sync",
        "qbsync.qbo",
        "qbsync.companies",
        "qbsync.wizard",
        "qbsync.views",
        "qbsync.cli",
    ),
    "qbsync.mappings": ("qbsync.sync", "qbsync.wizard", "qbsync.views", "qbsync.cli"),
    "qbsync.companies": (
        "qbsync.sync",
        "qbsync.ledger",
        "qbsync.wizard",
        "qbsync.views",
        "qbsync.cli",
    ),
    "qbsync.sync": ("qbsync.wizard", "qbsync.demo", "qbsync.doctor", "qbsync.cli"),
    "qbsync.views": ("qbsync.wizard", "qbsync.cli"),
    # Alerts are told plain data by the sync engine; they never reach back into it.
    "qbsync.notify": ("qbsync.sync", "qbsync.wizard", "qbsync.views", "qbsync.cli"),
    "qbsync.wizard": ("qbsync.cli",),
    "qbsync.doctor": ("qbsync.cli",),
    "qbsync.demo": ("qbsync.cli",),
    "qbsync.health": ("qbsync.cli",),
}


def in_room(name: str, room: str) -> bool:
    return name == room or name.startswith(room + ".")


def import_violations() -> list[str]:
    found = []
    for mod in modules():
        if in_room(mod.name, "qbsync.sim"):
            found += [
                f"{mod.path}:{line} imports {target}: the simulator stands alone"
                for line, target in imports(mod.tree)
                if not in_room(target, "qbsync.sim")
            ]
            continue
        if not (in_room(mod.name, "qbsync.cli") or mod.name == "qbsync.__main__"):
            found += [
                f"{mod.path}:{line} imports {target}: only the CLI imports the CLI"
                for line, target in imports(mod.tree)
                if in_room(target, "qbsync.cli")
            ]
        for room, banned in FORBIDDEN.items():
            if not in_room(mod.name, room):
                continue
            for line, target in imports(mod.tree):
                for other in banned:
                    if in_room(target, other) and not in_room(target, room):
                        found.append(f"{mod.path}:{line} imports {target} ({room} is below it)")
    return found


def test_imports_point_down_only() -> None:
    assert import_violations() == []


def resolve(target: str, names: set[str]) -> str | None:
    """`qbsync.sync.links.save` -> the module `qbsync.sync.links`."""
    while target and target not in names:
        target = target.rpartition(".")[0]
    return target or None


def test_no_import_circle_between_modules() -> None:
    mods = {m.name: m for m in modules()}
    graph = {
        name: {
            t
            for _, target in imports(m.tree, top_level_only=True)
            if (t := resolve(target, set(mods)))
            and t != name
            # importing a package's module imports the package first; that is not a circle
            and not name.startswith(t + ".")
        }
        for name, m in mods.items()
    }
    circles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert circles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            result.append(component)

    for v in list(graph):
        if v not in index:
            visit(v)
    return result


def test_the_import_check_sees_an_upward_arrow() -> None:
    tree = ast.parse("def f():\n    from qbsync.cli.app import app\n")
    assert [t for _, t in imports(tree)] == ["qbsync.cli.app.app"]
    circles = strongly_connected({"a": {"b"}, "b": {"a"}, "c": set()})
    assert sorted(map(sorted, circles)) == [["a", "b"], ["c"]]


# --- transactions and size -----------------------------------------------------------------

OTHER_TRANSACTIONS = re.compile(r"\.atomic\(|\bBEGIN\b|\.commit\(\)|\.rollback\(\)|\.begin\(\)")


def test_transactions_open_only_through_the_store_helper() -> None:
    found = []
    for mod in modules():
        if mod.path in ("qbsync/store/tx.py",) or mod.path.startswith("qbsync/sim/"):
            continue
        source = (ROOT / mod.path).read_text()
        for number, line in enumerate(source.splitlines(), 1):
            if OTHER_TRANSACTIONS.search(line.split("#")[0]):
                found.append(f"{mod.path}:{number}: {line.strip()}")
    assert found == []


def test_no_module_is_past_the_size_ceiling() -> None:
    limit = 500
    big = {
        m.path: n for m in modules() if (n := len((ROOT / m.path).read_text().splitlines())) > limit
    }
    assert big == {}
