"""How a background loop (``shared/background.py``) waits between its passes.

Normally one interval. Right after :meth:`Pace.hurry` (someone is waiting for the
loop's next pass, e.g. for a report or a requested backup) it looks again every
``quick`` seconds for a while, instead of once: the work it was woken for is
usually added inside a transaction that has not committed yet.
"""

from __future__ import annotations

import threading
import time


class Pace:
    def __init__(self, interval: float, *, quick: float) -> None:
        self.interval, self.quick = interval, quick
        self.stopped = threading.Event()
        self._wake = threading.Event()
        self._hurry_until = 0.0

    def hurry(self, seconds: float) -> None:
        self._hurry_until = time.monotonic() + seconds
        self._wake.set()

    def stop(self) -> None:
        self.stopped.set()
        self._wake.set()

    def wait(self) -> None:
        """Until the next pass is due (or the loop is stopped)."""
        if time.monotonic() < self._hurry_until:
            self._wake.clear()
            self.stopped.wait(self.quick)
        else:
            self._wake.wait(self.interval)
            self._wake.clear()

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (after a failed pass), or less if hurried or stopped."""
        self._wake.wait(seconds)
        self._wake.clear()
