"""The gateway's wired-up parts, built once per process by :func:`bootstrap`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import Engine

from services.gateway.adapters.received_spool import ReceivedSpool, SpoolReconciler
from services.gateway.adapters.tables import outbox
from services.gateway.domain.signature import secret_key
from services.gateway.handlers.intake import Intake
from shared.db.engine import make_engine
from shared.messaging.outbox import OutboxRelay
from shared.messaging.publisher import ThreadPublishers, make_publisher
from shared.messaging.topology import Topology
from shared.service import Companion, topology_for
from shared.settings import Settings

EXTENSION = "kozomol.gateway"
LIMITER_EXTENSION = "kozomol.limiter"


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    topology: Topology
    publishers: ThreadPublishers
    intake: Intake
    relay: OutboxRelay
    #: moves ids accepted while the database was away into the table (start with the relay)
    reconciler: SpoolReconciler
    signing_keys: tuple[bytes, ...]
    clock: Callable[[], float] = time.time
    companions: list[Companion] = field(default_factory=list)
    #: when this process last deleted access-log lines past their retention (Unix s)
    audit_pruned_at: float = 0.0
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for companion in self.companions:
                companion.stop()
            self.relay.stop()
            self.reconciler.stop()
            self.publishers.close()
            self.engine.dispose()


def bootstrap(
    settings: Settings, *, engine: Engine | None = None, clock: Callable[[], float] = time.time
) -> Gateway:
    engine = engine or make_engine(settings.database_url_for("gateway"))
    topology = topology_for(settings)
    publishers = ThreadPublishers(lambda: make_publisher(
        settings.broker_url, topology,
        connect_timeout=settings.broker_connect_timeout,
        confirm_timeout=settings.publish_timeout,
    ))
    spool = ReceivedSpool(settings.data_dir / "gateway-received-spool")
    return Gateway(
        settings=settings,
        engine=engine,
        topology=topology,
        publishers=publishers,
        intake=Intake(engine, publishers, topology, spool),
        relay=OutboxRelay(engine, outbox, publishers, topology.events.name,
                          interval=settings.outbox_relay_interval),
        reconciler=SpoolReconciler(spool, engine),
        signing_keys=tuple(secret_key(secret) for secret in settings.webhook_secrets),
        clock=clock,
    )


def gateway_of(app: Flask) -> Gateway:
    gateway: Gateway = app.extensions[EXTENSION]
    return gateway
