"""Plan files: the wizard's proposals written out for editing (`--plan-out`), and an edited
plan applied all-or-nothing (`--plan`): every entry is validated first, every error names its
line, and nothing is written unless all of them pass.

Actions: `link` (to `qbo_id`), `create` (customers only: a new QuickBooks customer named
`qbo_name`, else the client's name), `skip` (decided: leave it alone, remembered), `review`
(undecided: nothing is done).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qbsync import paths
from qbsync.errors import InputError
from qbsync.wizard.history import DocProposal
from qbsync.wizard.matching import Customer, Proposal
from qbsync.yamlfile import LocatedYaml, read_located

ACTIONS = {
    "customers": ("link", "create", "skip", "review"),
    "history": ("link", "skip", "review"),
}
HEADER = """\
# qbsync wizard plan: {step} for company {company}, written {at}.
# Edit `action` on each entry, then apply with: qbsync wizard {step} --plan FILE --company {company}
# action: {actions}
#   link   = link to qbo_id{create}
#   skip   = leave it alone (remembered)
#   review = undecided: nothing is done
# The plan is applied all-or-nothing: if any entry is wrong, nothing is written.
"""


def _dump(path: Path, step: str, company: str, entries: list[dict[str, Any]]) -> None:
    head = HEADER.format(
        step=step,
        company=company,
        at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        actions=" | ".join(ACTIONS[step]),
        create=(
            "\n#   create = a new QuickBooks customer named qbo_name (default: the client's name)"
            if step == "customers"
            else ""
        ),
    )
    body = yaml.safe_dump(
        {"version": 1, "step": step, "company": company, "decisions": entries},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=120,
    )
    paths.write_private(path, head + body)


def customers_out(path: Path, company: str, proposals: Sequence[Proposal]) -> dict[str, int]:
    entries = []
    for p in proposals:
        if p.status == "mapped":
            continue
        target = p.target
        entry: dict[str, Any] = {
            "client": p.client_id,
            "client_name": p.client_name,
            "proposed": p.status,
            "why": p.why,
            "action": "link" if p.status == "exact" else "review",
            "qbo_id": target.qbo_id if target else None,
            "qbo_name": target.name if target else None,
        }
        if p.candidates:
            entry["candidates"] = [
                {"qbo_id": c.qbo_id, "name": c.name, "score": c.score, "reason": c.reason}
                for c in p.candidates
            ]
        if p.inactive:
            entry["inactive"] = [
                {"qbo_id": c.qbo_id, "name": c.name, "score": c.score, "reason": c.reason}
                for c in p.inactive
            ]
        entries.append(entry)
    _dump(path, "customers", company, entries)
    out: dict[str, int] = {}
    for e in entries:
        out[e["proposed"]] = out.get(e["proposed"], 0) + 1
    return out


def history_out(path: Path, company: str, proposals: Sequence[DocProposal]) -> dict[str, int]:
    entries: list[dict[str, Any]] = []
    for p in proposals:
        if p.status == "missing":
            continue
        entries.append(
            {
                "invoice": p.invoice_id,
                "number": p.number,
                "type": p.entity,
                "proposed": p.status,
                "why": p.why,
                "action": "link" if p.status == "confident" else "review",
                "qbo_id": p.qbo_id,
                "subtotal": str(p.subtotal),
                "qbo_net": str(p.qbo_net) if p.qbo_net is not None else None,
            }
        )
    _dump(path, "history", company, entries)
    out: dict[str, int] = {}
    for e in entries:
        out[e["proposed"]] = out.get(e["proposed"], 0) + 1
    return out


@dataclass
class Entry:
    index: int
    line: int | None
    subject: str
    action: str
    qbo_id: str | None
    qbo_name: str | None


@dataclass
class Checked:
    entries: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, path: Path, step: str, company: str):
        self.path = path
        self.located: LocatedYaml = read_located(path)
        self.errors: list[str] = []
        self.step = step
        self.company = company

    def error(self, where: Sequence[str | int], message: str) -> None:
        line = self.located.line_of(list(where))
        self.errors.append(f"{self.path}:{line or 1}: {message}")

    def entries(self, subject_key: str) -> list[Entry]:
        data = self.located.data
        if not isinstance(data, dict):
            self.error([], "expected a plan (a mapping with version, step, company, decisions)")
            return []
        if data.get("version") != 1:
            self.error(["version"], "version must be 1")
        if data.get("step") != self.step:
            self.error(["step"], f"this is a {data.get('step')!r} plan, not a {self.step!r} one")
        if str(data.get("company")) != self.company:
            self.error(
                ["company"],
                f"the plan is for company {data.get('company')!r}, not {self.company!r}",
            )
        items = data.get("decisions")
        if not isinstance(items, list):
            self.error(["decisions"], "decisions must be a list")
            return []
        out: list[Entry] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            where: list[str | int] = ["decisions", index]
            line = self.located.line_of(where)
            if not isinstance(item, dict):
                self.error(where, "each decision must be a mapping")
                continue
            subject = item.get(subject_key)
            if subject is None or subject == "":
                self.error(where, f"{subject_key} is missing")
                continue
            subject = str(subject)
            if subject in seen:
                self.error(
                    where, f"{subject_key} {subject} is listed twice (also line {seen[subject]})"
                )
                continue
            seen[subject] = line or 0
            action = item.get("action")
            if action not in ACTIONS[self.step]:
                self.error(
                    [*where, "action"],
                    f"action {action!r} is not one of {', '.join(ACTIONS[self.step])}",
                )
                continue
            qbo_id = item.get("qbo_id")
            name = item.get("qbo_name")
            out.append(
                Entry(
                    index,
                    line,
                    subject,
                    str(action),
                    str(qbo_id) if qbo_id not in (None, "") else None,
                    str(name) if name not in (None, "") else None,
                )
            )
        return out


def check_customers(
    path: Path,
    company: str,
    clients: dict[str, str],
    customers: Sequence[Customer],
    mapped: dict[str, str],
) -> Checked:
    """Validate a customers plan against the ledger and QuickBooks as they are now."""
    reader = _Reader(path, "customers", company)
    entries = reader.entries("client")
    by_id = {c.qbo_id: c for c in customers}
    by_name = {c.name.strip().casefold(): c for c in customers}
    claimed: dict[str, Entry] = {}
    new_names: dict[str, Entry] = {}
    for e in entries:
        where: list[str | int] = ["decisions", e.index]
        if e.subject not in clients:
            reader.error(where, f"no client {e.subject} in the ledger of {company}")
            continue
        if e.action == "link":
            if e.qbo_id is None:
                reader.error(where, f"client {e.subject}: link needs a qbo_id")
                continue
            customer = by_id.get(e.qbo_id)
            if customer is None:
                reader.error(
                    [*where, "qbo_id"], f"client {e.subject}: no QuickBooks customer {e.qbo_id}"
                )
                continue
            if not customer.active:
                reader.error(
                    [*where, "qbo_id"],
                    f"client {e.subject}: customer {e.qbo_id} ({customer.name}) is inactive; "
                    "make it active in QuickBooks first",
                )
                continue
            other = claimed.get(e.qbo_id)
            if other is not None:
                reader.error(
                    [*where, "qbo_id"],
                    f"clients {other.subject} (line {other.line}) and {e.subject} both link "
                    f"customer {e.qbo_id}",
                )
                continue
            holder = next((c for c, q in mapped.items() if q == e.qbo_id and c != e.subject), None)
            if holder is not None:
                reader.error(
                    [*where, "qbo_id"],
                    f"client {e.subject}: customer {e.qbo_id} is mapped to client {holder} already",
                )
                continue
            claimed[e.qbo_id] = e
            e.qbo_name = customer.name
        elif e.action == "create":
            name = (e.qbo_name or clients[e.subject]).strip()
            e.qbo_name = name
            bad = [ch for ch in (":", "\t", "\n") if ch in name]
            if not name or bad or len(name) > 500:
                reader.error(where, f"client {e.subject}: {name!r} cannot be a customer name")
                continue
            holder_c = by_name.get(name.casefold())
            if holder_c is not None:
                state = "inactive customer" if not holder_c.active else "customer"
                reader.error(
                    where,
                    f"client {e.subject}: the name {name!r} is held by {state} {holder_c.qbo_id}"
                    + (
                        " (make it active and link it instead)"
                        if not holder_c.active
                        else " (link it instead)"
                    ),
                )
                continue
            twin = new_names.get(name.casefold())
            if twin is not None:
                reader.error(
                    where,
                    f"clients {twin.subject} (line {twin.line}) and {e.subject} would both create {name!r}",
                )
                continue
            new_names[name.casefold()] = e
    return Checked(entries, reader.errors)


def check_history(
    path: Path,
    company: str,
    ledger: dict[str, dict[str, Any]],
    documents: dict[str, dict[str, dict[str, Any]]],
    linked_qbo: dict[tuple[str, str], str],
) -> Checked:
    """Validate a history plan: ledger documents finalized and not linked, QuickBooks documents
    that exist, of the right kind, and claimed once."""
    reader = _Reader(path, "history", company)
    entries = reader.entries("invoice")
    claimed: dict[str, Entry] = {}
    for e in entries:
        where: list[str | int] = ["decisions", e.index]
        row = ledger.get(e.subject)
        if row is None:
            reader.error(where, f"no finalized, unlinked ledger document {e.subject}")
            continue
        if e.action != "link":
            continue
        entity = "CreditMemo" if row["type"] == "credit_note" else "Invoice"
        if e.qbo_id is None:
            reader.error(where, f"{e.subject}: link needs a qbo_id")
            continue
        if e.qbo_id not in documents.get(entity, {}):
            reader.error([*where, "qbo_id"], f"{e.subject}: no QuickBooks {entity} {e.qbo_id}")
            continue
        holder = linked_qbo.get((entity, e.qbo_id))
        if holder is not None:
            reader.error(
                [*where, "qbo_id"],
                f"{e.subject}: QuickBooks {entity} {e.qbo_id} is linked to {holder} already",
            )
            continue
        other = claimed.get(f"{entity}:{e.qbo_id}")
        if other is not None:
            reader.error(
                [*where, "qbo_id"],
                f"{other.subject} (line {other.line}) and {e.subject} both link {entity} {e.qbo_id}",
            )
            continue
        claimed[f"{entity}:{e.qbo_id}"] = e
        e.qbo_name = entity
    return Checked(entries, reader.errors)


def raise_errors(checked: Checked) -> None:
    if checked.errors:
        shown = checked.errors[:20]
        more = len(checked.errors) - len(shown)
        raise InputError(
            f"{len(checked.errors)} problem(s) in the plan, nothing was applied: "
            + "; ".join(shown)
            + (f"; and {more} more" if more else ""),
            "fix the plan and run again",
        )
