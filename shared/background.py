"""The background loop every service runs its periodic work in.

The checker's sweeper, the backup scheduler, the notifier's planning and sending
loops and every outbox relay are one of these: a daemon thread that does a pass,
waits (:class:`shared.pacing.Pace`: the interval, or quick looks after
:meth:`BackgroundLoop.hurry`), and outlives any one failed pass. A failed pass
is logged and the next one waits longer, doubling from the interval up to
``longest_pause``, so a dependency that is away is not hammered; the first pass
that succeeds returns to the interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from shared.pacing import Pace

log = logging.getLogger(__name__)

#: The longest pause between failed passes (unless the interval itself is longer).
LONGEST_PAUSE = 5.0


class BackgroundLoop:
    """Runs ``work`` pass after pass in a thread of its own until stopped.

    ``work`` returns whether it found work; a busy pass is followed by the next
    one at once (``again_when_busy``), an idle one by the pace's wait.
    ``on_failure`` says how a failed pass is logged (the default logs the
    traceback); it gets the exception and returns nothing.
    """

    def __init__(self, name: str, work: Callable[[], object], *, interval: float,
                 quick: float = 0.05, wait_first: bool = False, again_when_busy: bool = True,
                 on_failure: Callable[[Exception], None] | None = None,
                 longest_pause: float = LONGEST_PAUSE, join_timeout: float = 30.0) -> None:
        self.name, self.work = name, work
        self.pace = Pace(interval, quick=quick)
        self._wait_first, self._again_when_busy = wait_first, again_when_busy
        self._on_failure = on_failure or self._log_failure
        self._longest_pause = max(longest_pause, interval)
        self._join_timeout = join_timeout
        self._thread: threading.Thread | None = None
        #: consecutive failed passes (0 after a pass that succeeded)
        self.failures = 0

    @property
    def stopped(self) -> threading.Event:
        return self.pace.stopped

    def hurry(self, seconds: float) -> None:
        """Someone waits for the next pass: look every ``quick`` seconds for ``seconds``."""
        self.pace.hurry(seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.pace.stop()
        if self._thread is not None:
            self._thread.join(self._join_timeout)

    def run(self) -> None:
        if self._wait_first:
            self.pace.wait()
        while not self.stopped.is_set():
            try:
                busy = self.work()
            except Exception as exc:  # the thread must outlive any one failed pass
                self.failures += 1
                self._on_failure(exc)
                self._pause_after_failure()
                continue
            self.failures = 0
            if not (busy and self._again_when_busy):
                self.pace.wait()

    def _pause_after_failure(self) -> None:
        pause = min(self.pace.interval * 2 ** (self.failures - 1), self._longest_pause)
        self.pace.pause(pause)

    def _log_failure(self, exc: Exception) -> None:
        log.error("background pass failed; trying again", exc_info=exc,
                  extra={"loop": self.name, "failures": self.failures})
