"""`qbsync demo`: the whole story on the embedded simulator, in a home of its own.

Nothing here is staged: the simulator serves real sockets, the company connects through the real
OAuth flow (with the simulator's auto-consent standing in for the person who clicks Connect), and
every other step is a real qbsync command, exactly as a person would type it, run through the
`run_command` the caller supplies (the CLI runs it in-process; the story never imports the CLI).

Secrets: the demo's home sets `secrets: file`. It works on any host (no keyring, no desktop
session), it is announced once, and it keeps the demo's tokens inside the demo's home: removing
the home removes them, and a kept home (--home) stays self-consistent. Using the OS keyring would
leave demo entries behind in the user's keyring; an in-memory keyring would leave a kept home
whose tokens had vanished.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qbsync import paths
from qbsync.errors import QbsyncError, UsageError

DATA = Path(__file__).parent / "data"
LEDGER = DATA / "ledger.yaml"
MAPPINGS = DATA / "mappings.yaml"
COMPANY = "acme"


class DemoError(QbsyncError):
    pass


@dataclass
class Step:
    name: str
    command: str | None
    detail: str
    data: Any = None
    seconds: float = 0.0


@dataclass
class Story:
    home: str
    kept: bool
    steps: list[Step] = field(default_factory=list)
    health: dict[str, Any] | None = None
    explore: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "home": self.home,
            "kept": self.kept,
            "seconds": round(self.seconds, 2),
            "steps": [
                {
                    "name": s.name,
                    "command": s.command,
                    "detail": s.detail,
                    "seconds": round(s.seconds, 3),
                    "data": s.data,
                }
                for s in self.steps
            ],
            "health": self.health,
            "explore": self.explore,
        }


OnStep = Callable[[Step], None]
Progress = Callable[[str, int, int], None]
# Runs one qbsync command line (argv without the program name): (exit code, stdout, stderr).
RunCommand = Callable[[list[str]], tuple[int, str, str]]


def command_data(run_command: RunCommand, *args: str) -> Any:
    """Run a qbsync command with --json and return its data (DemoError on failure). The
    command's stderr (notes, the secrets-file announcement) is kept out of the story."""
    code, out, err = run_command([*args, "--json"])
    text = out.strip()
    payload = json.loads(text.splitlines()[-1]) if text else {}
    if code != 0 or "error" in payload:
        error = payload.get("error") or {}
        raise DemoError(
            f"demo step `qbsync {' '.join(args)}` failed: {error.get('message', err)}",
            error.get("hint"),
        )
    return payload.get("data")


@contextlib.contextmanager
def demo_home(home: str | None) -> Iterator[tuple[str, bool]]:
    """QBSYNC_HOME pointed at the demo's home for the duration; a temporary one is removed."""
    previous = os.environ.get(paths.HOME_ENV)
    kept = home is not None
    if home is None:
        where = tempfile.mkdtemp(prefix="qbsync-demo-")
    else:
        where = str(Path(home).expanduser().resolve())
        Path(where).mkdir(parents=True, exist_ok=True)
        if any(Path(where).iterdir()):
            raise UsageError(
                f"{where} is not empty",
                "give --home a new or empty directory (the demo builds a workspace there)",
            )
    os.environ[paths.HOME_ENV] = where
    try:
        yield where, kept
    finally:
        _release_log_file(where)
        if previous is None:
            os.environ.pop(paths.HOME_ENV, None)
        else:
            os.environ[paths.HOME_ENV] = previous
        if not kept:
            shutil.rmtree(where, ignore_errors=True)


def _release_log_file(home: str) -> None:
    from qbsync import logs

    logger = logging.getLogger(logs.LOG_NAME)
    for handler in list(logger.handlers):
        if str(getattr(handler, "baseFilename", "")).startswith(home):
            logger.removeHandler(handler)
            handler.close()
            if logs._handler is handler:
                logs._handler = None


