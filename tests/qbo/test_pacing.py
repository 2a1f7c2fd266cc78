from __future__ import annotations

import asyncio

from qbsync.qbo.limits import Limits
from qbsync.qbo.pacing import Pacer, pacer_for, reset_pacers


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run_schedule(pacer: Pacer, clock: FakeClock, n: int, batch: bool) -> list[float]:
    """Send n requests as fast as the pacer allows; return their send times."""
    times = []
    while len(times) < n:
        delay = pacer.try_acquire(batch)
        if delay > 0:
            clock.now += delay
        else:
            times.append(clock.now)
    return times


def windows_respected(times: list[float], per: int, window: float) -> bool:
    return all(times[i + per] - times[i] >= window for i in range(len(times) - per))


def test_per_second_and_per_minute_windows() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(), clock=clock)
    times = run_schedule(pacer, clock, 1200, batch=False)
    assert windows_respected(times, 10, 1.0)
    assert windows_respected(times, 500, 60.0)
    # Efficient: the first 500 go out as fast as the per-second window (plus margin) allows.
    assert times[499] - times[0] < 58
    # No idle time beyond the windows: request i + 500 goes out as soon as request i leaves the
    # minute window (request 1199 follows request 699 by one window, 121 s after request 199).
    assert all(times[i + 500] - times[i] < 61.6 for i in range(700))
    assert times[-1] - times[0] < 143


def test_batch_requests_reach_1200_documents_a_minute() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(), clock=clock)
    times = run_schedule(pacer, clock, 80, batch=True)
    assert windows_respected(times, 40, 60.0)
    first_minute = [t for t in times if t - times[0] < 60.5]
    assert len(first_minute) == 40  # 40 batches x 30 documents = 1,200 documents in a minute
    assert times[39] - times[0] < 5


def test_registry_shares_one_pacer_per_realm() -> None:
    reset_pacers()
    a = pacer_for("123", Limits())
    assert pacer_for("123", Limits()) is a
    assert pacer_for("456", Limits()) is not a


def test_acquire_waits_instead_of_exceeding() -> None:
    pacer = Pacer(Limits(requests_per_second=3), second_window=0.2)

    async def burst() -> None:
        for _ in range(7):
            await pacer.acquire()

    asyncio.run(burst())
    assert pacer.waited > 0.3  # seven sends at three per 0.2 s window wait about two windows


def test_singles_leave_the_batch_lane_its_share_while_batches_are_in_use() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(), clock=clock)
    assert pacer.try_acquire(batch=True) == 0
    singles = run_schedule(pacer, clock, 460, batch=False)
    # 460 singles in the minute (500 - 40), the 461st waits for the first to leave the window.
    assert singles[-1] - singles[0] < 60
    assert pacer.try_acquire() >= 60.5 - (singles[-1] - singles[0]) - 0.01
    # Meanwhile the batch lane still has its 39 other batches of the minute.
    assert pacer.batch_room() == 39
    clock.now += 1.2
    assert pacer.try_acquire(batch=True) == 0


def test_a_request_counts_from_its_answer_in_case_it_arrived_late() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(), clock=clock)
    tickets = [pacer.draw()[1] for _ in range(10)]
    clock.now += 0.3  # slow to leave (a new connection, a busy machine): answered 0.3 s later
    for ticket in tickets:
        pacer.settle(ticket)
    clock.now += 0.9  # 1.2 s after the sends, 0.9 s after the answers
    # They may have reached QuickBooks 0.3 s after they were sent: still within its second.
    assert abs(pacer.try_acquire() - 0.25) < 1e-6


def test_once_warmed_up_an_answer_counts_from_its_send_plus_its_extra_delay() -> None:
    clock = FakeClock()
    pacer = Pacer(Limits(requests_per_second=1000), clock=clock)
    for _ in range(10):  # a second's worth of answers, each 0.25 s after its send
        ticket = pacer.draw()[1]
        clock.now += 0.25
        pacer.settle(ticket)
    quick, slow = pacer.draw()[1], pacer.draw()[1]
    clock.now += 0.25
    pacer.settle(quick)
    clock.now += 0.30
    pacer.settle(slow)
    sent = clock.now - 0.55
    # The quick one counts from its send (no slot lost to the latency every request has); the
    # slow one 0.3 s later, the longest it may have taken to reach QuickBooks.
    assert any(abs(t - sent) < 1e-9 for t in pacer._singles)
    assert any(abs(t - (sent + 0.30)) < 1e-9 for t in pacer._singles)
