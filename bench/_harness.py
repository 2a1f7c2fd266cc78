"""Shared set-up for the benchmarks: a throw-away workspace, the simulator in its own process,
companies connected through the real OAuth flow, the demo lists mapped, generated ledgers.

Not a benchmark itself (the leading underscore keeps it apart from the runnable scripts).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

BENCH = Path(__file__).resolve().parent

# Ledger records matching the simulator's demo company (the names map one to one).
CLIENTS = [
    {"id": "CL-1", "name": "Acme Dental", "currency": "USD"},
    {"id": "CL-2", "name": "Brightside Law LLP", "currency": "USD"},
    {"id": "CL-3", "name": "Cedar Clinic"},
    {"id": "CL-4", "name": "Delta Logistics", "currency": "USD"},
]
SERVICES = [
    {"id": "S-MSP", "name": "Managed services"},
    {"id": "S-HOURS", "name": "Consulting hours"},
    {"id": "S-HW", "name": "Hardware setup"},
    {"id": "S-BACKUP", "name": "Cloud backup"},
]
TAX_REGIONS = [{"id": "TR-HC", "name": "Harbor County"}, {"id": "TR-EX", "name": "Exempt"}]
TERMS = [
    {"id": "T-DUE", "name": "Due on receipt", "due_days": 0},
    {"id": "T-15", "name": "Net 15", "due_days": 15},
    {"id": "T-30", "name": "Net 30", "due_days": 30},
]
DEMO_NAMES: dict[str, dict[str, tuple[str, str]]] = {
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


def machine() -> str:
    """Cores, RAM and Python version (no host name, no paths)."""
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        ram = f"{mem_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    cpu = platform.processor() or platform.machine()
    return (
        f"{os.cpu_count()} cores ({cpu}), {ram}, Python {platform.python_version()}, "
        f"{platform.system()}"
    )


@contextmanager
def workspace(prefix: str = "qbsync-bench-") -> Iterator[Path]:
    """A fresh QBSYNC_HOME for this process and its children, secrets in a 0600 file (a
    benchmark has no keyring session). Removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    old = os.environ.get("QBSYNC_HOME")
    os.environ["QBSYNC_HOME"] = str(home)
    os.environ["NO_COLOR"] = "1"
    from qbsync import config, secrets

    # The file store announces itself on every use; in a benchmark that is noise.
    secrets.FileStore._warn = lambda self: None  # type: ignore[method-assign]
    config.save(config.set_value(config.load(), "secrets", "file"))
    try:
        yield home
    finally:
        if old is None:
            os.environ.pop("QBSYNC_HOME", None)
        else:
            os.environ["QBSYNC_HOME"] = old
        shutil.rmtree(home, ignore_errors=True)


# The simulator served on a socket in a child process until its stdin closes or it is terminated
# (the same SimServer that `qbsync sim serve` runs).
SIM_MAIN = """
import json, signal, sys, threading
from qbsync.sim.server import SimServer
limits, latency, seed = sys.argv[1:4]
server = SimServer(seed=seed, auto_consent=True, limits=limits, latency=latency).start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
print(json.dumps(server.info()), flush=True)
try:
    stop.wait()
finally:
    server.stop()
"""


class Sim:
    """`qbsync sim serve` in its own process, so its CPU work does not share our GIL."""

    def __init__(self, *, limits: str = "intuit", latency: str = "none", seed: str = "demo"):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SIM_MAIN, limits, latency, seed],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator did not start")
        self.info: dict[str, str] = json.loads(line)
        self.url = self.info["url"]
        self.realm_id = self.info["realm_id"]
        from qbsync.sim.control import SimControl

        self.control = SimControl(self.url, self.info["admin_key"], timeout=60)

    def stop(self) -> None:
        self.control.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def connect(sim: Sim, key: str, realm: str | None = None) -> None:
    """Connect company `key` through the real OAuth flow (auto-consent picks `realm`)."""
    from qbsync.companies.connection import connect_company
    from qbsync.companies.credentials import set_app_credentials
    from qbsync.workspace import Workspace

    def browser(url: str) -> None:
        if realm:
            url += "&" + urlencode({"realm": realm})
        with httpx.Client(timeout=30, follow_redirects=True) as http:
            http.get(url)

    with Workspace() as ws:
        set_app_credentials(
            ws, key, sim.info["client_id"], sim.info["client_secret"], "sim", sim.url
        )
        connect_company(ws, key, "sim", sim.url, open_url=browser)


