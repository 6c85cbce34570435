"""The one background loop (sweeper, backup scheduler, notifier loops, outbox relays)."""

from __future__ import annotations

import itertools
import threading
import time

from shared.background import BackgroundLoop
from tests.support import wait_for


def test_a_failed_pass_is_reported_the_loop_goes_on_and_pauses_longer_each_time() -> None:
    passes: list[float] = []
    failures: list[str] = []

    def work() -> None:
        passes.append(time.monotonic())
        if len(passes) <= 4:
            raise RuntimeError(f"pass {len(passes)} failed")

    loop = BackgroundLoop("test-loop", work, interval=0.05, longest_pause=0.2,
                          on_failure=lambda exc: failures.append(str(exc)))
    loop.start()
    try:
        wait_for(lambda: len(passes) >= 6, timeout=10, interval=0.01)
    finally:
        loop.stop()
    assert failures == ["pass 1 failed", "pass 2 failed", "pass 3 failed", "pass 4 failed"]
    pauses = [later - earlier for earlier, later in itertools.pairwise(passes)]
    # 0.05, 0.1, 0.2, then capped at 0.2 (not 0.4); after a good pass, the interval again
    assert pauses[0] >= 0.04 and pauses[1] >= 0.09 and pauses[2] >= 0.18
    assert 0.18 <= pauses[3] < 0.38
    assert pauses[4] < 0.18
    assert loop.failures == 0


def test_busy_passes_follow_at_once_idle_ones_wait_and_hurry_wakes_it() -> None:
    calls: list[float] = []
    woken = threading.Event()

    def work() -> bool:
        calls.append(time.monotonic())
        if len(calls) == 5:
            woken.set()
        return len(calls) < 3  # busy twice, then idle

    loop = BackgroundLoop("test-busy", work, interval=60.0, quick=0.01)
    loop.start()
    try:
        wait_for(lambda: len(calls) >= 3, timeout=5, interval=0.01)
        assert calls[2] - calls[0] < 1.0  # busy: no 60 s interval between
        time.sleep(0.2)
        assert len(calls) == 3  # idle: waits for the interval
        loop.hurry(1.0)  # someone waits: quick looks
        assert woken.wait(5)
    finally:
        started = time.monotonic()
        loop.stop()
    assert time.monotonic() - started < 5  # stop wakes and joins the thread


def test_wait_first_waits_one_interval_before_the_first_pass() -> None:
    calls: list[float] = []
    started = time.monotonic()
    loop = BackgroundLoop("test-first", lambda: calls.append(time.monotonic()),
                          interval=0.3, wait_first=True)
    loop.start()
    try:
        wait_for(lambda: calls, timeout=5, interval=0.01)
    finally:
        loop.stop()
    assert calls[0] - started >= 0.25
