"""Running the gateway: gunicorn in production, waitress inside ``kozomol serve``.

gunicorn forks worker processes; each worker builds its own gateway (engine,
broker connections, relay threads, read-model consumer) after the fork, never before it, so no
connection is shared across processes (py-amqp#462).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from services.gateway.app import create_app
from services.gateway.runtime import bootstrap, gateway_of
from shared.logs import configure_logging
from shared.settings import Settings


def wsgi_app(settings: Settings) -> Flask:
    """Build a gateway application with its relays and read-model consumer (one per process)."""
    gateway = bootstrap(settings, read_model=True)
    gateway.start()
    return create_app(gateway)


class GatewayServer(BaseApplication):
    def __init__(self, settings: Settings, *, host: str, port: int, workers: int) -> None:
        self.settings = settings
        self.options = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": 32,
            "timeout": 60,
            "graceful_timeout": 20,
            "keepalive": 5,
            # Headers are capped here; bodies by the app (MAX_CONTENT_LENGTH).
            "limit_request_line": 8190,
            "limit_request_fields": 50,
            "accesslog": None,
            "post_worker_init": _post_worker_init,
            "worker_exit": _worker_exit,
            "child_exit": _child_exit,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return wsgi_app(self.settings)


def _post_worker_init(worker: Any) -> None:
    configure_logging(worker.app.settings.log_level)


def _worker_exit(_server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        gateway_of(app).close()


def _child_exit(_server: Any, worker: Any) -> None:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def run_gunicorn(settings: Settings, *, host: str, port: int, workers: int) -> None:
    GatewayServer(settings, host=host, port=port, workers=workers).run()