def map_demo(key: str) -> None:
    """Map the bench ledger's clients, services, tax regions, terms to the demo company."""
    from qbsync.companies.session import open_client, run
    from qbsync.qbo.lists import fetch_list
    from qbsync.store.tx import transaction
    from qbsync.timeutil import utc_now_iso
    from qbsync.workspace import Workspace

    async def read(ws: Workspace) -> dict[tuple[str, str], str]:
        client = open_client(ws, key)
        async with client:
            out = {}
            for entity in sorted({e for kind in DEMO_NAMES.values() for e, _ in kind.values()}):
                for obj in await fetch_list(client, entity, include_inactive=True):
                    out[(entity, obj.get("DisplayName") or obj.get("Name"))] = str(obj["Id"])
            return out

    with Workspace() as ws:
        ids = run(read(ws))
        rows = [("tax_codes", "TR-EX", "NON", "NON")]
        for kind, entries in DEMO_NAMES.items():
            for local, (entity, name) in entries.items():
                rows.append((kind, local, ids[(entity, name)], name))
        with transaction(ws.store):
            for kind, local, qbo_id, name in rows:
                ws.store.execute(
                    "INSERT OR REPLACE INTO mappings (company, kind, local_id, qbo_id, qbo_name, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [key, kind, local, qbo_id, name, utc_now_iso()],
                )


def invoices(n: int, *, start: int = 1, prefix: str = "B", date: str = "2026-11-02") -> list[dict]:
    """n finalized invoices of two lines each (one exempt, one taxable), numbers unique."""
    out = []
    for i in range(start, start + n):
        out.append(
            {
                "id": f"INV-{prefix}{i}",
                "number": f"{prefix}{i}",
                "client": CLIENTS[i % len(CLIENTS)]["id"],
                "date": date,
                "terms": TERMS[i % len(TERMS)]["id"],
                "status": "finalized",
                "lines": [
                    {
                        "service": "S-MSP",
                        "quantity": 1 + i % 20,
                        "unit_price": "150.00",
                        "tax_region": "TR-EX",
                    },
                    {
                        "service": "S-BACKUP",
                        "description": "Backup storage",
                        "quantity": 1 + i % 3,
                        "unit_price": "45.00",
                        "tax_region": "TR-HC",
                    },
                ],
            }
        )
    return out


def ledger_file(directory: Path, docs: list[dict], name: str = "ledger.json") -> Path:
    path = directory / name
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "clients": CLIENTS,
                "services": SERVICES,
                "tax_regions": TAX_REGIONS,
                "terms": TERMS,
                "invoices": docs,
            }
        )
    )
    return path


CLI = [sys.executable, "-c", "from qbsync.cli.app import main; main()"]


def cli(*args: str, check: bool = True) -> dict[str, Any]:
    """Run the real CLI in a child process with --json; returns the parsed answer."""
    proc = subprocess.run([*CLI, *args, "--json"], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"qbsync {' '.join(args)} exited {proc.returncode}: {proc.stdout}")
    result: dict[str, Any] = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return result


def ensure_company(key: str) -> None:
    from qbsync import config

    cfg = config.load()
    if key not in cfg.companies:
        config.save(config.set_value(cfg, f"companies.{key}.environment", "sim"))


def import_ledger(key: str, path: Path) -> dict[str, Any]:
    ensure_company(key)
    return cli("ledger", "import", str(path), "--company", key)


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
