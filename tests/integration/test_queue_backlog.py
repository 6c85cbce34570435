"""The checker's settling asks its queue's backlog every sweep: over one kept connection.

Review finding (issue 13): each question opened a broker connection of its own.
Now the sweeper's thread keeps one, and opens a fresh one when it broke.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.service import QueueBacklog
from shared.settings import Settings
from tests.integration.test_checker_rabbitmq import publish
from tests.support import make_event, queue_depth, wait_for

pytestmark = pytest.mark.integration


def test_the_backlog_keeps_one_connection_and_opens_a_new_one_when_it_broke(
    production_settings: Settings,
) -> None:
    publish(production_settings, [make_event() for _ in range(3)])  # declares the topology
    wait_for(lambda: queue_depth(production_settings.namespace, "checker") == 3)
    backlog = QueueBacklog(production_settings, "checker")
    try:
        assert backlog() == 3
        kept = backlog._local.connection
        assert backlog() == 3 and backlog._local.connection is kept  # not one per question
        kept.connection.sock.close()  # the connection broke (a broker restart, a network cut)
        assert backlog() == 3  # asked again over a fresh connection, in the same call
        assert backlog._local.connection is not kept
    finally:
        backlog.close()
    unreachable = QueueBacklog(replace(production_settings,
                                       broker_url="amqp://guest:guest@127.0.0.1:1//",
                                       broker_connect_timeout=1.0), "checker")
    assert unreachable() == 0  # the broker cannot say: nothing is held back for it
    unreachable.close()
