"""Helpers for sync tests: a connected company with the sample ledger mapped to the
simulator's demo company, and small readers for the simulator's state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from qbsync.companies.session import open_client, run
from qbsync.qbo.lists import fetch_list
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso
from qbsync.workspace import Workspace

DEMO_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    # kind: local id -> (QBO entity, name)
    "customers": {
        "CL-1": ("Customer", "Acme Dental"),
        "CL-2": ("Customer", "Brightside Law LLP"),
        "CL-3": ("Customer", "Cedar Clinic"),
        "CL-4": ("Customer", "Delta Logistics"),
    },
    "items": {
        "S-MSP": ("Item", "Managed Services"),
        "S-HOURS": ("Item", "Consulting Hours"),
        "S-HW": ("Item", "Hardware Setup"),
        "S-BACKUP": ("Item", "Backup Storage"),
    },
    "tax_codes": {"TR-HC": ("TaxCode", "Harbor County")},
    "terms": {
        "T-DUE": ("Term", "Due on receipt"),
        "T-15": ("Term", "Net 15"),
        "T-30": ("Term", "Net 30"),
    },
    "payment_methods": {
        "stripe": ("PaymentMethod", "Credit Card"),
        "check": ("PaymentMethod", "Check"),
    },
    "accounts": {"deposit": ("Account", "Checking")},
}


def qbo_ids(company: str) -> dict[tuple[str, str], str]:
    """(entity, name) -> Id, read through the real client."""

    async def read() -> dict[tuple[str, str], str]:
        with Workspace() as ws:
            client = open_client(ws, company)
            async with client:
                out = {}
                for entity in {e for kind in DEMO_NAMES.values() for e, _ in kind.values()}:
                    for obj in await fetch_list(client, entity, include_inactive=True):
                        name = obj.get("DisplayName") or obj.get("Name")
                        out[(entity, name)] = str(obj["Id"])
                return out

    return run(read())


def map_demo(company: str, *, skip: tuple[tuple[str, str], ...] = ()) -> dict[tuple[str, str], str]:
    """Map the sample ledger to the demo company (TR-EX to NON). Returns the QBO ids."""
    ids = qbo_ids(company)
    with Workspace() as ws, transaction(ws.store):
        rows = [("tax_codes", "TR-EX", "NON", "NON")]
        for kind, entries in DEMO_NAMES.items():
            for local, (entity, name) in entries.items():
                if (kind, local) not in skip:
                    rows.append((kind, local, ids[(entity, name)], name))
        for kind, local, qbo_id, name in rows:
            set_mapping(ws, company, kind, local, qbo_id, name)
    return ids


def set_mapping(ws: Workspace, company: str, kind: str, local: str, qbo_id: str, name: str) -> None:
    ws.store.execute(
        "INSERT OR REPLACE INTO mappings (company, kind, local_id, qbo_id, qbo_name, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [company, kind, local, qbo_id, name, utc_now_iso()],
    )


def sim_docs(server: Any, entity: str) -> list[dict[str, Any]]:
    """Every object of `entity` the simulator's default company holds (in-process look)."""
    company = server.sim.company(server.realm_id)
    return list(company.data[entity].values())


def link(company: str, local_type: str, local_id: str) -> dict[str, Any] | None:
    with Workspace() as ws:
        rows = list(
            ws.store.query(
                "SELECT * FROM qbo_links WHERE company = ? AND local_type = ? AND local_id = ?",
                [company, local_type, local_id],
            )
        )
        return rows[0] if rows else None


# --- generated ledgers and the CLI in a subprocess -----------------------------------------

SAMPLE_LISTS: dict[str, Any] = {
    "clients": [
        {"id": "CL-1", "name": "Acme Dental", "currency": "USD"},
        {"id": "CL-2", "name": "Brightside Law LLP", "currency": "USD"},
        {"id": "CL-3", "name": "Cedar Clinic"},
        {"id": "CL-4", "name": "Delta Logistics", "currency": "USD"},
    ],
    "services": [
        {"id": "S-MSP", "name": "Managed services (per seat)"},
        {"id": "S-HOURS", "name": "Consulting hours"},
        {"id": "S-HW", "name": "Hardware setup"},
        {"id": "S-BACKUP", "name": "Cloud backup (per 100 GB)"},
    ],
    "tax_regions": [{"id": "TR-HC", "name": "Harbor County"}, {"id": "TR-EX", "name": "Exempt"}],
    "terms": [
        {"id": "T-DUE", "name": "Due on receipt", "due_days": 0},
        {"id": "T-15", "name": "Net 15", "due_days": 15},
        {"id": "T-30", "name": "Net 30", "due_days": 30},
    ],
}


def invoice_amount(n: int) -> Decimal:
    """The (exempt, tax-free) total of generated invoice number n: never a float."""
    return Decimal(100 + n % 97) + Decimal(n % 100) / 100


