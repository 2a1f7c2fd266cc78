"""QuickBooks customers for ledger clients, before their invoices are exported.

An export whose client has no customer mapping waits on `customers.create`: ask or never, a
customer_missing exception until someone maps the client; auto, the customer is looked up
first (display name, then e-mail; inactive customers included, as QuickBooks' unique names
include them) and adopted, or created in batches, parents before their sub-customers, with the
currency set once. A clash (the name held by an inactive customer, or by a vendor or employee:
error 6240) is a customer_name_clash exception naming what holds the name. The mapping is
written as the customer is found or made, so the invoices export in the same cycle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from qbsync.ledger import clients as ledger_clients
from qbsync.ledger import lookup
from qbsync.mappings.store import Mapping, apply_diff, diff_entries, list_mappings
from qbsync.mappings.store import lookup as mapped_id
from qbsync.outbox import Op
from qbsync.qbo.batch import BatchItem
from qbsync.qbo.errors import QboError
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.sync import customer_baselines as baselines
from qbsync.sync import payloads
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions, open_data
from qbsync.sync.outbound.opstate import FATAL, fail, label

MISSING_HINT = (
    "map it: qbsync mappings set customers {client} QBO_ID (or NAME); or let qbsync create "
    "customers: qbsync config set companies.{company}.customers.create auto"
)


class Problem(Exception):
    """Why a client's customer could not be found or made: the kind and message for its ops."""

    def __init__(self, kind: Kind, message: str, hint: str):
        super().__init__(message)
        self.kind, self.message, self.hint = kind, message, hint


def _fold(text: Any) -> str:
    return str(text or "").strip().casefold()


def _email(doc: dict[str, Any]) -> str:
    return _fold((doc.get("PrimaryEmailAddr") or {}).get("Address"))


class Directory:
    """Every QuickBooks customer, active or not, read once per cycle when one is needed."""

    def __init__(self, records: list[dict[str, Any]]):
        self.by_name: dict[str, dict[str, Any]] = {}
        self.by_email: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in records:
            self.add(doc)

    def add(self, doc: dict[str, Any]) -> None:
        self.by_name[_fold(doc.get("DisplayName"))] = doc
        if _email(doc) and doc.get("Active", True) is not False:
            self.by_email[_email(doc)].append(doc)

    def find(self, client: dict[str, Any]) -> dict[str, Any] | None:
        """The active customer that is this client, None when there is none; Problem when the
        client's name is held by a customer that cannot be it."""
        name = client["name"]
        doc = self.by_name.get(_fold(name))
        if doc is not None:
            label = f"{doc.get('DisplayName')} (id {doc['Id']})"
            if doc.get("Active", True) is False:
                raise Problem(
                    Kind.CUSTOMER_CLASH,
                    f"client {client['id']}: its name {name!r} is held by the inactive "
                    f"QuickBooks customer {label}",
                    "make that customer active again in QuickBooks (it is then adopted), or "
                    f"map the client to another: qbsync mappings set customers {client['id']} "
                    "QBO_ID, or rename the client in the billing system",
                )
            mine = _fold(client.get("email"))
            if mine and _email(doc) and _email(doc) != mine:
                raise Problem(
                    Kind.CUSTOMER_CLASH,
                    f"client {client['id']}: the QuickBooks customer {label} has its name but the "
                    f"e-mail {_email(doc)}, not {mine}",
                    f"if it is the same customer: qbsync mappings set customers {client['id']} "
                    f"{doc['Id']}; otherwise rename the client in the billing system",
                )
            return doc
        if client.get("email"):
            same = self.by_email.get(_fold(client["email"])) or []
            if len(same) == 1:
                return same[0]
        return None


async def _directory(ctx: CycleContext) -> Directory:
    active = await ctx.client.query_all("Customer")
    inactive = await ctx.client.query_all("Customer", "Active = false")
    return Directory([*active, *inactive])


def _client_of(ctx: CycleContext, op: Op) -> str | None:
    inv = lookup.invoice(ctx.db, ctx.company, op.subject_id)
    return str(inv["client_id"]) if inv else None


def _save(ctx: CycleContext, client_id: str, doc: dict[str, Any]) -> None:
    entry = Mapping("customers", client_id, str(doc["Id"]), doc.get("DisplayName"))
    with transaction(ctx.db):
        diff = diff_entries(ctx.db, ctx.company, [entry])
        if not diff.empty:
            apply_diff(ctx.db, ctx.company, diff)
        baselines.save(ctx.db, ctx.company, client_id, str(doc["Id"]), payloads.qbo_shape(doc))


