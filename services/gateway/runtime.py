"""The gateway's wired-up parts, built once per process by :func:`bootstrap`.

Dependencies first (engine, topology, publishers, file store, clock), then what
uses them (the intake, the two outbox relays, the spool's reconciler, and, when
asked for, the read-model consumer), all injected. :meth:`Gateway.start` starts
the background parts and :meth:`Gateway.close` stops them; ``server.py``
(gunicorn, one gateway per worker after the fork), ``kozomol/embedded.py``
(``kozomol serve``) and the tests all go through these two functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import Engine

from services.gateway.adapters.received_spool import ReceivedSpool, SpoolReconciler
from services.gateway.adapters.tables import command_outbox, outbox
from services.gateway.consumer import bootstrap_read_model
from services.gateway.domain.signature import secret_key
from services.gateway.handlers.intake import Intake
from shared.db.engine import make_engine
from shared.messaging.outbox import OutboxRelay
from shared.messaging.publisher import ThreadPublishers
from shared.messaging.topology import Topology
from shared.service import Companion, ConsumerService, thread_publishers, topology_for
from shared.settings import Settings
from shared.storage import FileStore, open_store

EXTENSION = "kozomol.gateway"
LIMITER_EXTENSION = "kozomol.limiter"


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    topology: Topology
    publishers: ThreadPublishers
    intake: Intake
    #: sends the webhook events kept while the broker was away (``<ns>.events``)
    relay: OutboxRelay
    #: sends the API's commands (``<ns>.commands``), written with what each request records
    command_relay: OutboxRelay
    #: moves ids accepted while the database was away into the table (start with the relay)
    reconciler: SpoolReconciler
    signing_keys: tuple[bytes, ...]
    #: the file store the printer and the backup service write (printed PDFs are read here)
    files: FileStore
    clock: Callable[[], float] = time.time
    #: the read models' consumer, when this process runs one (``bootstrap(read_model=True)``)
    read_model: ConsumerService | None = None
    companions: list[Companion] = field(default_factory=list)
    #: when this process last deleted access-log lines past their retention (Unix s)
    audit_pruned_at: float = 0.0
    _started: bool = field(default=False, repr=False)
    _closed: bool = field(default=False, repr=False)

    def now(self) -> datetime:
        """The injected clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def start(self) -> None:
        """Start the relays, the reconciler and the read-model consumer (once)."""
        if self._started:
            return
        self._started = True
        self.relay.start()
        self.command_relay.start()
        self.reconciler.start()
        if self.read_model is not None:
            self.read_model.start()
        for companion in self.companions:
            companion.start()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for companion in self.companions:
                companion.stop()
            if self.read_model is not None:
                self.read_model.stop()
            self.relay.stop()
            self.command_relay.stop()
            self.reconciler.stop()
            self.publishers.close()
            self.engine.dispose()


def bootstrap(
    settings: Settings, *, engine: Engine | None = None, clock: Callable[[], float] = time.time,
    read_model: bool = False,
) -> Gateway:
    engine = engine or make_engine(settings.database_url_for("gateway"))
    topology = topology_for(settings)
    publishers = thread_publishers(settings, topology)
    files = open_store(settings.files_url)
    spool = ReceivedSpool(settings.data_dir / "gateway-received-spool")
    return Gateway(
        settings=settings,
        engine=engine,
        topology=topology,
        publishers=publishers,
        intake=Intake(engine, publishers, topology, spool),
        relay=OutboxRelay(engine, outbox, publishers, topology.events.name,
                          interval=settings.outbox_relay_interval),
        command_relay=OutboxRelay(engine, command_outbox, publishers, topology.commands.name,
                                  interval=settings.outbox_relay_interval),
        reconciler=SpoolReconciler(spool, engine),
        signing_keys=tuple(secret_key(secret) for secret in settings.webhook_secrets),
        files=files,
        clock=clock,
        read_model=bootstrap_read_model(settings, engine=engine) if read_model else None,
    )


def gateway_of(app: Flask) -> Gateway:
    gateway: Gateway = app.extensions[EXTENSION]
    return gateway
