"""The Simulator: companies, clock, OAuth registry, limits, faults, latency and the request log.

It also acts as a QuickBooks user (edits, voids, deletes, payments made in QBO's own screens),
which change SyncToken and LastUpdatedTime exactly as API writes do, so CDC reports them.
"""

from __future__ import annotations

import copy
import os
import random
import secrets
import threading
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from qbsync.sim import statefile
from qbsync.sim.clock import Clock, iso_seconds
from qbsync.sim.company import BY_LOWER, ENTITIES, Company
from qbsync.sim.faults import (
    FaultInjector,
    FaultRule,
    Latency,
    Limits,
    RateLimiter,
    RequestLog,
)
from qbsync.sim.oauth import App, OAuthRegistry
from qbsync.sim.seed import apply_seed
from qbsync.sim.storage import Store
from qbsync.sim.values import cents, to_decimal

DEMO_NAME = "Harbor IT Demo Co"
PLAYGROUND_REDIRECT = "https://developer.intuit.com/v2/OAuth2Playground/RedirectUrl"
STATE_VERSION = statefile.STATE_VERSION


class Simulator:
    def __init__(
        self,
        seed: str = "demo",
        *,
        auto_consent: bool = False,
        limits: str = "off",
        latency: str | Latency | None = None,
        state_file: str | os.PathLike[str] | None = None,
        company_name: str | None = None,
        rng_seed: int | None = None,
    ) -> None:
        if limits not in ("off", "intuit"):
            raise ValueError("limits must be 'off' or 'intuit'")
        self.lock = threading.RLock()
        self.clock = Clock()
        self.seed = seed
        self.auto_consent = auto_consent
        self.limiter = RateLimiter(Limits() if limits == "intuit" else None)
        self.latency = latency if isinstance(latency, Latency) else Latency.parse(latency)
        self.faults = FaultInjector(rng_seed)
        self.log = RequestLog()
        self.oauth = OAuthRegistry()
        self.companies: dict[str, Company] = {}
        self.state_file = Path(state_file) if state_file else None
        self._rng = random.Random(rng_seed)
        self.admin_key = secrets.token_urlsafe(24)
        self._written: dict[str, str] = {}  # settings as last written, to write only changes
        old = statefile.old_state(self.state_file) if self.state_file is not None else None
        self.store = Store(self.state_file)
        if old is not None:
            statefile.load_old(self, old)
            self.save()
        elif self.state_file is not None and self.store.get_meta():
            statefile.open_store(self)
        else:
            self.app: App = self.oauth.register("qbsync", [PLAYGROUND_REDIRECT])
            name = company_name or (DEMO_NAME if seed == "demo" else "Sim Company")
            self.default_realm = self.add_company(name, seed=seed)
            self.save()

    # ---------------------------------------------------------------- companies

    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def client_secret(self) -> str:
        return self.app.client_secret

    def _new_realm_id(self) -> str:
        while True:
            rid = "9341" + "".join(str(self._rng.randrange(10)) for _ in range(12))
            if rid not in self.companies:
                return rid

    def add_company(
        self, name: str, country: str = "US", seed: str = "empty", realm_id: str | None = None
    ) -> str:
        with self.lock:
            rid = realm_id or self._new_realm_id()
            c = Company(rid, name, self.clock, country, self.store)
            apply_seed(c, seed)
            self.companies[rid] = c
            return rid

    def company(self, realm: str | None = None) -> Company:
        c = self.companies.get(realm or self.default_realm)
        if c is None:
            raise KeyError(f"no company {realm}")
        return c

    def now(self) -> str:
        return iso_seconds(self.clock.now())

    def advance_clock(self, seconds: float) -> str:
        self.clock.advance(seconds)
        return self.now()

    # ---------------------------------------------------------------- checks

    def check_invariants(self, realm: str | None = None) -> list[str]:
        """Problems in derived state (balances, links, tokens); empty when consistent."""
        with self.lock:
            realms = [realm] if realm else list(self.companies)
            out: list[str] = []
            for r in realms:
                out += [f"{r}: {p}" for p in self.companies[r].check_invariants()]
            return out

    def assert_consistent(self) -> None:
        problems = self.check_invariants()
        if problems:
            raise AssertionError("simulator state inconsistent:\n" + "\n".join(problems[:20]))

    # ---------------------------------------------------------------- acting as a QBO user

    def get(self, realm: str, entity: str, obj_id: str) -> dict[str, Any]:
        with self.lock:
            c = self.company(realm)
            return _public(c, c.read(_entity(entity), obj_id))

    def create(self, realm: str, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            c = self.company(realm)
            out = _public(c, c.create(_entity(entity), body))
        self.save()
        return out

    def edit(self, realm: str, entity: str, obj_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A user's edit: no SyncToken needed, and it moves the SyncToken like any change."""
        with self.lock:
            c = self.company(realm)
            body = {**changes, "Id": obj_id}
            out = _public(c, c.update(_entity(entity), body, check_token=False, sparse=True))
        self.save()
        return out

    def edit_invoice(self, realm: str, invoice_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.edit(realm, "Invoice", invoice_id, changes)

    def void_invoice(self, realm: str, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            c = self.company(realm)
            out = _public(c, c.void("Invoice", {"Id": invoice_id}, check_token=False))
        self.save()
        return out

    def delete_invoice(self, realm: str, invoice_id: str) -> dict[str, Any]:
        return self._delete(realm, "Invoice", invoice_id)

    def delete_credit_memo(self, realm: str, memo_id: str) -> dict[str, Any]:
        return self._delete(realm, "CreditMemo", memo_id)

    def _delete(self, realm: str, entity: str, obj_id: str) -> dict[str, Any]:
        with self.lock:
            out = self.company(realm).delete(entity, {"Id": obj_id}, check_token=False)
        self.save()
        return out

    def record_payment(
        self,
        realm: str,
        customer_id: str,
        amount: Any,
        invoice_id: str | None = None,
        credit_memo_ids: Iterable[str] = (),
        *,
        txn_date: str | None = None,
        payment_method_id: str | None = None,
        ref_num: str | None = None,
        deposit_to_account_id: str | None = None,
        private_note: str | None = None,
    ) -> dict[str, Any]:
        """Receive a payment as a user would: cash `amount` plus the named credit memos, applied
        to `invoice_id` (up to its balance); what is left stays as the customer's credit."""
        with self.lock:
            c = self.company(realm)
            cash = cents(to_decimal(amount) or Decimal(0))
            lines: list[dict[str, Any]] = []
            if invoice_id is not None:
                inv = c.read("Invoice", invoice_id)
                balance = Decimal(str(inv.get("Balance", 0)))
                credits = [
                    (m, Decimal(str(c.read("CreditMemo", m)["RemainingCredit"])))
                    for m in credit_memo_ids
                ]
                pay_inv = min(balance, cash + sum((r for _, r in credits), Decimal(0)))
                need_credit = max(Decimal(0), pay_inv - cash)
                for memo_id, remaining in credits:
                    take = min(remaining, need_credit)
                    if take > 0:
                        lines.append(
                            {
                                "Amount": take,
                                "LinkedTxn": [{"TxnId": memo_id, "TxnType": "CreditMemo"}],
                            }
                        )
                        need_credit -= take
                if pay_inv > 0:
                    lines.insert(
                        0,
                        {
                            "Amount": pay_inv,
                            "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}],
                        },
                    )
            body: dict[str, Any] = {
                "CustomerRef": {"value": customer_id},
                "TotalAmt": cash,
                "Line": lines,
            }
            for key, value in (
                ("TxnDate", txn_date),
                ("PaymentRefNum", ref_num),
                ("PrivateNote", private_note),
            ):
                if value is not None:
                    body[key] = value
            if payment_method_id is not None:
                body["PaymentMethodRef"] = {"value": payment_method_id}
            if deposit_to_account_id is not None:
                body["DepositToAccountRef"] = {"value": deposit_to_account_id}
            out = _public(c, c.create("Payment", body))
        self.save()
        return out

    def edit_payment(self, realm: str, payment_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.edit(realm, "Payment", payment_id, changes)

    def void_payment(self, realm: str, payment_id: str) -> dict[str, Any]:
        with self.lock:
            c = self.company(realm)
            out = _public(c, c.void("Payment", {"Id": payment_id}, check_token=False))
        self.save()
        return out

    def delete_payment(self, realm: str, payment_id: str) -> dict[str, Any]:
        return self._delete(realm, "Payment", payment_id)

    def deposit_payment(
        self, realm: str, payment_id: str, account_id: str | None = None
    ) -> dict[str, Any]:
        """Deposit a payment into a bank account (default "Checking"); it then answers 6540."""
        with self.lock:
            c = self.company(realm)
            if account_id is None:
                bank = c.find_by_name("Account", "Checking")
                if bank is None:
                    raise KeyError("no Checking account: pass account_id")
                account_id = bank["Id"]
            out = _public(c, c.deposit(payment_id, account_id))
        self.save()
        return out

    def deactivate_customer(self, realm: str, customer_id: str) -> dict[str, Any]:
        return self.edit(realm, "Customer", customer_id, {"Active": False})

    def merge_customer(self, realm: str, from_id: str, into_id: str) -> dict[str, Any]:
        """QBO's merge: the first customer's transactions move to the second, and the first
        becomes inactive with "(deleted)" after its name."""
        with self.lock:
            c = self.company(realm)
            into, moved = c.merge_customer(from_id, into_id)
            out = {"Customer": _public(c, into), "moved": moved}
        self.save()
        return out

    def set_preferences(self, realm: str, patch: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            c = self.company(realm)
            out = _public(c, c.set_preferences(patch))
        self.save()
        return out

    def issue_tokens(self, realm: str | None = None, *, hard: bool = False) -> dict[str, Any]:
        """Consent and code exchange in one step (tests that are not about OAuth use this)."""
        rid = realm or self.default_realm
        self.company(rid)
        now = self.clock.timestamp()
        redirect = "http://localhost/callback"
        scope = "com.intuit.quickbooks.accounting"
        code = self.oauth.issue_code(self.app, rid, redirect, scope, now)
        out = self.oauth.exchange_code(self.app, code, redirect, now, hard)
        out["realmId"] = rid
        self.save()
        return out

    def revoke_all_tokens(self, realm: str) -> int:
        n = self.oauth.revoke_realm(realm)
        self.save()
        return n

    def set_limits(self, mode: str) -> None:
        if mode not in ("off", "intuit"):
            raise ValueError("limits must be 'off' or 'intuit'")
        self.limiter.limits = Limits() if mode == "intuit" else None
        self.limiter.reset()

    def reset(self) -> None:
        """Back to a fresh seed: data, faults, latency, log, throttles and clock. The app, admin
        key, realm ids and issued tokens stay, so connected clients keep working."""
        with self.lock:
            fresh: dict[str, Company] = {}
            for rid, c in self.companies.items():
                seed = self.seed if rid == self.default_realm else "empty"
                self.store.drop_company_data(rid)
                fresh[rid] = Company(rid, c.name, self.clock, c.country, self.store)
                apply_seed(fresh[rid], seed)
            self.companies = fresh
            self.faults.clear()
            self.latency = Latency()
            self.log.clear()
            self.limiter.reset()
            self.clock.set_offset(0.0)
        self.save()

    def inject_fault(self, **kwargs: Any) -> FaultRule:
        if kwargs.get("code") is not None:
            kwargs["code"] = str(kwargs["code"])
        return self.faults.add(FaultRule(**kwargs))

    # ---------------------------------------------------------------- persistence

    def to_state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "version": STATE_VERSION,
                "seed": self.seed,
                "admin_key": self.admin_key,
                "client_id": self.app.client_id,
                "default_realm": self.default_realm,
                "clock_offset": self.clock.offset,
                "oauth": self.oauth.to_state(self.clock.timestamp()),
                "companies": [c.to_state() for c in self.companies.values()],
            }

    def save(self) -> None:
        """Make every change so far durable: the settings that changed are written and the
        store's transaction is committed (WAL, synchronous=NORMAL). Without a state file the
        store is in memory and only the commit happens."""
        with self.lock:
            if self.state_file is not None:
                statefile.write_settings(self)
            self.store.commit()
            if self.state_file is not None and self.store.path != self.state_file:
                self.store.copy_to(self.state_file)


def _public(c: Company, obj: dict[str, Any]) -> dict[str, Any]:
    """A caller's own copy of an object's view (the company caches views)."""
    return copy.deepcopy(c.view(obj))


def _entity(name: str) -> str:
    entity = BY_LOWER.get(name.lower())
    if entity is None:
        raise KeyError(f"unknown entity {name}")
    return entity


__all__ = ["ENTITIES", "Simulator"]
