"""Structured JSON logs on stdout.

Log lines carry ids, types and counts, never names, marks or other personal
data from event bodies; URLs carry no personal data either (ids only).
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kombu and amqp log every reconnect attempt at WARNING with tracebacks; ours suffice.
    logging.getLogger("kombu").setLevel(max(logging.ERROR, root.level))
    logging.getLogger("amqp").setLevel(max(logging.ERROR, root.level))
