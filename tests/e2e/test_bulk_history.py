"""A school's quarter arriving in bulk, with the sweeper running: judged once, right.

A school connected mid-year (or Kundoluk catching up after its own outage) sends
weeks of entries within a minute. Judging it while they stream in would open
findings from half the history and withdraw them a moment later - remarks a
deputy director may already have read. The checker waits until the school has
settled; this replays a quarter through the gateway with sweeps every 0.3 s.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from kozomol.embedded import EmbeddedKozomol
from kozomol.simulator.delivery import arrange, send
from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, school_events
from services.checker.adapters.tables import finding_history, findings
from shared.settings import Settings

pytestmark = pytest.mark.e2e


def test_a_quarter_in_bulk_opens_no_finding_that_is_withdrawn_later(
    embedded_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(embedded_settings, sweep_interval=0.3, settle_window=3.0,
                       settle_lag=600.0, backup_check_interval=3600.0)
    kozomol = EmbeddedKozomol(settings, host="127.0.0.1", port=0)
    kozomol.start()
    checker = next(c for c in kozomol.consumers if c.name == "checker")

    def counted(table: object, *conditions: object) -> int:
        with checker.engine.connect() as connection:
            query = select(func.count()).select_from(table)  # type: ignore[arg-type]
            for condition in conditions:
                query = query.where(condition)  # type: ignore[arg-type]
            return int(connection.execute(query).scalar_one())

    try:
        assert kozomol.wait_ready(30)
        spec = SimulationSpec(seed=5, parallels=1, grades=(5, 6),
                              rates=FaultRates.default(3.0))
        with caplog.at_level(logging.INFO, logger="services.checker.handlers"):
            delivery = send(arrange(school_events(spec), seed=5, duplicate_share=0.01),
                            f"{kozomol.url}/webhooks/kundoluk", settings.webhook_secrets,
                            batch_size=50)
            assert delivery.accepted > 3000
            assert kozomol.drain(timeout=120)
            deadline = time.monotonic() + 60
            while counted(findings) == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
        held = [r for r in caplog.records if r.getMessage() == "sweep"
                and getattr(r, "held_settling", 0)]
        assert held, "the sweeper ran while the history streamed in and held the school"
        opened = counted(findings)
        assert opened > 20  # the planted faults were judged, once the history was in
        # ... and judged once: every finding's history is its opening alone.
        assert counted(finding_history, finding_history.c.status == "withdrawn") == 0
        assert counted(findings, findings.c.status == "withdrawn") == 0
        assert counted(finding_history) == opened
    finally:
        kozomol.stop()