def run_story(
    run_command: RunCommand,
    home: str | None = None,
    *,
    on_step: OnStep = lambda step: None,
    progress: Callable[[], contextlib.AbstractContextManager[Progress]] | None = None,
) -> Story:
    from qbsync.qbo.pacing import reset_pacers
    from qbsync.sim.server import SimServer

    started = time.monotonic()
    with demo_home(home) as (where, kept):
        story = Story(home=where, kept=kept)
        server = SimServer(seed="demo", auto_consent=True, limits="off")
        reset_pacers()
        try:
            _story(story, server, run_command, on_step, progress)
        finally:
            server.stop()
            reset_pacers()
        story.seconds = time.monotonic() - started
        story.explore = explore_commands(where if kept else None)
    return story


def _story(
    story: Story,
    server: Any,
    run_command: RunCommand,
    on_step: OnStep,
    progress: Callable[[], contextlib.AbstractContextManager[Progress]] | None,
) -> None:
    from qbsync import config as config_mod
    from qbsync.companies.connection import connect_company
    from qbsync.companies.credentials import set_app_credentials
    from qbsync.health import company_health
    from qbsync.qbo.authorize import headless_browser
    from qbsync.sim.control import SimControl
    from qbsync.sync.cycle import run_cycle
    from qbsync.workspace import Workspace

    def cli(*args: str) -> Any:
        return command_data(run_command, *args)

    def step(name: str, command: str | None, fn: Callable[[], tuple[str, Any]]) -> Any:
        t0 = time.monotonic()
        detail, data = fn()
        item = Step(name, command, detail, data, time.monotonic() - t0)
        story.steps.append(item)
        on_step(item)
        return data

    def start() -> tuple[str, Any]:
        server.start()
        return f"QuickBooks Online look-alike at {server.url}", {
            "url": server.url,
            "realm_id": server.realm_id,
        }

    step("start the simulator", "qbsync sim serve --auto-consent", start)

    ws = Workspace()
    try:

        def configure() -> tuple[str, Any]:
            cfg = config_mod.Config(secrets="file", default_company=COMPANY)
            ws.save_config(cfg)
            set_app_credentials(
                ws, COMPANY, server.client_id, server.client_secret, "sim", server.url
            )
            return (
                f"client id {server.client_id}; secrets in a 0600 file inside the demo home",
                {"client_id": server.client_id, "secrets": "file"},
            )

        step("store the app's credentials", "qbsync app set --env sim --client-id ID", configure)

        def connect() -> tuple[str, Any]:
            summary = connect_company(ws, COMPANY, "sim", server.url, open_url=headless_browser)
            return f"{summary.get('name') or COMPANY} (realm {server.realm_id}) connected", summary

        step("connect through OAuth", f"qbsync connect --company {COMPANY}", connect)

        def import_ledger() -> tuple[str, Any]:
            data = cli("ledger", "import", str(LEDGER), "--company", COMPANY)
            return _counts_line(data), data

        step("import the sample ledger", f"qbsync ledger import {LEDGER.name}", import_ledger)

        def import_mappings() -> tuple[str, Any]:
            # The sample file maps customers too; they are left out here so that the wizard
            # matches them, as it would for a company whose customers already exist in QuickBooks.
            import yaml

            doc = yaml.safe_load(MAPPINGS.read_text(encoding="utf-8"))
            doc.pop("customers", None)
            copy = Path(story.home) / MAPPINGS.name
            copy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            data = cli("mappings", "import", str(copy), "--company", COMPANY)
            added = data.get("added", []) if isinstance(data, dict) else []
            kinds = sorted({m["kind"].replace("_", " ") for m in added})
            return (
                f"{len(added)} mapped by name ({', '.join(kinds)}); customers left to the wizard",
                data,
            )

        step("import the mappings", f"qbsync mappings import {MAPPINGS.name}", import_mappings)

        def wizard() -> tuple[str, Any]:
            data = cli("wizard", "customers", "--accept-exact", "--company", COMPANY)
            accepted = data.get("accepted", []) if isinstance(data, dict) else []
            return f"{len(accepted)} clients matched to QuickBooks customers by exact name", data

        step("match customers", "qbsync wizard customers --accept-exact", wizard)

        def sync_once() -> tuple[str, Any]:
            if progress is None:
                result = run_cycle(ws, COMPANY, trigger="demo")
            else:
                with progress() as bars:
                    result = run_cycle(ws, COMPANY, trigger="demo", progress=bars)
            data = result.as_dict()
            if data["result"] != "succeeded":
                raise DemoError(f"the demo's sync cycle {data['result']}: {data['summary']}")
            return _cycle_line(data), data

        step("first sync cycle", "qbsync sync run", sync_once)

        control = SimControl(server.url, server.admin_key)
        try:
            realm = server.realm_id

            def totals_agree() -> tuple[str, Any]:
                return _totals_agree(ws, control, realm, cli)

            step(
                "totals agree to the cent",
                "qbsync exceptions list --kind total_mismatch",
                totals_agree,
            )

            def quickbooks_side() -> tuple[str, Any]:
                paid = _link(ws, "INV-1002")
                edited = _link(ws, "INV-1003")
                invoice = control.get(realm, "Invoice", paid)
                balance = f"{_decimal(invoice['Balance']):.2f}"
                payment = control.record_payment(
                    realm, invoice["CustomerRef"]["value"], balance, invoice_id=paid
                )
                doc = control.get(realm, "Invoice", edited)
                lines = [ln for ln in doc["Line"] if ln.get("DetailType") == "SalesItemLineDetail"]
                detail = lines[0]["SalesItemLineDetail"]
                qty = _decimal(detail["Qty"])
                detail["Qty"] = str(qty + 1)
                lines[0]["Amount"] = str((qty + 1) * _decimal(detail["UnitPrice"]))
                control.edit_invoice(realm, edited, {"Line": lines})
                return (
                    f"a user records a payment of {balance} on invoice 1002 and changes the "
                    f"quantity on invoice 1003 from {qty.normalize()} to {(qty + 1).normalize()}",
                    {"payment_id": payment["Id"], "amount": balance, "edited_invoice": edited},
                )

            step("meanwhile, in QuickBooks", None, quickbooks_side)
        finally:
            control.close()

        step("second sync cycle", "qbsync sync run", sync_once)

        def payment_applied() -> tuple[str, Any]:
            data = cli("invoices", "show", "INV-1002", "--company", COMPANY)
            by_source = ", ".join(f"{p['amount']} {p['source']}" for p in data["payments"])
            return (
                f"invoice 1002 paid {data['paid']} in all ({by_source})",
                {"paid": data["paid"], "payments": data["payments"]},
            )

        step("the payment reached the ledger", "qbsync invoices show INV-1002", payment_applied)

        drift: dict[str, Any] = {}

        def show_drift() -> tuple[str, Any]:
            rows = cli("exceptions", "list", "--open", "--kind", "drift_changed")
            if not rows:
                raise DemoError("the edit in QuickBooks raised no drift exception")
            drift.update(rows[0])
            return f"#{drift['id']}: {drift['message']}", rows

        step("the edit is drift", "qbsync exceptions list --open", show_drift)

        def resolve() -> tuple[str, Any]:
            # The edit changed what the customer owes: the ledger's version goes back (an
            # --accept would leave the two books apart, and is refused).
            data = cli("exceptions", "resolve", str(drift["id"]), "--reexport", "--note", "demo")
            return "sent the ledger's version again: QuickBooks holds invoice 1003 as billed", data

        step("resolve it", f"qbsync exceptions resolve {drift['id']} --reexport", resolve)

        step("a last, idle cycle", "qbsync sync run", sync_once)

        def health() -> tuple[str, Any]:
            cfg = config_mod.load()
            data = company_health(ws.store, cfg, COMPANY, cfg.companies[COMPANY])
            story.health = data
            return f"{data['level']}: next: {data['next']['command']}", None

        step("sync health", "qbsync status", health)
    finally:
        ws.close()


