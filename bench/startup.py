"""Start-up: how long `qbsync --help`, `--version`, `status` and an idle `sync run` take, cold and
warm.

- warm: bytecode cached (PYTHONDONTWRITEBYTECODE unset; each command runs once first so that
  every module it imports has its .pyc), the way an installed qbsync runs day to day.
- cold: no bytecode at all (PYTHONDONTWRITEBYTECODE=1 and PYTHONPYCACHEPREFIX pointing at an empty
  directory, so neither qbsync's nor its libraries' .pyc files are read or written): every
  module is compiled from source on every start, as in a shell that sets
  PYTHONDONTWRITEBYTECODE=1 over a fresh install.

Each command runs as the installed `qbsync` script in a child process (best wall time of
--repeat runs; CPU user+sys and peak RSS from os.wait4's rusage), in a workspace with one company
connected to the simulator (its own process, no added latency, Intuit's limits) and one sync
cycle done, so that `sync run` is idle (one change-feed call). Targets (warm): --help and
--version under 0.15 s, status under 0.2 s.

    uv run python bench/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402
from local import LAUNCHER  # noqa: E402

KEY = "acme"
COMMANDS: dict[str, list[str]] = {
    "--version": ["--version"],
    "--help": ["--help"],
    "status": ["status", "--company", KEY],
    "sync run (idle)": ["sync", "run", "--company", KEY, "--quiet"],
}
# Shell completion: what bash runs on TAB (the script with these variables set).
COMPLETIONS: dict[str, dict[str, str]] = {
    "TAB after `qbsync s`": {"COMP_WORDS": "qbsync s", "COMP_CWORD": "1"},
    "TAB after `qbsync sync r`": {"COMP_WORDS": "qbsync sync r", "COMP_CWORD": "2"},
}
TARGETS = {"--version": 0.15, "--help": 0.15, "status": 0.2, "sync run (idle)": 0.2}


def qbsync_script() -> list[str]:
    script = Path(sys.executable).parent / "qbsync"
    return [str(script)] if script.exists() else h.CLI


def run_once(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    # Through local.py's small launcher: a child forked straight from this process would report
    # this process's peak RSS as its own.
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv], env=env, capture_output=True, text=True
    )
    if proc.returncode not in (0, 1):  # status answers 1 when something needs a look
        raise RuntimeError(f"{argv[1:]} exited {proc.returncode}: {proc.stderr[-300:]}")
    usage = json.loads(proc.stderr.strip().splitlines()[-1])
    return {
        "wall": usage["wall"],
        "cpu": usage["user"] + usage["sys"],
        "rss_mb": usage["maxrss_kb"] / 1024,
    }


def measure(argv: list[str], env: dict[str, str], repeat: int) -> dict[str, float]:
    runs = [run_once(argv, env) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall"])
    return {**best, "rss_mb": max(r["rss_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best wall kept)")
    args = parser.parse_args()
    print(f"machine: {h.machine()}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    base = qbsync_script()
    results: dict[str, dict[str, dict[str, Any]]] = {"warm": {}, "cold": {}}
    with h.workspace() as _home, h.Sim(limits="intuit", latency="none") as sim:
        h.connect(sim, KEY)
        h.map_demo(KEY)
        h.ensure_company(KEY)
        first = h.cli("sync", "run", "--company", KEY)["data"]["cycles"][0]
        assert first["result"] == "succeeded", first
        # Idle means nothing changed since the last cycle. The first cycle's own exports come
        # back in QuickBooks' change feed, and every cycle re-reads the 5 minutes before its
        # cursor: a second overlap lets them fall out of the window, as a quarter of an hour
        # between cron runs does.
        h.cli("config", "set", "sync.overlap", "1s")
        time.sleep(1.5)
        h.cli("sync", "run", "--company", KEY)  # reads the echoes once, moves the cursor
        time.sleep(1.5)
        idle = h.cli("sync", "run", "--company", KEY)["data"]["cycles"][0]
        assert idle["stats"]["inbound_changes"] == 0 and idle["stats"]["ops_processed"] == 0, idle
        warm = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        with tempfile.TemporaryDirectory(prefix="qbsync-nopyc-") as empty:
            cold = {**warm, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty}
            python = [sys.executable, "-c", "pass"]
            runs: dict[str, tuple[list[str], dict[str, str]]] = {"python -c pass": (python, {})}
            runs.update({label: ([*base, *argv], {}) for label, argv in COMMANDS.items()})
            complete = {"_QBSYNC_COMPLETE": "complete_bash"}
            runs.update({label: (base, {**complete, **v}) for label, v in COMPLETIONS.items()})
            for label, (full, extra) in runs.items():
                run_once(full, {**warm, **extra})  # writes the bytecode the warm runs read
                results["warm"][label] = measure(full, {**warm, **extra}, args.repeat)
                results["cold"][label] = measure(full, {**cold, **extra}, args.repeat)
    print("bytecode modes: warm = cached .pyc (PYTHONDONTWRITEBYTECODE unset); cold = no .pyc")
    print("(PYTHONDONTWRITEBYTECODE=1, PYTHONPYCACHEPREFIX=an empty directory)")
    print(f"load average at the start: {load:.2f}")
    print(
        f"{'command':<26} {'warm wall':>10} {'warm CPU':>9} {'cold wall':>10} {'cold CPU':>9} RSS"
    )
    for label in results["warm"]:
        w, c = results["warm"][label], results["cold"][label]
        print(
            f"{label:<26} {w['wall']:>9.3f}s {w['cpu']:>8.3f}s {c['wall']:>9.3f}s "
            f"{c['cpu']:>8.3f}s {w['rss_mb']:.0f} MB"
        )
    checks = {
        f"{label}<{limit}s": results["warm"][label]["wall"] < limit
        for label, limit in TARGETS.items()
    }
    print(
        "SUMMARY startup (warm = bytecode cached, cold = no bytecode; best wall of "
        f"{args.repeat}): "
        + ", ".join(
            f"{label} {results['warm'][label]['wall']:.3f}/{results['cold'][label]['wall']:.3f} s"
            for label in [*COMMANDS, *COMPLETIONS]
        )
        + "; "
        + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in checks.items())
    )


if __name__ == "__main__":
    main()
