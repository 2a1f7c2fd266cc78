"""API calls per sync cycle, from the simulator's own request counts.

A connected company (the simulator in its own process, Intuit's limits on, no added latency),
its lists mapped, then three `qbsync sync run` cycles through the real CLI, each measured:
  1. idle: nothing changed on either side (after a first cycle that read the company facts);
  2. 100 new finalized invoices imported with `qbsync ledger import`;
  3. 100 payments recorded in QuickBooks (by the simulator, as a QuickBooks user) on those
     invoices, which the cycle applies to the ledger.
Targets: an idle cycle makes 1 call; exports take one call per 30 documents plus a small constant.

    uv run python bench/calls.py [--n 100]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

KEY = "acme"


def measured_cycle(sim: h.Sim) -> tuple[dict[str, Any], dict[str, int], int]:
    before = sim.control.counts(sim.realm_id)
    out = h.cli("sync", "run", "--company", KEY)["data"]["cycles"][0]
    after = sim.control.counts(sim.realm_id)
    endpoints = {
        k: v - before["endpoints"].get(k, 0)
        for k, v in after["endpoints"].items()
        if v - before["endpoints"].get(k, 0)
    }
    return out, endpoints, after["throttled"] - before["throttled"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="invoices and payments per cycle")
    args = parser.parse_args()
    n = args.n
    print(f"machine: {h.machine()}")
    rows: list[tuple[str, int, dict[str, int], int]] = []
    with h.workspace() as home, h.Sim(limits="intuit", latency="none") as sim:
        h.connect(sim, KEY)
        h.map_demo(KEY)
        h.ensure_company(KEY)
        first, _, _ = measured_cycle(sim)  # reads the company facts once (cached for hours)
        assert first["result"] == "succeeded", first

        idle, eps, thr = measured_cycle(sim)
        assert idle["stats"]["ops_processed"] == 0, idle
        rows.append(("idle cycle", sum(eps.values()), eps, thr))

        h.import_ledger(KEY, h.ledger_file(home, h.invoices(n, prefix="C")))
        export, eps, thr = measured_cycle(sim)
        assert export["stats"]["exported"] == n, export
        rows.append(
            (
                f"{n} new invoices (first export: reads the company facts)",
                sum(eps.values()),
                eps,
                thr,
            )
        )

        h.import_ledger(KEY, h.ledger_file(home, h.invoices(n, start=n + 1, prefix="C")))
        again, eps, thr = measured_cycle(sim)
        assert again["stats"]["exported"] == n, again
        rows.append((f"{n} more new invoices (facts cached)", sum(eps.values()), eps, thr))

        from qbsync.workspace import Workspace

        with Workspace() as ws:
            qbo_ids = [
                r[0]
                for r in ws.store.execute(
                    "SELECT qbo_id FROM qbo_links WHERE company = ? AND local_type = 'invoice'",
                    [KEY],
                )
            ]
        for qbo_id in qbo_ids[:n]:  # payments on the first n exported invoices
            inv = sim.control.get(sim.realm_id, "Invoice", qbo_id)
            sim.control.record_payment(
                sim.realm_id, inv["CustomerRef"]["value"], inv["TotalAmt"], invoice_id=qbo_id
            )
        paid, eps, thr = measured_cycle(sim)
        assert paid["stats"]["payments_applied"] == n, paid
        rows.append((f"{n} QuickBooks payments", sum(eps.values()), eps, thr))

    for label, total, eps, thr in rows:
        print(f"{label}: {total} calls {eps}; 429s: {thr}")
    idle_calls = rows[0][1]
    batches = math.ceil(n / 30)
    first_calls, warm_calls, pay_calls = rows[1][1], rows[2][1], rows[3][1]
    # Exports: the batches, the change feed, and one DocNumber lookup per entity before creating
    # (duplicate prevention): batches + 2.
    ok = idle_calls == 1 and first_calls - batches <= 4 and warm_calls - batches <= 2
    print(
        f"SUMMARY calls: idle {idle_calls} (target 1); {n} exports {warm_calls} = {batches} "
        f"batches + {warm_calls - batches} ({first_calls} when the company facts are read, once "
        f"per 6 h); {n} QuickBooks payments {pay_calls}; targets {'met' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
