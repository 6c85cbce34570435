"""``kozomol serve``: all five services in one process on the embedded default.

The in-process broker (kombu ``memory://``) only exists inside this process, so
this is the one way to run the services together without RabbitMQ; with a real
broker URL it works the same and simply shares one process.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from types import FrameType

from kombu import Connection
from waitress.server import create_server

from services.backup.main import bootstrap as backup_service
from services.checker.main import bootstrap as checker_service
from services.gateway.app import create_app
from services.gateway.runtime import bootstrap as gateway_bootstrap
from services.notifier.main import bootstrap as notifier_service
from services.printer.main import bootstrap as printer_service
from shared.db.migrations import upgrade
from shared.service import ConsumerService
from shared.settings import SERVICES, Settings

log = logging.getLogger(__name__)


def migrate_all(settings: Settings) -> None:
    for service in SERVICES:
        upgrade(settings.database_url_for(service), service, SERVICES)


class EmbeddedKozomol:
    """Everything in one process; ``start`` returns once the HTTP port is bound."""

    def __init__(self, settings: Settings, *, host: str, port: int) -> None:
        self.settings = settings
        migrate_all(settings)
        self.services: list[ConsumerService] = [
            checker_service(settings), printer_service(settings), backup_service(settings),
            notifier_service(settings),
        ]
        self.gateway = gateway_bootstrap(settings, read_model=True)
        assert self.gateway.read_model is not None
        #: every consumer in this process, the gateway's read model last
        self.consumers: list[ConsumerService] = [*self.services, self.gateway.read_model]
        self.server = create_server(create_app(self.gateway), host=host, port=port, threads=8,
                                    ident="kozomol")
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        for service in self.services:
            service.start()
        self.gateway.start()  # its relays and its read model
        self._thread = threading.Thread(target=self.server.run, name="http", daemon=True)
        self._thread.start()
        log.info("kozomol is serving", extra={"url": self.url})

    def wait_ready(self, timeout: float = 30) -> bool:
        return all(c.consumer.ready.wait(timeout) for c in self.consumers)

    def stop(self, drain_timeout: float = 60.0) -> None:
        """Stop taking requests, let every accepted event be consumed, then stop.

        The in-process broker keeps messages in memory only: stopping before the
        services consumed them would lose events the gateway already accepted.
        """
        self.server.close()
        relays = (self.gateway.relay, self.gateway.command_relay)
        for relay in relays:
            relay.stop()
        if self.settings.embedded_broker:
            for relay in relays:  # what they still hold, sent from this thread
                with contextlib.suppress(Exception):
                    while relay.drain_once():
                        pass
            if not self._drain(drain_timeout):
                log.error("stopped with events still queued in memory",
                          extra={"waited_s": drain_timeout})
        self.gateway.close()  # its read model too
        for service in self.services:
            service.stop()

    def drain(self, timeout: float) -> bool:
        """Wait until every accepted event has been consumed (the in-process broker)."""
        return self._drain(timeout)

    def _drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        quiet_polls = 0
        with Connection("memory://") as connection:
            channel = connection.default_channel
            while time.monotonic() < deadline:
                waiting = sum(channel.queue_declare(c.consumer.topology.queue(c.name).name,
                                                    passive=True).message_count
                              for c in self.consumers)
                busy = any(not c.consumer.idle for c in self.consumers)
                quiet_polls = quiet_polls + 1 if not waiting and not busy else 0
                if quiet_polls >= 3:
                    return True
                time.sleep(0.1)
        return False

    def serve_forever(self) -> None:
        stopping = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.start()
        stopping.wait()
        log.info("stopping")
        self.stop()