async def ensure(ctx: CycleContext, ops: list[Op]) -> list[Op]:
    """The ops whose client has a customer (found or made now); the others are failed with
    the exception a person resolves."""
    waiting: dict[str, list[Op]] = defaultdict(list)
    ready: list[Op] = []
    for op in ops:
        client_id = _client_of(ctx, op)
        if client_id is None or payloads.mapped(ctx.db, ctx.company, "customers", client_id):
            ready.append(op)  # the payload names what is wrong, if anything
        else:
            waiting[client_id].append(op)
    if not waiting:
        return ready
    problems: dict[str, Problem] = {}
    auto = ctx.settings.customers.create == "auto" and ctx.settings.customer_sync
    if not auto:
        for client_id in waiting:
            problems[client_id] = Problem(
                Kind.CUSTOMER_MISSING,
                f"client {client_id!r} has no QuickBooks customer",
                MISSING_HINT.format(client=client_id, company=ctx.company),
            )
    else:
        problems = await _find_or_create(ctx, list(waiting))
    for client_id, client_ops in waiting.items():
        problem = problems.get(client_id)
        if problem is None:
            ready.extend(client_ops)
            continue
        for op in client_ops:
            fail(
                ctx,
                op,
                problem.message,
                kind=problem.kind,
                hint=problem.hint,
                needs_person=True,
                data={"client": client_id},
            )
    return ready


def _with_parents(ctx: CycleContext, client_ids: list[str]) -> list[list[dict[str, Any]]]:
    """The clients to settle, with any unmapped parents, in levels: parents first."""
    found: dict[str, dict[str, Any]] = {}
    todo = list(client_ids)
    while todo:
        cid = todo.pop()
        if cid in found:
            continue
        client = ledger_clients.get(ctx.db, ctx.company, cid)
        if client is None:
            continue
        found[cid] = client
        parent = client.get("parent_id")
        if parent and not payloads.mapped(ctx.db, ctx.company, "customers", parent):
            todo.append(parent)

    def depth(cid: str) -> int:
        parent = found[cid].get("parent_id")
        return 0 if parent not in found else 1 + depth(parent)

    levels: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for cid in sorted(found):
        levels[depth(cid)].append(found[cid])
    return [levels[d] for d in sorted(levels)]


async def _find_or_create(ctx: CycleContext, client_ids: list[str]) -> dict[str, Problem]:
    facts = await ctx.facts()
    directory = await _directory(ctx)
    problems: dict[str, Problem] = {}
    for level in _with_parents(ctx, client_ids):
        creating: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for client in level:
            cid = client["id"]
            parent = client.get("parent_id")
            if parent and parent in problems:
                problems[cid] = Problem(
                    problems[parent].kind,
                    f"client {cid}: its parent client {parent} has no customer: "
                    f"{problems[parent].message}",
                    problems[parent].hint,
                )
                continue
            try:
                doc = directory.find(client)
            except Problem as problem:
                problems[cid] = problem
                continue
            if doc is not None:
                _save(ctx, cid, doc)
                ctx.stats.customers_linked += 1
                continue
            parent_id = payloads.mapped(ctx.db, ctx.company, "customers", parent)
            creating.append(
                (client, payloads.customer(ctx.db, ctx.company, facts, client, parent_id))
            )
        problems |= await _create(ctx, directory, creating)
    return problems


async def _create(
    ctx: CycleContext,
    directory: Directory,
    creating: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, Problem]:
    problems: dict[str, Problem] = {}
    size = max(1, ctx.client.limits.batch_items)
    if ctx.dry_run:
        _would_create(ctx, directory, creating, size)
        return problems
    for start in range(0, len(creating), size):
        chunk = creating[start : start + size]
        items = [
            BatchItem(bid=str(n), operation="create", entity="Customer", body=body)
            for n, (_, body) in enumerate(chunk)
        ]
        try:
            results = await ctx.client.batch(items)
        except FATAL:
            raise
        except QboError as err:
            for client, _ in chunk:
                problems[client["id"]] = _refused(client, err)
            continue
        by_bid = {r.bid: r for r in results}
        for n, (client, _) in enumerate(chunk):
            result = by_bid.get(str(n))
            if result is None or result.fault is not None:
                problems[client["id"]] = _refused(client, result.fault if result else None)
                continue
            doc = result.body or {}
            directory.add(doc)
            _save(ctx, client["id"], doc)
            ctx.stats.customers_created += 1
    return problems


