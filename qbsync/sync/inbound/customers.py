"""Customers changed in QuickBooks: a mapped customer made inactive, merged or deleted leaves its
client with nowhere to send documents: an exception, closed when the customer comes back or the
client is mapped to another one."""

from __future__ import annotations

from typing import Any

from qbsync.ledger import clients as ledger_clients
from qbsync.ledger import lookup
from qbsync.mappings.store import lookup as mapped_id
from qbsync.mappings.store import mapped_to
from qbsync.sync import customer_baselines as baselines
from qbsync.sync import payloads
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions, open_with_qbo_id
from qbsync.sync.inbound.window import deleted


class ClientsByCustomer:
    """QuickBooks customer id -> the ledger client mapped to it (the first by client id), each
    looked up once per window on an index (the appliers never change mappings)."""

    def __init__(self, ctx: CycleContext):
        self.ctx = ctx
        self._found: dict[str, str | None] = {}

    def get(self, qbo_id: str) -> str | None:
        if qbo_id not in self._found:
            self._found[qbo_id] = mapped_to(self.ctx.db, self.ctx.company, "customers", qbo_id)
        return self._found[qbo_id]


def apply_customer(ctx: CycleContext, obj: dict[str, Any], clients: ClientsByCustomer) -> None:
    client_id = clients.get(str(obj["Id"]))
    if client_id is None:
        return
    client = lookup.client(ctx.db, ctx.company, client_id) or {}
    if deleted(obj) or obj.get("Active") is False:
        how = "deleted" if deleted(obj) else "made inactive (or merged into another customer)"
        name = obj.get("DisplayName") or f"id {obj['Id']}"
        ctx.raise_exception(
            Kind.CUSTOMER_UNAVAILABLE,
            "client",
            client_id,
            label=f"client {client.get('name', client_id)}",
            qbo_entity="Customer",
            qbo_id=str(obj["Id"]),
            message=f"client {client.get('name', client_id)}: its QuickBooks customer {name} was {how}",
            hint="map the client to the surviving customer (qbsync mappings set customers "
            f"{client_id} QBO_ID), or make the customer active again in QuickBooks",
        )
    else:
        close_exceptions(ctx.db, ctx.company, [Kind.CUSTOMER_UNAVAILABLE], "client", client_id)
        if ctx.settings.customer_sync:
            customer_drift(ctx, obj, client_id)


FIELD_NAMES = {
    "name": "name",
    "email": "e-mail",
    "phone": "phone",
    "bill_address": "billing address",
    "ship_address": "shipping address",
}


def customer_drift(ctx: CycleContext, obj: dict[str, Any], client_id: str) -> None:
    """A linked customer changed in QuickBooks: what it holds now differs from what qbsync
    last wrote (its baseline) and from the ledger's client: a customer_changed_in_qbo
    exception, resolved by accepting QuickBooks' version into the ledger or re-pushing the
    ledger's. A change that makes it the ledger's version again just moves the baseline."""
    db, company = ctx.db, ctx.company
    client = ledger_clients.get(db, company, client_id)
    base = baselines.get(db, company, client_id)
    if client is None or base is None or base.qbo_id != str(obj["Id"]):
        return  # a customer mapped by hand: nothing known to compare with
    theirs = payloads.qbo_shape(obj)
    ours = payloads.client_shape(client)
    if theirs == ours:
        baselines.save(db, company, client_id, base.qbo_id, theirs)
        close_exceptions(db, company, [Kind.CUSTOMER_CHANGED], "client", client_id)
        return
    if theirs == base.shape:
        return  # QuickBooks holds what qbsync last wrote; the ledger moved (customers.update)
    changed = [FIELD_NAMES[k] for k in theirs if theirs[k] != ours[k]]
    name = client.get("name", client_id)
    raised = ctx.raise_exception(
        Kind.CUSTOMER_CHANGED,
        "client",
        client_id,
        label=f"client {name}",
        qbo_entity="Customer",
        qbo_id=base.qbo_id,
        message=f"client {name}: its QuickBooks customer was changed there "
        f"({', '.join(changed)} differ from the ledger's)",
        hint="take QuickBooks' version into the ledger (qbsync exceptions resolve ID --accept; "
        "`qbsync ledger export clients` then hands it to billing), or send the ledger's "
        "(--reexport)",
        data={"qbo": theirs, "ledger": ours, "fields": changed},
    )
    if raised.new:
        ctx.stats.drift_found += 1


def heal_remapped_clients(ctx: CycleContext) -> None:
    """A client mapped to another customer since its customer went away (merged, deleted) has
    nothing left to fix: its exception resolves itself."""
    for client_id, gone in open_with_qbo_id(ctx.db, ctx.company, Kind.CUSTOMER_UNAVAILABLE):
        now = mapped_id(ctx.db, ctx.company, "customers", client_id)
        if now is not None and now != gone:
            close_exceptions(ctx.db, ctx.company, [Kind.CUSTOMER_UNAVAILABLE], "client", client_id)
