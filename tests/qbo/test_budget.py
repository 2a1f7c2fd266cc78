"""The shared budget: one realm's windows in a SQLite file, the same for every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qbsync.qbo.budget import SharedPacer, default_budget_file
from qbsync.qbo.limits import Limits
from qbsync.qbo.pacing import pacer_for, reset_pacers
from tests.support import shared_lock_held


def test_two_pacers_on_one_file_share_the_windows(tmp_path: Path) -> None:
    path = tmp_path / "budget.db"
    a = SharedPacer("123", Limits(), path, second_window=0.0)
    b = SharedPacer("123", Limits(), path, second_window=0.0)
    other = SharedPacer("456", Limits(), path, second_window=0.0)
    granted = 0
    for _ in range(300):
        granted += a.try_acquire() == 0
        granted += b.try_acquire() == 0
    assert granted == 500  # together, not 500 each
    assert a.try_acquire() > 59 and b.try_acquire() > 59
    assert other.try_acquire() == 0  # another realm has its own budget
    assert sum(a.try_acquire(batch=True) == 0 for _ in range(50)) == 0  # minute spent
    a.reset()
    assert sum(b.try_acquire(batch=True) == 0 for _ in range(50)) == 40
    assert a.batch_room() == 0


def test_the_budget_file_is_under_qbsync_home(tmp_path: Path) -> None:
    reset_pacers()
    assert default_budget_file().is_relative_to(os.environ["QBSYNC_HOME"])
    pacer = pacer_for("123", Limits())
    assert pacer is pacer_for("123", Limits())
    assert isinstance(pacer, SharedPacer)
    pacer.try_acquire()
    assert pacer.path == default_budget_file() and pacer.path.exists()
    # Private as every file of the workspace: its write-ahead log takes the same mode.
    for made in pacer.path.parent.glob(pacer.path.name + "*"):
        assert made.stat().st_mode & 0o077 == 0, (made.name, oct(made.stat().st_mode))


@pytest.mark.slow
def test_a_second_pacer_on_the_file_leaves_the_first_ones_locks_alone(tmp_path: Path) -> None:
    # An open connection in WAL mode holds a shared lock on the database file; opening and
    # closing the file again in the same process drops it (POSIX locks are per process), and
    # another process may then take the file for unused and checkpoint its log away: the
    # budget read "database disk image is malformed" in a daemon syncing two companies.
    path = tmp_path / "budget.db"
    first = SharedPacer("123", Limits(), path, second_window=0.0)
    first.try_acquire()
    second = SharedPacer("456", Limits(), path, second_window=0.0)
    second.try_acquire()
    assert shared_lock_held(path)


DRAW = """
import json, sys, time
from pathlib import Path
from qbsync.qbo.budget import SharedPacer
from qbsync.qbo.limits import Limits
path, start, batches, singles = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pacer = SharedPacer("123", Limits(), path, second_window=0.0)
pacer.batch_room()  # opens the file before the race
while time.time() < start:
    time.sleep(0.001)
got = {"batch": 0, "single": 0}
for i in range(max(batches, singles)):
    if i < batches and pacer.try_acquire(batch=True) == 0:
        got["batch"] += 1
    if i < singles and pacer.try_acquire() == 0:
        got["single"] += 1
print(json.dumps(got))
"""


@pytest.mark.slow
def test_processes_drawing_at_once_never_exceed_either_lane(tmp_path: Path) -> None:
    path = tmp_path / "budget.db"
    SharedPacer("123", Limits(), path).reset()
    start = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRAW, str(path), str(start), "30", "400"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    # Each process alone would take 30 batches and 400 singles; together they get the realm's
    # minute exactly once: 40 batches and 460 singles (each draws a batch first, so the batch
    # lane is in use before any single).
    assert sum(r["batch"] for r in results) == 40
    assert sum(r["single"] for r in results) == 460
    assert sum(1 for r in results if r["single"] > 0) >= 2, results  # they did race


def test_requests_in_flight_are_capped_across_pacers_until_answered(tmp_path: Path) -> None:
    path = tmp_path / "budget.db"
    limits = Limits(concurrent_requests=3, requests_per_second=1000)
    a = SharedPacer("123", limits, path)
    b = SharedPacer("123", limits, path)
    tickets = [a.draw()[1], b.draw()[1], a.draw(batch=True)[1]]
    assert None not in tickets
    delay, none = b.draw()
    assert delay > 0 and none is None  # three in flight in the realm: a fourth waits
    a.settle(tickets[1])  # b's first request answered (settled by any pacer of the realm)
    assert b.draw()[0] == 0


def test_a_dead_process_does_not_hold_its_slots(tmp_path: Path) -> None:
    path = tmp_path / "budget.db"
    clock = [1000.0]
    limits = Limits(concurrent_requests=2, requests_per_second=1000)
    dead = SharedPacer("123", limits, path, clock=lambda: clock[0])
    dead.draw(), dead.draw()  # never answered: its process was killed
    alive = SharedPacer("123", limits, path, clock=lambda: clock[0])
    assert alive.draw()[0] > 0
    clock[0] += 131  # past the request timeout: they are counted out
    assert alive.draw()[0] == 0


def test_the_in_memory_pacer_caps_requests_in_flight() -> None:
    from qbsync.qbo.pacing import Pacer

    pacer = Pacer(Limits(concurrent_requests=2, requests_per_second=1000))
    first, second = pacer.draw()[1], pacer.draw()[1]
    assert pacer.draw()[0] > 0
    pacer.settle(first)
    assert pacer.draw()[0] == 0
    assert second is not None


@pytest.mark.slow
def test_a_killed_process_does_not_hold_its_slots(tmp_path: Path) -> None:
    path = tmp_path / "budget.db"
    limits = Limits(concurrent_requests=2, requests_per_second=1000)
    draw = (
        "import sys; from pathlib import Path; from qbsync.qbo.budget import SharedPacer; "
        "from qbsync.qbo.limits import Limits; "
        "p = SharedPacer('123', Limits(concurrent_requests=2, requests_per_second=1000), "
        "Path(sys.argv[1])); assert p.draw()[0] == 0 and p.draw()[0] == 0"
    )
    subprocess.run([sys.executable, "-c", draw, str(path)], check=True, timeout=60)
    # Its two requests were never answered (the process is gone): the slots are free at once.
    assert SharedPacer("123", limits, path).draw()[0] == 0
