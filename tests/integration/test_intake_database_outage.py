"""The gateway's record of received events after its database was away.

Issue 19: events accepted while PostgreSQL was down went to the broker but had
no row in ``gateway_received_events``, so a later re-send of the same id was
accepted again. The database is reached through a proxy the test cuts (the
shared server keeps running); the broker is the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from services.gateway.adapters.tables import received_events
from shared.db.engine import make_engine
from shared.settings import Settings
from tests.cut_proxy import CutProxy
from tests.support import batch_body, drain_queue, make_event, signed, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def proxied(production_settings: Settings, migrated: Any) -> Iterator[tuple[Settings, CutProxy]]:
    settings = migrated(production_settings)
    direct = make_url(settings.database_url)
    with CutProxy(direct.host or "127.0.0.1", direct.port or 5432) as proxy:
        url = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False)
        yield replace(settings, database_url=url), proxy


def recorded_ids(settings: Settings) -> list[str]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(received_events.c.event_id)).scalars())
    finally:
        engine.dispose()


def count_recorded(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(
                select(func.count()).select_from(received_events)).scalar_one())
    finally:
        engine.dispose()


def post(client: Any, secret: str, events: list[dict[str, Any]]) -> Any:
    body = batch_body(events) if len(events) > 1 else orjson.dumps(events[0])
    return client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))


@pytest.mark.parametrize("reconciled_by", ["background thread", "next delivery"])
def test_ids_accepted_while_the_database_was_away_are_recorded_and_resends_are_duplicates(
    production_settings: Settings, proxied: tuple[Settings, CutProxy], gateway_client: Any,
    reconciled_by: str,
) -> None:
    settings, proxy = proxied
    gateway, client = gateway_client(settings)
    secret = settings.webhook_secrets[0]
    before = make_event()
    assert post(client, secret, [before]).json["stored_in"] == "broker"

    proxy.cut()
    while_away = [make_event() for _ in range(5)]
    single = make_event()
    answer = post(client, secret, while_away)
    assert answer.status_code == 202
    assert (answer.json["accepted"], answer.json["stored_in"]) == (5, "broker")
    assert post(client, secret, [single]).status_code == 202
    proxy.restore()

    expected = {before["id"], single["id"], *(e["id"] for e in while_away)}
    if reconciled_by == "background thread":
        gateway.reconciler.start()
        wait_for(lambda: count_recorded(production_settings) == len(expected), timeout=30)
    again = post(client, secret, while_away)
    assert again.status_code == 202
    assert (again.json["accepted"], again.json["duplicates"]) == (0, 5)
    assert post(client, secret, [single]).json["duplicates"] == 1
    ids = recorded_ids(production_settings)
    assert sorted(ids) == sorted(expected)
    # Each event reached the broker once: the re-sends were not published again.
    delivered = [orjson.loads(m.body)["id"] for m in
                 drain_queue(settings.namespace, "backup")]
    assert sorted(delivered) == sorted(expected)
    assert not any((settings.data_dir / "gateway-received-spool").iterdir())
