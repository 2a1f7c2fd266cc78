"""Clients as stored: the flat row an import writes (addresses as canonical JSON text, so an
unchanged client compares equal), the checks that need other records (parent, terms, tax region),
and the client read back whole for the customer sync and `ledger export clients`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from qbsync.ledger.addresses import ADDRESS_FIELDS
from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso

if TYPE_CHECKING:  # the import models (pydantic): a cycle reading a client never loads them
    from qbsync.ledger.models import AddressIn, ClientIn
    from qbsync.ledger.readers import RawRecord
    from qbsync.ledger.validate import Problems

COLUMNS = (
    "id",
    "name",
    "email",
    "currency",
    "cc_email",
    "phone",
    "terms_id",
    "tax_region_id",
    "tax_exempt",
    "parent_id",
    "bill_address",
    "ship_address",
)
MAX_DEPTH = 4  # QuickBooks allows sub-customers up to four levels below a top-level customer


def _address(value: AddressIn | None) -> str | None:
    if value is None:
        return None
    parts = {f: getattr(value, f) for f in ADDRESS_FIELDS if getattr(value, f) is not None}
    return json.dumps(parts, sort_keys=True, ensure_ascii=False)


def client_row(client: ClientIn) -> dict[str, Any]:
    """The ledger_clients columns for a client read from a file."""
    return {
        "id": client.id,
        "name": client.name,
        "email": client.email,
        "currency": client.currency,
        "cc_email": client.cc_email,
        "phone": client.phone,
        "terms_id": client.terms,
        "tax_region_id": client.tax_region,
        "tax_exempt": 1 if client.tax_exempt else 0,
        "parent_id": client.parent,
        "bill_address": _address(client.bill_address),
        "ship_address": _address(client.ship_address),
    }


def check_references(
    problems: Problems,
    parsed: list[tuple[RawRecord, ClientIn]],
    stored: dict[str, dict[str, Any]],
    terms_ids: set[str],
    region_ids: set[str],
) -> None:
    """Each client's parent, terms and tax region exist; parents form no loop and nest at most
    MAX_DEPTH deep."""
    parents = {cid: row.get("parent_id") for cid, row in stored.items()}
    parents.update({c.id: c.parent for _, c in parsed})
    for record, client in parsed:
        if client.parent is not None and client.parent not in parents:
            problems.add(record.where(("parent",)), f"unknown client {client.parent!r}")
        if client.terms is not None and client.terms not in terms_ids:
            problems.add(record.where(("terms",)), f"unknown terms {client.terms!r}")
        if client.tax_region is not None and client.tax_region not in region_ids:
            problems.add(record.where(("tax_region",)), f"unknown tax region {client.tax_region!r}")
        seen = [client.id]
        current = client.parent
        while current is not None and current in parents:
            if current in seen:
                chain = " -> ".join([*seen, current])
                problems.add(record.where(("parent",)), f"parents form a loop: {chain}")
                break
            seen.append(current)
            current = parents[current]
        else:
            if len(seen) - 1 > MAX_DEPTH:
                problems.add(
                    record.where(("parent",)),
                    f"nested {len(seen) - 1} levels deep; QuickBooks allows {MAX_DEPTH}",
                )


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A stored client with its addresses as mappings and tax_exempt as a bool."""
    out = dict(row)
    for key in ("bill_address", "ship_address"):
        out[key] = json.loads(row[key]) if row.get(key) else None
    out["tax_exempt"] = bool(row.get("tax_exempt"))
    return out


def get(db: Database, company: str, client_id: str) -> dict[str, Any] | None:
    """One client, decoded, or None."""
    rows = list(
        db.query("SELECT * FROM ledger_clients WHERE company = ? AND id = ?", [company, client_id])
    )
    return decoded(rows[0]) if rows else None


def all_clients(db: Database, company: str) -> list[dict[str, Any]]:
    """Every client of the company, decoded, by id."""
    return [
        decoded(r)
        for r in db.query("SELECT * FROM ledger_clients WHERE company = ? ORDER BY id", [company])
    ]


def export_rows(
    db: Database, company: str, qbo_ids: dict[str, str], since: str = ""
) -> list[dict[str, Any]]:
    """Every client changed on or after `since` in the import file's own fields (so the billing
    system can take back what was accepted from QuickBooks), plus its QuickBooks customer id."""
    rows = []
    for c in all_clients(db, company):
        if c["updated_at"] < since:
            continue
        rows.append(
            {
                "id": c["id"],
                "name": c["name"],
                "email": c["email"],
                "cc_email": c["cc_email"],
                "phone": c["phone"],
                "currency": c["currency"],
                "terms": c["terms_id"],
                "tax_region": c["tax_region_id"],
                "tax_exempt": c["tax_exempt"],
                "parent": c["parent_id"],
                "bill_address": c["bill_address"],
                "ship_address": c["ship_address"],
                "qbo_id": qbo_ids.get(c["id"]),
                "updated_at": c["updated_at"],
            }
        )
    return rows


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """An export row as one CSV row: addresses as `bill_line1`, `bill_city`, ... columns."""
    out = {k: v for k, v in row.items() if k not in ("bill_address", "ship_address")}
    for kind in ("bill", "ship"):
        address = row.get(f"{kind}_address") or {}
        for part in ADDRESS_FIELDS:
            out[f"{kind}_{part}"] = address.get(part)
    out["tax_exempt"] = "true" if row.get("tax_exempt") else "false"
    return out


EXPORT_COLUMNS = (
    "id",
    "name",
    "email",
    "cc_email",
    "phone",
    "currency",
    "terms",
    "tax_region",
    "tax_exempt",
    "parent",
    *(f"{kind}_{part}" for kind in ("bill", "ship") for part in ADDRESS_FIELDS),
    "qbo_id",
    "updated_at",
)


def accept_from_quickbooks(
    db: Database, company: str, client_id: str, fields: dict[str, Any]
) -> None:
    """Take a customer's name, e-mail, phone and addresses (as changed in QuickBooks) into the
    client; `ledger export clients` then hands them to the billing system. Call inside a
    transaction."""

    def address(value: Any) -> str | None:
        return json.dumps(value, sort_keys=True, ensure_ascii=False) if value else None

    db.execute(
        "UPDATE ledger_clients SET name = ?, email = ?, phone = ?, bill_address = ?, "
        "ship_address = ?, updated_at = ? WHERE company = ? AND id = ?",
        [
            fields.get("name"),
            fields.get("email"),
            fields.get("phone"),
            address(fields.get("bill_address")),
            address(fields.get("ship_address")),
            utc_now_iso(),
            company,
            client_id,
        ],
    )