def _totals_agree(ws: Any, control: Any, realm: str, cli: Callable[..., Any]) -> tuple[str, Any]:
    """Each exported document's total and tax, the ledger's against QuickBooks' (every create
    was verified; a difference would be an open total_mismatch exception)."""
    from qbsync.sync import links

    rows = cli("ledger", "export", "invoices", "--company", COMPANY)
    figures = []
    for row in rows:
        link = links.by_local(ws.store, COMPANY, "invoice", row["id"])
        if link is None:
            continue
        doc = control.get(realm, link.qbo_entity, link.qbo_id)
        theirs = f"{_decimal(doc['TotalAmt']):.2f}"
        tax = f"{_decimal((doc.get('TxnTaxDetail') or {}).get('TotalTax') or 0):.2f}"
        figures.append(
            {
                "number": row["number"],
                "ledger_total": row["total"],
                "ledger_tax": row["tax"],
                "quickbooks_total": theirs,
                "quickbooks_tax": tax,
            }
        )
    mismatches = cli("exceptions", "list", "--open", "--kind", "total_mismatch")
    differ = [
        f
        for f in figures
        if (f["ledger_total"], f["ledger_tax"]) != (f["quickbooks_total"], f["quickbooks_tax"])
    ]
    if mismatches or differ:
        raise DemoError(f"the demo's documents disagree with QuickBooks: {differ or mismatches}")
    taxed = [f for f in figures if f["ledger_tax"] != "0.00"]
    shown = "; ".join(
        f"{f['number']}: {f['ledger_total']} incl. {f['ledger_tax']} tax" for f in taxed
    )
    return (
        f"{len(figures)} documents verified, ledger = QuickBooks to the cent ({shown}); "
        "0 total_mismatch",
        {"documents": figures, "total_mismatch": len(mismatches)},
    )


