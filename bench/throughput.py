"""Export throughput at QuickBooks' two-lane ceiling: qbsync versus two hand-written baselines.

The simulator runs in its own process with Intuit's limits on (500 requests/min and 10/s per
company, 40 batch requests/min) and Intuit-like latency (`--latency intuit`: 250 ms per request
plus 60 ms per batch item, so a batch of 30 takes about 2.05 s). The per-company ceiling is two
lanes together: 40 batches x 30 items plus the remaining 460 single requests = 1,660 documents
a minute.

1. qbsync: N finalized invoices imported with `qbsync ledger import`, mapped, exported by one
   sync cycle (the cycle function, the config's default QBO limits, i.e. Intuit's), while another
   process runs `qbsync qbo items` every few seconds against the same company: both draw from the
   company's one budget.
2. Baseline "loop": one POST /invoice per invoice, sequentially (httpx directly).
3. Baseline "batches": sequential POST /batch of 30 creates each (httpx directly).
Each runs against its own simulated company, so their throttle windows do not overlap.

Intuit's windows slide: a company that sent nothing in the last minute may spend a whole minute's
budget at once. The "sustained" figure is the median time qbsync took for each run of 1,660
consecutive invoices starting after the first minute, which is what the ceiling bounds.

    uv run python bench/throughput.py [--n 10000] [--quick] [--loop-n 300] [--batch-n 1200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

CEILING = 1660.0  # documents per minute: 40 batches x 30 + the 460 other requests
BATCH_CEILING = 1200.0  # the batch lane alone
LATENCY = "intuit"
TARGET = 1500.0


class Lister:
    """`qbsync qbo items` in its own process every `every` seconds, until stopped."""

    def __init__(self, key: str, every: float) -> None:
        self.key = key
        self.every = every
        self.runs = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            proc = subprocess.run(
                [*h.CLI, "qbo", "items", "--company", self.key, "--json"],
                capture_output=True,
                text=True,
            )
            self.runs += 1
            self.failed += proc.returncode != 0

    def __enter__(self) -> Lister:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def sustained_rate(marks: list[tuple[float, int]], t0: float) -> float | None:
    """Documents a minute: the median time of each run of CEILING consecutive documents that
    starts after the first minute (whose budget a fresh company may spend at once)."""
    spans = []
    for t_start, d_start in marks:
        if t_start - t0 < 60.5:
            continue
        t_end = next((t for t, d in marks if d >= d_start + CEILING), None)
        if t_end is not None:
            spans.append(t_end - t_start)
    return CEILING / statistics.median(spans) * 60 if spans else None


def qbsync_export(sim: h.Sim, home: Path, n: int, list_every: float) -> dict[str, Any]:
    from qbsync.sync.cycle import cycle
    from qbsync.sync.lock import company_lock
    from qbsync.workspace import Workspace

    key = "acme"
    h.connect(sim, key)
    h.map_demo(key)
    h.import_ledger(key, h.ledger_file(home, h.invoices(n, prefix="Q")))
    marks: list[tuple[float, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "outbound":
            marks.append((time.perf_counter(), done))

    sim.control.clear_request_log()
    with Workspace() as ws, Lister(key, list_every) as lister:
        key, settings = ws.company(key)
        with company_lock(key, "bench"):
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            result = asyncio.run(cycle(ws, key, settings, trigger="bench", progress=progress))
            seconds = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
    counts = sim.control.counts(sim.realm_id)
    return {
        "n": n,
        "seconds": seconds,
        "cpu": cpu,
        "exported": result.stats["exported"],
        "result": result.result,
        "per_min": result.stats["exported"] / seconds * 60,
        "sustained_per_min": sustained_rate(marks, t0),
        "calls": counts["total"],
        "endpoints": counts["endpoints"],
        "throttled": counts["throttled"],
        "lister_runs": lister.runs,
        "lister_failed": lister.failed,
    }


def baseline_company(sim: h.Sim, key: str) -> tuple[str, str, dict[tuple[str, str], str]]:
    """A fresh simulated company for a baseline; returns (realm, access token, mapping ids)."""
    from qbsync.companies.session import run
    from qbsync.companies.tokens import CompanyTokens
    from qbsync.workspace import Workspace

    realm = sim.control.add_company(f"Baseline {key}", seed="demo")
    h.connect(sim, key, realm)
    h.map_demo(key)
    with Workspace() as ws:
        token = run(CompanyTokens(ws, key).access_token())
        ids = {
            (r["kind"], r["local_id"]): r["qbo_id"]
            for r in ws.store.query("SELECT * FROM mappings WHERE company = ?", [key])
        }
    return realm, token, ids


def naive_body(doc: dict[str, Any], ids: dict[tuple[str, str], str]) -> dict[str, Any]:
    """What a user's script would send: the lines, customer, number and date."""
    lines = []
    taxable = False
    for line in doc["lines"]:
        qty = Decimal(str(line["quantity"]))
        price = Decimal(line["unit_price"])
        tax = "TAX" if line["tax_region"] == "TR-HC" else "NON"
        taxable = taxable or tax == "TAX"
        lines.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": str(qty * price),
                "SalesItemLineDetail": {
                    "ItemRef": {"value": ids[("items", line["service"])]},
                    "Qty": str(qty),
                    "UnitPrice": str(price),
                    "TaxCodeRef": {"value": tax},
                },
            }
        )
    body: dict[str, Any] = {
        "CustomerRef": {"value": ids[("customers", doc["client"])]},
        "DocNumber": doc["number"],
        "TxnDate": doc["date"],
        "Line": lines,
    }
    if taxable:
        body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": ids[("tax_codes", "TR-HC")]}}
    return body


