"""Two qbsync processes of one company against one simulator with Intuit's limits on: they draw
from one budget, so that together they never meet a 429, and together they run at the cap."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from qbsync.config import QboLimits
from qbsync.workspace import Workspace
from tests.fixtures.qbo import ConnectedCompany
from tests.sync.helpers import cli_env, qbsync_cmd

REQUESTS = 45  # per process: alone, each would send 10 a second; together they share 10
CONCURRENCY = 5

DRAW = """
import asyncio, json, sys, time
from qbsync.companies.session import open_client
from qbsync.workspace import Workspace

async def main(n: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    done: list[float] = []
    with Workspace() as ws:
        async with open_client(ws, None) as client:
            async def one() -> None:
                async with gate:
                    await client.company_info()
                    done.append(time.time())
            start = float(sys.argv[3])
            await asyncio.sleep(max(0.0, start - time.time()))
            await asyncio.gather(*(one() for _ in range(n)))
    print(json.dumps({"done": done, "calls": client.calls}))

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


@pytest.mark.slow
@pytest.mark.e2e
def test_two_processes_share_the_company_budget(file_company: ConnectedCompany) -> None:
    with Workspace() as ws:  # Intuit's limits in the config, as shipped
        ws.save_config(ws.config.model_copy(update={"qbo": QboLimits()}))
    file_company.control.set_limits("intuit")
    file_company.control.clear_request_log()
    start = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRAW, str(REQUESTS), str(CONCURRENCY), str(start)],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    # A person's `qbsync qbo items` in the middle of it draws from the same budget.
    time.sleep(4.0)
    lister = subprocess.run(qbsync_cmd("qbo", "items"), env=cli_env(), capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert lister.returncode == 0, lister.stderr

    counts = file_company.control.counts(file_company.realm_id)
    assert counts["throttled"] == 0, counts
    assert all(r["calls"] == REQUESTS for r in results)  # none retried
    done = sorted(t for r in results for t in r["done"])
    # Together at the cap: 10 requests per 1.15 s window is 8.7 a second (one process alone
    # would send as many; two with a budget each, twice as many and meet 429s).
    rate = (len(done) - 10) / (done[-1] - done[0])
    assert 7.0 <= rate <= 10.0, rate
