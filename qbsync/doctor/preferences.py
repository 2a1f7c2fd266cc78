"""QuickBooks company preferences that change how sync behaves (auto-applied credit, invoice
numbering, multi-currency, automated sales tax)."""

from __future__ import annotations

from typing import Any

from qbsync.doctor.check import Check, qbo_company
from qbsync.ledger.store import client_currencies
from qbsync.workspace import Workspace


def _company_facts(ws: Workspace, key: str) -> tuple[Any, str] | None:
    """CompanyFacts from the cycle's cache, else read live when connected; with its source."""
    from qbsync.companies import records
    from qbsync.sync.payloads import CompanyFacts

    stored = records.read_facts(ws.store, key)
    if stored:
        data, fetched_at = stored
        return CompanyFacts(**data), f"as read {fetched_at[:16].replace('T', ' ')}"
    facts = _read_live(ws, key)
    return None if facts is None else (facts, "read now")


def _read_live(ws: Workspace, key: str) -> Any:
    """CompanyFacts read from QuickBooks now and stored for the sync (None: not connected)."""
    from qbsync.companies import records
    from qbsync.sync.payloads import CompanyFacts

    row = records.get_row(ws.store, key)
    if not row or not row["connected"] or row["needs_reconnect"]:
        return None
    from qbsync.companies.session import open_client, run

    async def read() -> tuple[dict[str, Any], dict[str, Any]]:
        async with open_client(ws, key) as client:
            return await client.company_info(), await client.preferences()

    info, prefs = run(read())
    facts = CompanyFacts.from_qbo(info, prefs)
    records.write_facts(ws.store, key, facts.__dict__)
    return facts


def refresh_preferences(ws: Workspace, company: str | None) -> list[Check]:
    """`doctor --refresh`: read the company's preferences (home currency, multi-currency,
    automated sales tax, ...) from QuickBooks again now, replacing the stored copy."""
    key = qbo_company(ws, company)
    if key is None:
        return []
    facts = _read_live(ws, key)
    if facts is None:
        return [
            Check(
                "preferences refresh",
                "warn",
                f"{key}: not connected, nothing read",
                f"qbsync connect --company {key}",
            )
        ]
    tax = "automated sales tax" if facts.automated_sales_tax else "manual tax codes"
    return [
        Check(
            "preferences refresh",
            "ok",
            f"{key}: read from QuickBooks now (home currency {facts.home_currency}, "
            f"multi-currency {'on' if facts.multi_currency else 'off'}, {tax})",
        )
    ]


def check_preferences(ws: Workspace, company: str | None) -> list[Check]:
    key = qbo_company(ws, company)
    if key is None:
        return []
    found = _company_facts(ws, key)
    if found is None:
        return [
            Check(
                "preferences",
                "warn",
                f"{key}: QuickBooks preferences not known yet (not connected)",
                f"qbsync connect --company {key}",
            )
        ]
    facts, source = found
    settings = ws.config.companies[key]
    checks: list[Check] = []
    if facts.auto_apply_credit:
        checks.append(
            Check(
                "auto-apply credit",
                "warn",
                f"{key}: QuickBooks applies open credits to new invoices on its own ({source}); "
                "it may consume a credit memo before qbsync applies it where the ledger did",
                "in QuickBooks: Settings > Account and settings > Advanced > Automation: turn "
                "off 'Automatically apply credits'",
            )
        )
    else:
        checks.append(Check("auto-apply credit", "ok", f"{key}: off ({source})"))
    # The API keeps a DocNumber it is sent whatever the setting; the setting decides whether
    # QuickBooks numbers invoices itself (off) or leaves a number out when none is given (on).
    settings_path = "Settings > Account and settings > Sales > Sales form content"
    if settings.numbering == "ledger" and not facts.custom_txn_numbers:
        checks.append(
            Check(
                "invoice numbers",
                "warn",
                f"{key}: the ledger numbers invoices, but custom transaction numbers are off: "
                "QuickBooks numbers invoices entered there from its own sequence, which can "
                "collide with the ledger's",
                f"in QuickBooks: {settings_path}: turn on 'Custom transaction numbers'",
            )
        )
    elif settings.numbering == "quickbooks" and facts.custom_txn_numbers:
        checks.append(
            Check(
                "invoice numbers",
                "warn",
                f"{key}: QuickBooks is to number invoices, but custom transaction numbers are on, "
                "so it leaves them without a number",
                f"in QuickBooks: {settings_path}: turn off 'Custom transaction numbers' (or "
                f"qbsync config set companies.{key}.numbering ledger)",
            )
        )
    else:
        who = "the ledger's" if settings.numbering == "ledger" else "QuickBooks'"
        checks.append(Check("invoice numbers", "ok", f"{key}: {who} numbers are used"))
    foreign = client_currencies(ws.store, key, other_than=facts.home_currency)
    if foreign and not facts.multi_currency:
        checks.append(
            Check(
                "multi-currency",
                "fail",
                f"{key}: clients are billed in {', '.join(foreign)} but multi-currency is off "
                f"(home currency {facts.home_currency})",
                "turn on multi-currency in QuickBooks (Settings > Account and settings > "
                "Advanced > Currency; it cannot be turned off again), or bill those clients in "
                f"{facts.home_currency}",
            )
        )
    else:
        state = "on" if facts.multi_currency else "off"
        checks.append(
            Check("multi-currency", "ok", f"{key}: {state}, home currency {facts.home_currency}")
        )
    if facts.automated_sales_tax:
        checks.append(
            Check(
                "sales tax",
                "warn",
                f"{key}: automated sales tax is on: QuickBooks computes the tax itself and "
                "ignores the mapped tax codes, so totals can differ from the ledger's",
                "map taxable regions to TAX and exempt ones to NON, and compare totals after the "
                "first export (qbsync invoices list)",
            )
        )
    else:
        checks.append(Check("sales tax", "ok", f"{key}: tax codes come from the mappings"))
    return checks