def baseline(sim: h.Sim, key: str, n: int, batch: int) -> dict[str, Any]:
    """Sequential creates (batch=1: POST /invoice each; else POST /batch of `batch`)."""
    realm, token, ids = baseline_company(sim, key)
    docs = h.invoices(n, prefix=key[:1].upper())
    base = f"{sim.url}/v3/company/{realm}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    throttled_seen = 0
    created = 0
    with httpx.Client(timeout=120, headers=headers) as http:

        def post(path: str, payload: dict[str, Any]) -> dict[str, Any]:
            nonlocal throttled_seen
            while True:
                resp = http.post(f"{base}/{path}", params={"minorversion": "75"}, json=payload)
                if resp.status_code == 429:
                    throttled_seen += 1
                    time.sleep(5)  # a user's script backs off and tries again
                    continue
                resp.raise_for_status()
                result: dict[str, Any] = resp.json()
                return result

        t0 = time.perf_counter()
        if batch == 1:
            for doc in docs:
                post("invoice", naive_body(doc, ids))
                created += 1
        else:
            for start in range(0, n, batch):
                chunk = docs[start : start + batch]
                answer = post(
                    "batch",
                    {
                        "BatchItemRequest": [
                            {"bId": str(i), "operation": "create", "Invoice": naive_body(d, ids)}
                            for i, d in enumerate(chunk)
                        ]
                    },
                )
                created += sum(1 for r in answer["BatchItemResponse"] if "Invoice" in r)
        seconds = time.perf_counter() - t0
    counts = sim.control.counts(realm)
    return {
        "n": n,
        "created": created,
        "seconds": seconds,
        "per_min": created / seconds * 60,
        "calls": counts["total"],
        "throttled": counts["throttled"],
        "throttled_seen": throttled_seen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="invoices qbsync exports")
    parser.add_argument("--quick", action="store_true", help="1,200 invoices, shorter baselines")
    parser.add_argument(
        "--loop-n",
        type=int,
        default=None,
        help="invoices for the one-create-per-invoice baseline (its rate extrapolates; 300)",
    )
    parser.add_argument(
        "--batch-n", type=int, default=None, help="invoices for the batch baseline (1,200)"
    )
    parser.add_argument(
        "--list-every", type=float, default=5.0, help="seconds between `qbsync qbo items` runs"
    )
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    n = 1200 if args.quick else args.n
    loop_n = args.loop_n or (120 if args.quick else 300)
    batch_n = args.batch_n or (600 if args.quick else 1200)

    print(f"machine: {h.machine()}")
    print(f"simulator: limits intuit, latency {LATENCY} (250 ms per request + 60 ms per item)")
    with h.workspace() as home, h.Sim(limits="intuit", latency=LATENCY) as sim:
        q = qbsync_export(sim, home, n, args.list_every)
        print(
            f"qbsync: {q['exported']}/{q['n']} invoices in {q['seconds']:.1f} s = "
            f"{q['per_min']:.0f}/min over the run ({q['result']}); {q['calls']} API calls "
            f"{q['endpoints']}; 429s: {q['throttled']}; `qbo items` beside it: "
            f"{q['lister_runs']} runs, {q['lister_failed']} failed; qbsync's CPU "
            f"{q['cpu']:.1f} s ({q['cpu'] / q['seconds']:.0%} of the wall time)"
        )
        if q["sustained_per_min"]:
            print(
                f"qbsync sustained (per 1,660 after the first minute): "
                f"{q['sustained_per_min']:.0f}/min"
            )
        loop = batches = None
        if not args.skip_baselines:
            loop = baseline(sim, "loop", loop_n, 1)
            print(
                f"baseline loop (one POST /invoice each, httpx): {loop['created']} in "
                f"{loop['seconds']:.1f} s = {loop['per_min']:.0f}/min "
                f"(measured on {loop['n']}, the rate is flat so it extrapolates to N); "
                f"429s: {loop['throttled']}"
            )
            batches = baseline(sim, "batches", batch_n, 30)
            print(
                f"baseline sequential batches of 30 (httpx): {batches['created']} in "
                f"{batches['seconds']:.1f} s = {batches['per_min']:.0f}/min "
                f"(measured on {batches['n']}, extrapolates); 429s: {batches['throttled']}"
            )
    rate = q["sustained_per_min"] or q["per_min"]
    print(
        f"qbsync / two-lane ceiling (1,660/min): {q['per_min'] / CEILING:.1%} over the run", end=""
    )
    if q["sustained_per_min"]:
        print(f", {q['sustained_per_min'] / CEILING:.1%} sustained")
    else:
        print(" (within the first minute: bursts are allowed)")
    if loop:
        print(f"qbsync / loop baseline: {rate / loop['per_min']:.1f}x")
    if batches:
        print(f"qbsync / batch baseline: {rate / batches['per_min']:.1f}x")
    ok = rate >= TARGET and q["throttled"] == 0 and q["exported"] == n and q["lister_failed"] == 0
    print(
        f"SUMMARY throughput: qbsync {q['per_min']:.0f}/min over {n} invoices"
        + (f", sustained {q['sustained_per_min']:.0f}/min" if q["sustained_per_min"] else "")
        + f" ({rate / CEILING:.0%} of the two-lane ceiling), 429s {q['throttled']}"
        + (f", loop {loop['per_min']:.0f}/min" if loop else "")
        + (f", batches {batches['per_min']:.0f}/min" if batches else "")
        + f"; target >={TARGET:.0f}/min and 0 429s: {'met' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
