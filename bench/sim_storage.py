"""The simulator's storage at scale: a company of 100,000 invoices, with `--state` and without.

Prints:
(a) qbsync's export throughput against `--latency intuit --limits intuit` into that company,
    with `--state FILE` and without, and their ratio (goal: within 5 %);
(b) query page latencies on it (goal: under 50 ms), measured in the simulator's process;
(c) the start-up of `qbsync sim serve --state FILE` on it (goal: under 1 s): the state opening
    alone, and the whole command until it prints its JSON line;
(d) the simulator's resident memory at 10,000 and 100,000 invoices, with and without `--state`,
    after the same workload (pages through every invoice, creates, change data capture).

The big company is built directly (`load_invoices`: rows written straight into the store, not
100,000 HTTP creates). Subprocesses run with PYTHONDONTWRITEBYTECODE unset, so they use and
write bytecode caches as a user's would (this script unsets it in its own environment).

    uv run python bench/sim_storage.py [--quick] [--n 100000] [--small 10000] [--export 1200]

`--quick`: 10,000 and 2,000 invoices, 300 exported (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import _harness as h  # noqa: E402

from qbsync.sim.clock import COMPANY_TZ, iso_seconds  # noqa: E402
from qbsync.sim.core import Simulator  # noqa: E402
from qbsync.sim.values import dumps  # noqa: E402

OLD_DAYS = 40  # the loaded history is older than CDC's 30-day window, as real history is


def load_invoices(sim: Simulator, n: int, chunk: int = 5000) -> None:
    """Add n open invoices to the default company straight into its tables: copies of one
    invoice the company built itself, each with its own id, number, customer, date and stamps;
    the customers' balances move by their totals, as creates would move them."""
    c = sim.company()
    customers = [o for o in c.data["Customer"].values() if o.get("Active", True)]
    template = c.create(
        "Invoice",
        {
            "CustomerRef": {"value": customers[0]["Id"]},
            "TxnDate": "2025-09-01",
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "300.00",
                    "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "Qty": 2, "UnitPrice": 150},
                }
            ],
        },
    )
    ts = int(sim.clock.timestamp()) - OLD_DAYS * 86400
    text = iso_seconds(datetime.fromtimestamp(ts, tz=COMPANY_TZ))
    totals: dict[str, Any] = {}
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(n, start + chunk)):
            cust = customers[i % len(customers)]
            obj = dict(template)
            obj["Id"] = c.next_id("Invoice")
            obj["DocNumber"] = f"L{i + 1}"
            obj["CustomerRef"] = {"value": cust["Id"], "name": cust["DisplayName"]}
            obj["TxnDate"] = obj["DueDate"] = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
            obj["MetaData"] = {"CreateTime": text, "LastUpdatedTime": text}
            obj["_ts"] = ts
            obj["_seq"] = c._next_change()
            totals[cust["Id"]] = totals.get(cust["Id"], 0) + template["TotalAmt"]
            rows.append((obj["Id"], obj))
        c.data["Invoice"].load(rows)
    for cid, total in totals.items():
        c._adjust_customer(cid, total)
    sim.save()


def build_state(path: Path, n: int) -> float:
    t0 = time.perf_counter()
    sim = Simulator(seed="demo", auto_consent=True, state_file=path)
    load_invoices(sim, n)
    sim.store.close()
    return time.perf_counter() - t0


# The simulator in its own process: state file ("" for memory), invoices to load first, limits,
# latency; prints its info with how long opening the state took and its pid.
SERVE = """
import json, os, signal, sys, threading, time
sys.path.insert(0, sys.argv[5])
from qbsync.sim.core import Simulator
from qbsync.sim.server import SimServer
state, preload, limits, latency = sys.argv[1:5]
t0 = time.perf_counter()
sim = Simulator("demo", auto_consent=True, limits=limits, latency=latency, state_file=state or None)
opened = time.perf_counter() - t0
if int(preload):
    from sim_storage import load_invoices
    load_invoices(sim, int(preload))
server = SimServer(sim=sim).start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
print(json.dumps({**server.info(), "opened_s": opened, "pid": os.getpid()}), flush=True)
try:
    stop.wait()
finally:
    server.stop()
"""