def _decimal(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(str(value))


def _link(ws: Any, invoice_id: str) -> str:
    from qbsync.sync import links

    link = links.by_local(ws.store, COMPANY, "invoice", invoice_id)
    if link is None:
        raise DemoError(f"{invoice_id} did not reach QuickBooks in the first cycle")
    return link.qbo_id


def _counts_line(data: Any) -> str:
    """'4 clients, 4 services, ...' from an import summary ({kind: {added, updated, ...}})."""
    counts = data.get("counts") if isinstance(data, dict) else None
    if not isinstance(counts, dict):
        return "imported"
    parts = []
    for kind, c in counts.items():
        n = c.get("added", 0) + c.get("updated", 0) if isinstance(c, dict) else c
        if isinstance(n, int) and n:
            parts.append(f"{n} {kind.replace('_', ' ')}")
    ops = sum(data.get("ops", {}).values()) if isinstance(data.get("ops"), dict) else 0
    return ", ".join(parts) + (f"; {ops} operations queued for QuickBooks" if ops else "")


def _cycle_line(data: dict[str, Any]) -> str:
    s = data["stats"]
    return (
        f"{data['result']}: {s.get('exported', 0)} exported, {s['payments_applied']} payments "
        f"applied, {s['drift_found']} drift, {s['api_calls']} API calls"
    )


def explore_commands(kept_home: str | None) -> list[str]:
    """What to run next. A kept home works offline (the simulator stopped with the demo)."""
    local = [
        "qbsync status",
        "qbsync sync history",
        "qbsync invoices list",
        "qbsync exceptions list",
        "qbsync invoices export --csv invoices.csv   # the offline fallback",
    ]
    if kept_home:
        return [f"QBSYNC_HOME={kept_home} {c}" for c in local]
    return [
        "qbsync demo --home ./qbsync-demo    # keep the demo's workspace to look around",
        *(f"QBSYNC_HOME=./qbsync-demo {c}" for c in local[:3]),
        "qbsync sim serve                     # the simulator, to connect to yourself",
        "qbsync --help",
    ]
