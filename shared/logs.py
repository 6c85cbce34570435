"""Structured JSON logs on stdout.

Log lines carry ids, types and counts, never names, marks or other personal
data from event bodies; URLs carry no personal data either (ids only).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Callable
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter


def configure_logging(level: str = "INFO", *, path: Path | None = None,
                      hold: bool = False) -> Callable[[], None]:
    """JSON lines on stderr, or appended to ``path``.

    With ``hold`` the lines are kept in memory until the returned ``release``
    is called, so that a command can print its own first lines (where it
    listens, how to get in) before the first log line. ``release`` is a no-op
    otherwise.
    """
    handler: logging.Handler = (logging.FileHandler(path, encoding="utf-8") if path
                                else logging.StreamHandler(sys.stderr))
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    )
    root = logging.getLogger()
    held = logging.handlers.MemoryHandler(100_000, flushLevel=logging.CRITICAL + 1,
                                          target=handler) if hold else None
    root.handlers[:] = [held or handler]
    root.setLevel(level)
    # kombu and amqp log every reconnect attempt at WARNING with tracebacks; ours suffice.
    logging.getLogger("kombu").setLevel(max(logging.ERROR, root.level))
    logging.getLogger("amqp").setLevel(max(logging.ERROR, root.level))

    def release() -> None:
        if held is not None and held in root.handlers:
            held.flush()
            root.handlers[:] = [handler]
            held.close()

    return release
