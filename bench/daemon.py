"""Many companies under one daemon: does every company cycle on schedule, does any starve?

One simulator (its own process, Intuit's limits on, 150 ms per request) holds 50 companies
(SimControl.add_company), each connected through the real OAuth flow under its own key and
mapped; each gets a few invoices to export in its first cycle. One qbsync.sync.daemon.Daemon
runs them all with a shortened interval (default 5 s) for a fixed time (default 60 s), then is
asked to stop. Printed: cycles per company (min/max, and the expected count), the lateness of
each cycle start against its schedule (max and 95th percentile), the gap between cycles, cycle
results and the 429s the simulator answered.

    uv run python bench/daemon.py [--companies 50] [--interval 5] [--duration 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

LATENCY = "150"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--invoices", type=int, default=10, help="to export per company")
    args = parser.parse_args()
    print(f"machine: {h.machine()}")
    print(f"simulator: limits intuit, latency {LATENCY} ms per request")
    from qbsync.ledger.importer import import_files
    from qbsync.sync.cycle import CycleResult
    from qbsync.sync.daemon import Daemon
    from qbsync.workspace import Workspace

    with h.workspace() as home, h.Sim(limits="intuit", latency=LATENCY) as sim:
        keys = []
        t0 = time.perf_counter()
        for i in range(args.companies):
            key = f"co{i:02d}"
            realm = sim.realm_id if i == 0 else sim.control.add_company(f"Company {i}", seed="demo")
            h.connect(sim, key, realm)
            h.map_demo(key)
            h.ensure_company(key)
            path = h.ledger_file(home, h.invoices(args.invoices, prefix=f"D{i}-"), f"{key}.json")
            with Workspace() as ws:
                import_files(ws.store, key, [path])  # in-process: the CLI's start is slow
            keys.append((key, realm))
        print(f"set-up: {args.companies} companies connected and mapped in "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip

        starts: dict[str, list[float]] = defaultdict(list)
        ends: dict[str, list[float]] = defaultdict(list)
        results: dict[str, int] = defaultdict(int)
        began = 0.0

        def on_cycle(result: CycleResult) -> None:
            ends[result.company].append(time.monotonic() - began)
            starts[result.company].append(time.monotonic() - began - result.seconds)
            results[result.result] += 1

        async def run() -> None:
            nonlocal began
            with Workspace() as ws:
                daemon = Daemon(ws, args.interval, on_cycle=on_cycle)
                loop = asyncio.get_running_loop()
                loop.call_later(args.duration, daemon.request_stop)
                began = time.monotonic()
                await daemon.run()
                if daemon.report.errors or daemon.report.skipped:
                    print(
                        f"errors: {daemon.report.errors[:5]}, skipped: {daemon.report.skipped[:5]}"
                    )

        t0 = time.perf_counter()
        asyncio.run(run())
        wall = time.perf_counter() - t0
        throttled = sum(sim.control.counts(realm)["throttled"] for _, realm in keys)
        exported = 0
        with Workspace() as ws:
            exported = ws.store.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = 'done' AND kind = 'export_invoice'"
            ).fetchone()[0]

    counts = [len(starts[k]) for k, _ in keys]
    # Lateness: a company's cycle k should start at (its first start) + k * interval, or right
    # after its previous cycle when that one ran longer than the interval.
    lateness = []
    gaps = []
    for key, _ in keys:
        s, e = starts[key], ends[key]
        for k in range(1, len(s)):
            due = max(s[k - 1] + args.interval, e[k - 1])
            lateness.append(s[k] - due)
            gaps.append(s[k] - s[k - 1])
    first_starts = [starts[k][0] for k, _ in keys if starts[k]]
    expected = int(args.duration // args.interval)
    print(f"daemon ran {wall:.1f} s for {args.companies} companies, interval {args.interval:g} s")
    print(f"cycles: {sum(counts)} ({dict(results)}); per company min {min(counts)}, max "
          f"{max(counts)} (schedule allows about {expected}-{expected + 1})")  # fmt: skip
    print(f"first cycle start: latest {max(first_starts):.2f} s after the daemon started")
    if lateness:
        lateness.sort()
        p95 = lateness[int(0.95 * (len(lateness) - 1))]
        print(f"lateness of cycle starts: max {max(lateness):.2f} s, p95 {p95:.2f} s, "
              f"median {statistics.median(lateness):.2f} s")  # fmt: skip
        print(f"gap between a company's cycles: median {statistics.median(gaps):.2f} s, "
              f"max {max(gaps):.2f} s")  # fmt: skip
    print(f"invoices exported: {exported} of {args.companies * args.invoices}; 429s: {throttled}")
    # Starved: far fewer cycles than the best-served company. Late: behind the schedule.
    starved = [k for (k, _), c in zip(keys, counts, strict=True) if c < max(counts) / 2]
    behind = [k for (k, _), c in zip(keys, counts, strict=True) if c < expected - 1]
    failed = sum(v for k, v in results.items() if k not in ("succeeded", "cancelled"))
    worst = max(lateness) if lateness else 0.0
    on_schedule = not behind and worst < 1.0
    ok = on_schedule and not starved and throttled == 0 and failed == 0
    print(
        f"SUMMARY daemon: {args.companies} companies, {sum(counts)} cycles in "
        f"{args.duration:g} s at {args.interval:g} s, per company {min(counts)}-{max(counts)} "
        f"(expected {expected}), max lateness {worst:.2f} s, behind schedule {len(behind)}, "
        f"starved {len(starved)}, failed {failed}, 429s {throttled}; "
        f"on schedule (within one cycle, lateness < 1 s) {'met' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
