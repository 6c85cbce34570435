"""Fault-injection seams at the crash points of ``reliability.md``.

* ``after-commit-before-publish``: an outbox row is committed, the relay is
  about to publish it;
* ``after-publish-before-marking-sent``: the broker confirmed the relay's
  messages, their rows are not yet deleted;
* ``after-commit-before-ack``: a consumer's batch (effects and inbox ids)
  committed, its deliveries are not yet acked.

Unarmed, :func:`reached` is one dictionary lookup. A test arms a point with
:func:`arm` and gets :class:`SimulatedCrash` (a ``BaseException``, so no
``except Exception`` in the code under test swallows it) at that point; a
process started with ``KOZOMOL_CRASH_AT=<point>`` dies there with
``os._exit`` - nothing flushed, nothing acked, as after ``kill -9``.
"""

from __future__ import annotations

import os

AFTER_COMMIT_BEFORE_PUBLISH = "after-commit-before-publish"
AFTER_PUBLISH_BEFORE_MARKING_SENT = "after-publish-before-marking-sent"
AFTER_COMMIT_BEFORE_ACK = "after-commit-before-ack"
POINTS = (AFTER_COMMIT_BEFORE_PUBLISH, AFTER_PUBLISH_BEFORE_MARKING_SENT,
          AFTER_COMMIT_BEFORE_ACK)


class SimulatedCrash(BaseException):
    """The process 'died' at a crash point (raised only when a test armed it)."""


_armed: dict[str, int] = {}
_exit_at = os.environ.get("KOZOMOL_CRASH_AT", "")


def arm(point: str, times: int = 1) -> None:
    """Crash at ``point`` the next ``times`` times it is reached."""
    if point not in POINTS:
        raise ValueError(f"unknown crash point {point!r}")
    _armed[point] = times


def disarm() -> None:
    _armed.clear()


def reached(point: str) -> None:
    if _exit_at == point:
        os._exit(137)
    remaining = _armed.get(point)
    if remaining:
        _armed[point] = remaining - 1
        raise SimulatedCrash(point)