def _would_create(
    ctx: CycleContext,
    directory: Directory,
    creating: list[tuple[dict[str, Any], dict[str, Any]]],
    size: int,
) -> None:
    """A dry run says which customers it would create, in which batches, and goes on as if it
    had: in its private copy of the store each client gets a stand-in id (`new:CLIENT`), so
    that its invoices are planned too and show whose customer they would name."""
    first = 1 + max((s.get("batch", 0) for s in ctx.stats.would_send), default=0)
    for n, (client, body) in enumerate(creating):
        ctx.stats.would_send.append(
            {"create": "Customer", "client": client["id"], "batch": first + n // size, "body": body}
        )
        stand_in = {"Id": f"new:{client['id']}", "DisplayName": body.get("DisplayName")}
        directory.add(stand_in)
        _save(ctx, client["id"], stand_in)
        ctx.stats.customers_created += 1


def _refused(client: dict[str, Any], err: QboError | None) -> Problem:
    cid = client["id"]
    if err is None:
        return Problem(
            Kind.CUSTOMER_MISSING,
            f"client {cid}: QuickBooks' batch answer left its customer out",
            "nothing to do: the next cycle looks it up by name first",
        )
    if err.qbo_code == "6240":
        return Problem(
            Kind.CUSTOMER_CLASH,
            f"client {cid}: QuickBooks refused the customer {client['name']!r}: the name is "
            f"taken by another customer, vendor or employee ({err.message})",
            "rename the client in the billing system, or rename what holds the name in "
            f"QuickBooks, or map the client: qbsync mappings set customers {cid} QBO_ID",
        )
    return Problem(
        Kind.CUSTOMER_MISSING,
        f"client {cid}: QuickBooks refused its customer: {err.message}",
        "fix the client in the billing system (or the cause QuickBooks names), then: "
        "qbsync exceptions resolve ID --retry",
    )


async def push_updates(ctx: CycleContext, candidates: list[baselines.Baseline]) -> None:
    """Send each changed client to its customer (sparse update) when `customers.update` is on,
    and any the accountant chose to overwrite QuickBooks' changes with. Only customers qbsync
    created, adopted or accepted have a baseline to tell a change by; a customer with open
    drift waits for the accountant unless told to overwrite. `candidates`: the baselines to
    compare (customer_baselines.candidates)."""
    db, company = ctx.db, ctx.company
    every = ctx.settings.customers.update
    mapped_of, client_of = _lookups(db, company, together=every)
    for base in candidates:
        cid = base.client_id
        mapped = mapped_of(cid)
        client = client_of(cid)
        if client is None or mapped is None or base.qbo_id != str(mapped):
            continue
        ours = payloads.client_shape(client)
        if not base.push:
            if not ctx.settings.customers.update or ours == base.shape:
                continue
            if open_data(db, company, Kind.CUSTOMER_CHANGED, "client", cid) is not None:
                continue
        try:
            current = await ctx.client.read("Customer", base.qbo_id)
            body = {"Id": base.qbo_id, "SyncToken": current.get("SyncToken")}
            body |= {"DisplayName": client["name"]}
            body |= payloads.contact(db, company, client)
            doc = await ctx.client.update("Customer", body)
        except FATAL:
            raise
        except QboError as err:
            problem = _refused(client, err)
            ctx.raise_exception(
                problem.kind,
                "client",
                cid,
                label=f"client {client['name']}",
                qbo_entity="Customer",
                qbo_id=base.qbo_id,
                message=problem.message.replace("its customer", "the update of its customer"),
                hint=problem.hint,
            )
            continue
        with transaction(db):
            baselines.save(db, company, cid, base.qbo_id, payloads.qbo_shape(doc))
            close_exceptions(
                db, company, [Kind.CUSTOMER_CHANGED, Kind.CUSTOMER_CLASH], "client", cid
            )
        ctx.stats.customers_updated += 1


def _lookups(
    db: Database, company: str, *, together: bool
) -> tuple[Callable[[str], str | None], Callable[[str], dict[str, Any] | None]]:
    """A client's mapped customer and the client: read together when every linked client is
    compared (two statements, not two a client), else one at a time (the few marked to push)."""
    if not together:
        return (
            lambda cid: mapped_id(db, company, "customers", cid),
            lambda cid: ledger_clients.get(db, company, cid),
        )
    mapped = {m.local_id: m.qbo_id for m in list_mappings(db, company, "customers")}
    clients = {c["id"]: c for c in ledger_clients.all_clients(db, company)}
    return mapped.get, clients.get


def fallback_used(ctx: CycleContext, op: Op, used: list[str]) -> None:
    """A warning in the exception list for each document sent with a fallback item or tax code:
    never silent. Dismiss it once the mapping is right (later exports then need no fallback)."""
    name = label(ctx, op)
    with transaction(ctx.db):
        ctx.raise_exception(
            Kind.FALLBACK_USED,
            op.subject_type,
            op.subject_id,
            label=name,
            message=f"{name}: " + "; ".join(used),
            hint="map them (qbsync mappings set), then: qbsync exceptions resolve ID --dismiss",
            data={"op": op.id, "fallbacks": used},
        )