def generated_ledger(
    path: Path, invoices: int, payments: int = 0, *, start: int = 5001
) -> dict[str, Any]:
    """A ledger file of `invoices` finalized one-line exempt invoices (numbers from `start`)
    and `payments` local payments (half of the first invoices' totals), spread over October."""
    docs, pays = [], []
    for i in range(invoices):
        n = start + i
        docs.append(
            {
                "id": f"INV-{n}",
                "number": str(n),
                "client": f"CL-{1 + i % 4}",
                "date": f"2026-10-{1 + i % 28:02d}",
                "terms": "T-30",
                "status": "finalized",
                "lines": [
                    {
                        "service": "S-HOURS",
                        "quantity": 1,
                        "unit_price": str(invoice_amount(n)),
                        "tax_region": "TR-EX",
                    }
                ],
            }
        )
    for i in range(payments):
        n = start + i
        pays.append(
            {
                "id": f"PAY-{n}",
                "invoice": f"INV-{n}",
                "amount": str((invoice_amount(n) / 2).quantize(Decimal("0.01"))),
                "date": f"2026-11-{1 + i % 20:02d}",
                "method": "check",
                "reference": f"CHK-{n}",
            }
        )
    data = {"version": 1, **SAMPLE_LISTS, "invoices": docs, "payments": pays}
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


def cli_env() -> dict[str, str]:
    """The environment for `qbsync` in a subprocess: this test's workspace."""
    env = dict(os.environ)
    env["QBSYNC_HOME"] = os.environ["QBSYNC_HOME"]
    env["NO_COLOR"] = "1"
    env.pop("QBSYNC_DEBUG", None)
    return env


def qbsync_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from qbsync.cli.app import main; main()", *args]


def _as_at_a_terminal() -> None:
    # Ctrl-C interrupts as it would at a terminal, even when these tests run in the background:
    # a shell starts a background job with SIGINT ignored, and a child inherits that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        qbsync_cmd(*args),
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_at_a_terminal,
    )


def store_query(sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with Workspace() as ws:
        return [dict(r) for r in ws.store.query(sql, params or [])]


def store_execute(sql: str, params: list[Any] | None = None) -> None:
    with Workspace() as ws, transaction(ws.store):
        ws.store.execute(sql, params or [])


def set_config(key: str, value: str) -> None:
    from qbsync import config

    config.save(config.set_value(config.load(), key, value))


def duplicates(values: list[Any]) -> list[Any]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def running_cycle(pid: int) -> int | None:
    """The id of the cycle process `pid` is running, if it has started one (a plain read of
    the store, cheap enough to poll)."""
    import sqlite3

    from qbsync import paths

    con = sqlite3.connect(paths.database_file(), timeout=5)
    try:
        row = con.execute(
            "SELECT id FROM sync_cycles WHERE pid = ? AND result = 'running'", [pid]
        ).fetchone()
        return int(row[0]) if row else None
    finally:
        con.close()


def wait_for_cycle(proc: subprocess.Popen[str], timeout: float = 30.0) -> int:
    """Wait until `proc` is inside a cycle; its id."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = running_cycle(proc.pid)
        if found is not None:
            return found
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"qbsync exited {proc.returncode} early: {out} {err}")
        time.sleep(0.02)
    raise AssertionError("no cycle started in time")


_WARM_CLI = r"""
import os, sys
from qbsync.cli.app import app
import importlib, pkgutil, qbsync
for mod in pkgutil.walk_packages(qbsync.__path__, "qbsync."):  # warm: children start fast
    importlib.import_module(mod.name)

for line in sys.stdin:
    cmd = line.split()
    if cmd and cmd[0] == "run":
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            code = 0
            try:
                app(prog_name="qbsync", args=cmd[1:])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            os._exit(code)
        print(pid, flush=True)
    elif cmd and cmd[0] == "wait":
        _, status = os.waitpid(int(cmd[1]), 0)
        print(status, flush=True)
"""


class WarmCli:
    """Starts `qbsync ARGS` processes fast: a single-threaded interpreter that has imported
    qbsync once forks one child per run, and each child runs the CLI's entry point (so 20
    short-lived runs do not spend their lives importing). The children are ordinary processes
    of this test's workspace: signals, locks and crashes behave as for `qbsync` itself."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WARM_CLI],
            env=cli_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, line: str) -> int:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def start(self, *args: str) -> int:
        return self._ask("run " + " ".join(args))

    def wait(self, pid: int) -> int:
        """Reap the child; its raw wait status."""
        return self._ask(f"wait {pid}")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()


def wait_for_cycle_of(pid: int, timeout: float = 30.0) -> int:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = running_cycle(pid)
        if found is not None:
            return found
        time.sleep(0.01)
    raise AssertionError(f"process {pid} started no cycle in time")
