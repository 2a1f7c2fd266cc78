"""The wizard's steps as functions of a workspace and a company: what the CLI (scripted or
interactive) calls. QuickBooks is read through the company's client; ledger writes are
transactions on the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qbsync.companies.session import open_client, run
from qbsync.store.tx import transaction
from qbsync.sync import context, links
from qbsync.sync.context import CycleContext
from qbsync.sync.lock import company_lock
from qbsync.views.unlinked import unlinked_documents
from qbsync.wizard import customers as cust
from qbsync.wizard import decisions, history, plan
from qbsync.wizard.matching import Customer, counts
from qbsync.workspace import Workspace

SOURCE_PLAN = "plan"


def read_customers(ws: Workspace, key: str) -> list[Customer]:
    async def go() -> list[Customer]:
        async with open_client(ws, key) as client:
            return await cust.fetch_customers(client)

    return run(go())


def customer_step(ws: Workspace, key: str) -> cust.CustomerStep:
    return cust.build(ws.store, key, read_customers(ws, key), ws.config.fuzzy_threshold)


def create_and_map(
    ws: Workspace,
    key: str,
    client_id: str,
    name: str,
    email: str | None,
    customers: list[Customer],
    *,
    source: str,
) -> Customer:
    """Create the customer in QuickBooks (InputError naming the holder on a 6240 clash), then
    map the client to it."""

    async def go() -> Customer:
        async with open_client(ws, key) as client:
            return await cust.create_customer(client, name, email, customers)

    created = run(go())
    with transaction(ws.store):
        decisions.map_customer(
            ws.store, key, client_id, created.qbo_id, created.name, action="create", source=source
        )
    return created


def customers_plan_out(ws: Workspace, key: str, path: Path) -> dict[str, Any]:
    step = customer_step(ws, key)
    written = plan.customers_out(path, key, step.proposals)
    return {
        "company": key,
        "plan": str(path),
        "entries": sum(written.values()),
        "proposed": written,
    }


def apply_customers_plan(ws: Workspace, key: str, path: Path) -> dict[str, Any]:
    """Validate every entry, then create the customers asked for, then write every mapping and
    decision in one transaction."""
    customers = read_customers(ws, key)
    clients = {c.id: c for c in cust.load_clients(ws.store, key)}
    checked = plan.check_customers(
        path,
        key,
        {k: v.name for k, v in clients.items()},
        customers,
        decisions.customer_mappings(ws.store, key),
    )
    plan.raise_errors(checked)
    created: dict[str, Customer] = {}
    with company_lock(key, "wizard customers --plan"):
        to_create = [e for e in checked.entries if e.action == "create"]
        if to_create:

            async def go() -> None:
                async with open_client(ws, key) as client:
                    for e in to_create:
                        try:
                            created[e.subject] = await cust.create_customer(
                                client,
                                e.qbo_name or clients[e.subject].name,
                                clients[e.subject].email,
                                customers,
                            )
                        except Exception:
                            # Keep what QuickBooks holds already mapped: never an orphan.
                            with transaction(ws.store):
                                for subject, c in created.items():
                                    decisions.map_customer(
                                        ws.store,
                                        key,
                                        subject,
                                        c.qbo_id,
                                        c.name,
                                        action="create",
                                        source=SOURCE_PLAN,
                                    )
                            raise

            run(go())
        result = {"linked": 0, "created": 0, "skipped": 0, "left_for_review": 0}
        with transaction(ws.store):
            for e in checked.entries:
                if e.action == "link" and e.qbo_id:
                    decisions.map_customer(
                        ws.store, key, e.subject, e.qbo_id, e.qbo_name or "", source=SOURCE_PLAN
                    )
                    result["linked"] += 1
                elif e.action == "create":
                    c = created[e.subject]
                    decisions.map_customer(
                        ws.store,
                        key,
                        e.subject,
                        c.qbo_id,
                        c.name,
                        action="create",
                        source=SOURCE_PLAN,
                    )
                    result["created"] += 1
                elif e.action == "skip":
                    decisions.record(
                        ws.store, key, "customers", e.subject, "skip", source=SOURCE_PLAN
                    )
                    result["skipped"] += 1
                else:
                    result["left_for_review"] += 1
    return {"company": key, "plan": str(path), **result}


def customers_summary(step: cust.CustomerStep) -> dict[str, Any]:
    return {
        "company": step.company,
        "counts": counts(step.proposals),
        "proposals": [p.as_dict() for p in step.proposals if p.status != "mapped"],
    }


# --- history -------------------------------------------------------------------------------


def read_documents(ws: Workspace, key: str) -> dict[str, list[dict[str, Any]]]:
    async def go() -> dict[str, list[dict[str, Any]]]:
        async with open_client(ws, key) as client:
            return await history.fetch_documents(client)

    return run(go())


def history_proposals(ws: Workspace, key: str) -> list[history.DocProposal]:
    return history.propose(ws.store, key, read_documents(ws, key))


@contextmanager
def cycle_context(ws: Workspace, key: str) -> Iterator[CycleContext]:
    _, settings = ws.company(key)
    with company_lock(key, "wizard history"):
        yield context.for_company(ws, key, settings)


def link_history(
    ws: Workspace, key: str, chosen: list[tuple[str, str, dict[str, Any]]], *, source: str
) -> dict[str, Any]:
    with cycle_context(ws, key) as ctx:

        async def go() -> history.LinkResult:
            async with open_client(ws, key) as client:
                ctx.client = client
                return await history.link_documents(ctx, chosen, source=source)

        result = run(go())
    return {
        "linked": result.linked,
        "payments_read": result.payments_read,
        "payments_applied": result.payments_applied,
        "payments_waiting": result.waiting,
    }


def history_summary(key: str, proposals: list[history.DocProposal]) -> dict[str, Any]:
    tally: dict[str, int] = {"confident": 0, "review": 0, "missing": 0}
    for p in proposals:
        tally[p.status] += 1
    return {
        "company": key,
        "counts": tally,
        "proposals": [p.as_dict() for p in proposals if p.status != "missing"],
    }


def history_plan_out(ws: Workspace, key: str, path: Path) -> dict[str, Any]:
    written = plan.history_out(path, key, history_proposals(ws, key))
    return {
        "company": key,
        "plan": str(path),
        "entries": sum(written.values()),
        "proposed": written,
    }


def apply_history_plan(ws: Workspace, key: str, path: Path) -> dict[str, Any]:
    documents = read_documents(ws, key)
    by_id = {e: {str(d["Id"]): d for d in docs} for e, docs in documents.items()}
    ledger = {r["id"]: r for r in unlinked_documents(ws.store, key)}
    linked_qbo = links.qbo_index(ws.store, key)
    checked = plan.check_history(path, key, ledger, by_id, linked_qbo)
    plan.raise_errors(checked)
    chosen = [
        (e.subject, e.qbo_name or "Invoice", by_id[e.qbo_name or "Invoice"][e.qbo_id or ""])
        for e in checked.entries
        if e.action == "link"
    ]
    skips = [e.subject for e in checked.entries if e.action == "skip"]
    with transaction(ws.store):
        for subject in skips:
            history.record_skip(ws.store, key, subject, source=SOURCE_PLAN)
    result = link_history(ws, key, chosen, source=SOURCE_PLAN) if chosen else {"linked": 0}
    return {
        "company": key,
        "plan": str(path),
        **result,
        "skipped": len(skips),
        "left_for_review": sum(1 for e in checked.entries if e.action == "review"),
    }
