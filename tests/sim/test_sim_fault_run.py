"""10,000 mixed requests with about 5% injected faults (before and after the operation, HTTP
errors, dropped connections, timeouts) leave the simulator consistent: every invoice's Balance
is its total minus what payments and credits applied, no batch item is half-applied, and no
write with a requestid ever happened twice."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from qbsync.sim.app import create_app
from qbsync.sim.clock import iso_seconds
from qbsync.sim.core import Simulator

TOTAL = 10_000
FAULT_RULES: list[dict[str, Any]] = [
    {"kind": "http", "status": 500, "when": "before"},
    {"kind": "http", "status": 503, "when": "after"},
    {"kind": "drop", "when": "before"},
    {"kind": "drop", "when": "after"},
    {"kind": "timeout", "when": "after"},
]


def _marker(obj: dict[str, Any]) -> str:
    return str(obj.get("PrivateNote") or "").removeprefix("Voided - ")


class AsgiCaller:
    """Calls the ASGI app directly: 10,000 requests through a full HTTP client would spend
    most of their time in the client. Transport errors the app raises (a dropped connection,
    a timeout) reach the caller unchanged."""

    def __init__(self, sim: Simulator) -> None:
        self.app = create_app(sim)
        token = sim.issue_tokens()["access_token"]
        self.headers = [
            (b"authorization", f"Bearer {token}".encode()),
            (b"accept", b"application/json"),
            (b"content-type", b"application/json"),
        ]

    async def __call__(
        self, method: str, path: str, params: dict[str, str], body: Any
    ) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else b""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(params).encode(),
            "root_path": "",
            "headers": self.headers,
            "server": ("sim.test", 80),
            "client": ("127.0.0.1", 50000),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}

        status = 0
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


class Run:
    def __init__(self, sim: Simulator, client: AsgiCaller, seed: int) -> None:
        self.sim = sim
        self.client = client
        self.rng = random.Random(seed)
        self.base = f"/v3/company/{sim.default_realm}"
        self.n = 0
        self.outcome: dict[str, str] = {}  # marker -> ok | fault | unknown
        self.removed: set[str] = set()  # markers whose object this run deleted
        self.stats: Counter[str] = Counter()

    async def call(
        self, method: str, rest: str, body: Any = None, **params: str
    ) -> tuple[int, Any]:
        self.n += 1
        try:
            status, raw = await self.client(
                method, f"{self.base}/{rest}", {"minorversion": "75", **params}, body
            )
        except httpx.TransportError:
            self.stats["transport_error"] += 1
            return 0, None
        self.stats[str(status)] += 1
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, None

    def _ids(self, entity: str) -> list[str]:
        """A few random live ids (transaction ids share one counter; no full scans)."""
        c = self.sim.company()
        top = c.counters.get("txn", 0)
        table = c.data[entity]
        found = [str(n) for n in (self.rng.randint(1, max(top, 1)) for _ in range(12))]
        return [i for i in found if i in table]

    def _customer(self) -> str:
        return self.rng.choice(["1", "2", "3", "4"])

    def _sales_body(self, marker: str) -> dict[str, Any]:
        lines = []
        for _ in range(self.rng.randint(1, 3)):
            item = self.rng.choice(["2", "3", "4", "5"])
            lines.append(
                {
                    "Amount": str(Decimal(self.rng.randint(100, 50000)) / 100),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item},
                        "TaxCodeRef": {"value": self.rng.choice(["TAX", "NON"])},
                    },
                }
            )
        body: dict[str, Any] = {
            "CustomerRef": {"value": self._customer()},
            "Line": lines,
            "PrivateNote": marker,
        }
        if self.rng.random() < 0.5:
            body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": "1"}}
        return body

    def _record(self, marker: str, status: int, data: Any, uncertain: bool) -> None:
        """ok: answered; unknown: some attempt may have run unseen (dropped, timed out, or
        faulted after the write); fault: every attempt was refused before it ran."""
        if status == 200 and data is not None and "Fault" not in data:
            self.outcome[marker] = "ok"
        elif uncertain or status in (0, 503):
            self.outcome[marker] = "unknown"
        else:
            self.outcome[marker] = "fault"

    async def create(self, entity: str) -> None:
        marker = f"op-{self.n}"
        if entity == "Payment":
            body = self._payment_body(marker)
            if body is None:
                return
        else:
            body = self._sales_body(marker)
        status, data = await self.call("POST", entity.lower(), body, requestid=marker)
        uncertain = status in (0, 503)
        if uncertain and self.rng.random() < 0.7:
            # Unknown outcome: retry with the same requestid (what the sync engine does).
            status, data = await self.call("POST", entity.lower(), body, requestid=marker)
        self._record(marker, status, data, uncertain)

    def _payment_body(self, marker: str) -> dict[str, Any] | None:
        c = self.sim.company()
        inv = None
        for oid in self._ids("Invoice"):  # a random open invoice, without scanning them all
            cand = c.data["Invoice"][oid]
            if Decimal(str(cand.get("Balance", 0))) > 0:
                inv = cand
                break
        if inv is None:
            return None
        cust = inv["CustomerRef"]["value"]
        bal = Decimal(str(inv["Balance"]))
        pay = min(bal, Decimal(self.rng.randint(1, 40000)) / 100)
        lines = [{"Amount": str(pay), "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]
        total = pay
        memos = [c.data["CreditMemo"][m] for m in sorted(c.open_credit.get(cust, ()))]
        if memos and self.rng.random() < 0.5:
            m = self.rng.choice(memos)
            use = min(Decimal(str(m["RemainingCredit"])), pay)
            lines.append(
                {"Amount": str(use), "LinkedTxn": [{"TxnId": m["Id"], "TxnType": "CreditMemo"}]}
            )
            total = pay - use
        extra = Decimal(self.rng.choice([0, 0, 0, 5]))
        return {
            "CustomerRef": {"value": cust},
            "TotalAmt": str(total + extra),
            "Line": lines,
            "PrivateNote": marker,
        }

    async def update_invoice(self) -> None:
        ids = self._ids("Invoice")
        if not ids:
            return
        oid = self.rng.choice(ids)
        status, data = await self.call("GET", f"invoice/{oid}")
        if status != 200 or data is None:
            return
        inv = data["Invoice"]
        token = inv["SyncToken"] if self.rng.random() < 0.9 else "0"  # sometimes stale
        body: dict[str, Any] = {"Id": oid, "SyncToken": token, "sparse": True}
        if self.rng.random() < 0.5:
            body["CustomerMemo"] = {"value": f"memo {self.n}"}
        else:
            body["Line"] = self._sales_body(inv.get("PrivateNote", ""))["Line"]
        await self.call("POST", "invoice", body)

    async def void_or_delete(self, entity: str) -> None:
        ids = self._ids(entity)
        if not ids:
            return
        oid = self.rng.choice(ids)
        obj = self.sim.company().data[entity].get(oid)
        if obj is None:
            return
        body = {"Id": oid, "SyncToken": obj["SyncToken"]}
        delete = self.rng.random() < 0.5 or entity == "CreditMemo"
        if delete:
            params = {"operation": "delete"}
        elif entity == "Payment":
            body["sparse"] = True  # type: ignore[assignment]
            params = {"operation": "update", "include": "void"}
        else:
            params = {"operation": "void"}
        await self.call("POST", entity.lower(), body, **params)
        if delete and oid not in self.sim.company().data[entity]:
            self.removed.add(_marker(obj))

    async def batch(self) -> None:
        items: list[dict[str, Any]] = []
        for b in range(self.rng.randint(2, 10)):
            kind = self.rng.random()
            marker = f"op-{self.n}-b{b}"
            if kind < 0.5:
                items.append(
                    {"bId": str(b), "operation": "create", "Invoice": self._sales_body(marker)}
                )
            elif kind < 0.7:
                pay = self._payment_body(marker)
                if pay:
                    items.append({"bId": str(b), "operation": "create", "Payment": pay})
            elif kind < 0.85:
                items.append({"bId": str(b), "Query": "select * from Invoice MAXRESULTS 5"})
            else:
                ids = self._ids("Invoice")
                if ids:
                    oid = self.rng.choice(ids)
                    tok = self.sim.company().data["Invoice"][oid]["SyncToken"]
                    items.append(
                        {
                            "bId": str(b),
                            "operation": "update",
                            "Invoice": {
                                "Id": oid,
                                "SyncToken": tok,
                                "sparse": True,
                                "CustomerMemo": {"value": "b"},
                            },
                        }
                    )
        if not items:
            return
        rid = f"batch-{self.n}"
        status, data = await self.call("POST", "batch", {"BatchItemRequest": items}, requestid=rid)
        uncertain = status in (0, 503)
        if uncertain:
            status, data = await self.call(
                "POST", "batch", {"BatchItemRequest": items}, requestid=rid
            )
        by_bid = {}
        if status == 200 and data:
            by_bid = {r["bId"]: r for r in data["BatchItemResponse"]}
        for item in items:
            if "operation" not in item or item["operation"] != "create":
                continue
            entity = "Invoice" if "Invoice" in item else "Payment"
            marker = item[entity]["PrivateNote"]
            r = by_bid.get(item["bId"])
            if r is None:
                self.outcome[marker] = "unknown" if uncertain or status in (0, 503) else "fault"
            elif "Fault" in r:
                self.outcome[marker] = "fault"  # per-item faults are final answers
            else:
                self.outcome[marker] = "ok"

    async def step(self) -> None:
        r = self.rng.random()
        if r < 0.22:
            await self.create("Invoice")
        elif r < 0.30:
            await self.create("CreditMemo")
        elif r < 0.45:
            await self.create("Payment")
        elif r < 0.55:
            await self.update_invoice()
        elif r < 0.60:
            await self.void_or_delete(
                self.rng.choice(["Invoice", "Payment", "Payment", "CreditMemo"])
            )
        elif r < 0.66:
            await self.batch()
        elif r < 0.68:
            # A sync engine's window: since its last cycle, with some overlap.
            since = iso_seconds(self.sim.clock.now() - timedelta(seconds=20))
            await self.call("GET", "cdc", entities="Invoice,Payment,CreditMemo", changedSince=since)
        elif r < 0.73:
            ids = self._ids("Invoice")
            if ids:
                self.sim.record_payment(
                    self.sim.default_realm,
                    self.sim.company().data["Invoice"][self.rng.choice(ids)]["CustomerRef"][
                        "value"
                    ],
                    "1.00",
                )
        else:
            some_id = self.rng.choice(self._ids("Invoice") or ["1"])
            await self.call(
                "GET",
                "query",
                query=self.rng.choice(
                    [
                        "select * from Invoice where Balance > '0' MAXRESULTS 5",
                        f"select * from Invoice where Id = '{some_id}'",
                        "select count(*) from Payment",
                        "select * from Customer",
                        "select * from CreditMemo ORDERBY TxnDate DESC MAXRESULTS 3",
                    ]
                ),
            )

    async def run(self, total: int) -> None:
        while self.n < total:
            if self.n % 50 == 0:
                self.sim.advance_clock(15)
            await self.step()


@pytest.mark.slow
def test_ten_thousand_requests_with_faults_leave_state_consistent() -> None:
    sim = Simulator(seed="demo", rng_seed=2026)
    for rule in FAULT_RULES:
        sim.inject_fault(path_pattern="/v3/*", probability=0.01, **rule)

    async def main() -> Run:
        run = Run(sim, AsgiCaller(sim), seed=2026)
        await run.run(TOTAL)
        return run

    run = asyncio.run(main())
    faults = sum(r.fired for r in sim.faults.rules())
    assert run.n >= TOTAL
    assert 0.03 * run.n < faults < 0.07 * run.n, (faults, run.n)
    assert run.stats["200"] > 0.6 * run.n
    assert sim.check_invariants() == []

    # Every write carried a unique marker: count what exists per marker.
    seen: Counter[str] = Counter()
    c = sim.company()
    for entity in ("Invoice", "CreditMemo", "Payment"):
        for obj in c.data[entity].values():
            marker = _marker(obj)
            if marker.startswith("op-"):
                seen[marker] += 1
    assert max(seen.values()) == 1  # nothing ever created twice
    for marker, outcome in run.outcome.items():
        if outcome == "fault":
            assert seen[marker] == 0, marker  # a faulted item left nothing behind
        elif outcome == "ok" and marker not in run.removed:
            assert seen[marker] == 1, marker
    counts = Counter(run.outcome.values())
    assert counts["ok"] > 1000 and counts["unknown"] > 20 and counts["fault"] > 20
