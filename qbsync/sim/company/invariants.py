"""A company's self-check: derived state recomputed from scratch and compared with what is
stored.
"""

from __future__ import annotations

from decimal import Decimal

from qbsync.sim.company.balances import Balances
from qbsync.sim.company.model import ENTITIES, ZERO, dec, ref_id


class Invariants(Balances):
    """`check_invariants`, for tests and the control surface."""

    def check_invariants(self) -> list[str]:
        """Problems found (empty when consistent). Recomputes derived state from scratch."""
        problems: list[str] = []
        links: dict[tuple[str, str], dict[str, Decimal]] = {}
        for pid, p in self.data["Payment"].items():
            inv = cm = ZERO
            for (ttype, tid), amt in self._payment_links(p).items():
                if amt == 0:
                    continue
                links.setdefault((ttype, tid), {})[pid] = amt
                table = self.data.get(ttype)
                if table is None or table.get(tid) is None:
                    problems.append(f"Payment {pid} links missing {ttype} {tid}")
                if ttype == "Invoice":
                    inv += amt
                else:
                    cm += amt
            total = dec(p.get("TotalAmt"))
            if cm > inv:
                problems.append(f"Payment {pid} uses more credit than it pays")
            if dec(p.get("UnappliedAmt")) != total - (inv - cm) or dec(p.get("UnappliedAmt")) < 0:
                problems.append(f"Payment {pid} UnappliedAmt {p.get('UnappliedAmt')} wrong")
        clean = {k: v for k, v in self.links.items() if v}
        if clean != links:
            problems.append("payment link index out of date")
        balances: dict[str, Decimal] = {}
        for entity in ("Invoice", "CreditMemo"):
            for did, doc in self.data[entity].items():
                applied = sum(links.get((entity, did), {}).values(), ZERO)
                sales = [
                    ln
                    for ln in doc.get("Line") or []
                    if ln.get("DetailType") == "SalesItemLineDetail"
                ]
                subtotal = sum((dec(ln.get("Amount")) for ln in sales), ZERO)
                discount = sum(
                    (
                        dec(ln.get("Amount"))
                        for ln in doc.get("Line") or []
                        if ln.get("DetailType") == "DiscountLineDetail"
                    ),
                    ZERO,
                )
                tax = dec((doc.get("TxnTaxDetail") or {}).get("TotalTax"))
                if doc.get("GlobalTaxCalculation") == "TaxInclusive":
                    # Lines hold net amounts; the discount comes off the gross (tax included).
                    gross = sum(
                        (dec(ln["SalesItemLineDetail"].get("TaxInclusiveAmt")) for ln in sales),
                        ZERO,
                    )
                    if dec(doc.get("TotalAmt")) != gross - discount:
                        problems.append(f"{entity} {did} TotalAmt != gross lines - discount")
                elif dec(doc.get("TotalAmt")) != subtotal - discount + tax:
                    problems.append(f"{entity} {did} TotalAmt != lines - discount + tax")
                open_amt = dec(doc.get("TotalAmt")) - applied
                if dec(doc.get("Balance")) != open_amt or open_amt < 0:
                    problems.append(
                        f"{entity} {did} Balance {doc.get('Balance')} != total - applied {open_amt}"
                    )
                if entity == "CreditMemo" and dec(doc.get("RemainingCredit")) != open_amt:
                    problems.append(f"CreditMemo {did} RemainingCredit wrong")
                cid = ref_id(doc.get("CustomerRef")) or ""
                sign = 1 if entity == "Invoice" else -1
                balances[cid] = balances.get(cid, ZERO) + sign * open_amt
        for p in self.data["Payment"].values():
            cid = ref_id(p.get("CustomerRef")) or ""
            balances[cid] = balances.get(cid, ZERO) - dec(p.get("UnappliedAmt"))
        for cid, cust in self.data["Customer"].items():
            if dec(cust.get("Balance")) != balances.get(cid, ZERO):
                problems.append(
                    f"Customer {cid} Balance {cust.get('Balance')} != {balances.get(cid)}"
                )
        for entity in ENTITIES:
            deleted = {oid for oid, _ in self.tombstones[entity].items()}
            for oid, o in self.data[entity].items():
                if oid in deleted:
                    problems.append(f"{entity} {oid} is both live and deleted")
                if not str(o.get("SyncToken", "")).isdigit():
                    problems.append(f"{entity} {oid} bad SyncToken")
        return problems