class ServedSim(h.Sim):
    def __init__(self, state: Path | None, preload: int, *, latency: str = "intuit") -> None:
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-c", SERVE, str(state or ""), str(preload)),
                *("intuit", latency, str(BENCH)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator did not start")
        self.info = json.loads(line)
        self.url = self.info["url"]
        self.realm_id = self.info["realm_id"]
        from qbsync.sim.control import SimControl

        self.control = SimControl(self.url, self.info["admin_key"], timeout=60)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def export(state: Path | None, preload: int, n: int) -> dict[str, Any]:
    from throughput import qbsync_export

    with h.workspace() as home:
        sim = ServedSim(state, preload)
        try:
            out = qbsync_export(sim, home, n)
            out["rss_mb"] = rss_mb(int(sim.info["pid"]))
        finally:
            sim.stop()
    return out


# The same workload for the memory figures, in a process of its own: open (or load), page
# through every invoice 1,000 at a time, 200 creates, a CDC; then the resident memory.
PROBE = """
import json, os, sys, time
sys.path.insert(0, sys.argv[3])
from qbsync.sim.core import Simulator
state, preload = sys.argv[1], int(sys.argv[2])
sim = Simulator("demo", state_file=state or None)
if preload:
    from sim_storage import load_invoices
    load_invoices(sim, preload)
c = sim.company()
n = len(c.data["Invoice"])
for start in range(1, n + 1, 1000):
    c.query(f"SELECT * FROM Invoice STARTPOSITION {start} MAXRESULTS 1000")
body = {"CustomerRef": {"value": "1"}, "Line": [{"Amount": 10, "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "2"}}}]}
for _ in range(200):
    sim.create(sim.default_realm, "Invoice", body)
c.cdc(["Invoice", "Payment"], time.time() - 3600)
rss = [l for l in open(f"/proc/{os.getpid()}/status") if l.startswith("VmRSS")][0].split()[1]
print(json.dumps({"invoices": n, "rss_mb": int(rss) / 1024}))
"""


def probe(state: Path | None, preload: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(state or ""), str(preload), str(BENCH)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


QUERIES = {
    "page 100, deep (STARTPOSITION n/2)": "SELECT * FROM Invoice STARTPOSITION {mid} MAXRESULTS 100",
    "page 1000, deep": "SELECT * FROM Invoice STARTPOSITION {mid} MAXRESULTS 1000",
    "DocNumber IN (30 numbers)": "SELECT * FROM Invoice WHERE DocNumber IN ({nums})",
    "CustomerRef = '2', page 100": "SELECT * FROM Invoice WHERE CustomerRef = '2' "
    "STARTPOSITION 501 MAXRESULTS 100",
    "LastUpdatedTime > a day ago": "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > "
    "'{day_ago}'",
    "TxnDate range, ORDERBY TxnDate, page 100": "SELECT * FROM Invoice WHERE TxnDate >= "
    "'2025-06-01' AND TxnDate < '2025-07-01' ORDERBY TxnDate STARTPOSITION 101 MAXRESULTS 100",
    "COUNT(*) by customer": "SELECT COUNT(*) FROM Invoice WHERE CustomerRef = '3'",
}


def query_latency(state: Path) -> dict[str, tuple[float, float, float]]:
    """(first, median and best of 5 more) milliseconds per query, opening the state afresh:
    the query and the bytes of its HTTP answer, as the simulator makes them for a request."""
    sim = Simulator(state_file=state)
    c = sim.company()
    n = len(c.data["Invoice"])
    day_ago = iso_seconds(datetime.fromtimestamp(time.time() - 86400, tz=COMPANY_TZ))
    nums = ", ".join(f"'L{i}'" for i in range(n // 3, n // 3 + 30 * 97, 97))
    out = {}
    for name, q in QUERIES.items():
        text = q.format(mid=n // 2, nums=nums, day_ago=day_ago)
        times = []
        for _ in range(6):
            t0 = time.perf_counter()
            dumps({"QueryResponse": c.query(text, raw=True)})
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = (times[0], statistics.median(times[1:]), min(times[1:]))
    sim.store.close()
    return out


def serve_start(state: Path) -> float:
    """`qbsync sim serve --state FILE` until it prints its JSON line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*h.CLI, "sim", "serve", "--state", str(state), "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    seconds = time.perf_counter() - t0
    proc.terminate()
    proc.wait(10)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k/2k invoices, 300 exported")
    parser.add_argument("--n", type=int, default=100_000, help="invoices in the big company")
    parser.add_argument("--small", type=int, default=10_000, help="the smaller memory figure")
    parser.add_argument("--export", type=int, default=1200, help="invoices qbsync exports")
    args = parser.parse_args()
    if args.quick:
        args.n, args.small, args.export = 10_000, 2_000, 300
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    print(f"machine: {h.machine()}")
    print("subprocesses: PYTHONDONTWRITEBYTECODE unset")
    with tempfile.TemporaryDirectory(prefix="qbsync-simstore-") as tmp:
        big, small = Path(tmp) / "big.db", Path(tmp) / "small.db"
        secs = build_state(big, args.n)
        print(
            f"built a {args.n:,}-invoice state directly in {secs:.1f} s "
            f"({big.stat().st_size / 1e6:.0f} MB)"
        )
        build_state(small, args.small)

        # (c) start-up
        opened = []
        for _ in range(3):
            t0 = time.perf_counter()
            Simulator(state_file=big).store.close()
            opened.append(time.perf_counter() - t0)
        serve = serve_start(big)
        print(
            f"(c) start-up on {args.n:,} invoices: opening the state {min(opened):.3f} s; "
            f"`qbsync sim serve --state` to its JSON line {serve:.2f} s (goal < 1 s)"
        )

        # (b) query pages
        print(
            f"(b) query latency on {args.n:,} invoices, in the simulator's process "
            "(first; median and best of 5 more), goal < 50 ms:"
        )
        for name, (first, med, best) in query_latency(big).items():
            print(f"    {name}: {first:.1f} ms; {med:.1f} ms, {best:.1f} ms")

        # (d) memory
        mem = {
            ("state", args.small): probe(small, 0),
            ("state", args.n): probe(big, 0),
            ("memory", args.small): probe(None, args.small),
            ("memory", args.n): probe(None, args.n),
        }
        for (mode, n), m in mem.items():
            print(
                f"(d) RSS with {'--state' if mode == 'state' else 'no state'} at {n:,} "
                f"invoices after the workload: {m['rss_mb']:.0f} MB"
            )

        # (a) throughput
        with_state = export(big, 0, args.export)
        without = export(None, args.n, args.export)
        ratio = with_state["per_min"] / without["per_min"]
        for name, r in (("--state", with_state), ("no state", without)):
            print(
                f"(a) export of {r['n']} into {args.n:,} invoices, {name}: {r['exported']} in "
                f"{r['seconds']:.1f} s = {r['per_min']:.0f}/min, 429s {r['throttled']}, "
                f"simulator RSS {r['rss_mb']:.0f} MB"
            )
        print(
            f"SUMMARY sim storage: throughput --state/memory {ratio:.1%} (goal >= 95%); "
            f"start-up {min(opened):.2f} s open, {serve:.2f} s serve; "
            f"RSS --state {mem[('state', args.small)]['rss_mb']:.0f} -> "
            f"{mem[('state', args.n)]['rss_mb']:.0f} MB ({args.small:,} -> {args.n:,})"
        )


if __name__ == "__main__":
    main()
