"""Commands from the API to the service that owns the data (checker, printer, backup).

The gateway never changes another service's data itself: it sends a command on
the commands exchange (routing key ``<service>.<command>``) and the owner
announces the result as an event, which the gateway's read models pick up.

A command goes through the gateway's command outbox (``gateway_command_outbox``),
written in the same transaction as what the request records (a pending report or
print job, a backup's row, a heavy command's slot): the request is recorded and
sent, or neither. Right after the commit the request thread tries to send it at
once (:func:`send_recorded`); if the broker is away, the command relay sends it
when the broker is back. So ``202`` means *recorded*, and sent as soon as the
broker takes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Response, current_app, jsonify
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from services.gateway.adapters.announce import announce
from services.gateway.runtime import gateway_of
from services.gateway.web.errors import api_error
from shared.messaging.publisher import PublishError

log = logging.getLogger(__name__)


@contextmanager
def recording() -> Iterator[Connection]:
    """One transaction for what a request records and the command it sends: the views
    write through handlers inside it and call :func:`record_command` last; nothing is
    kept unless all of it is (then :func:`send_recorded`)."""
    with gateway_of(current_app).engine.begin() as connection:
        yield connection


def record_command(connection: Connection, school_id: str, service: str, command_type: str,
                   data: dict[str, Any]) -> str:
    """Put a command for ``service`` into the command outbox, in the caller's transaction;
    its id. Call :func:`send_recorded` once that transaction committed."""
    command = announce(connection, command_type, school_id, data, gateway_of(current_app).now(),
                       to=service)
    return str(command["id"])


def send_recorded() -> bool:
    """Send the recorded commands now; False if the broker cannot take them (the command
    relay sends them when it is back, so nothing waits for their results meanwhile)."""
    relay = gateway_of(current_app).command_relay
    try:
        relay.drain_once()
    except PublishError as exc:
        log.info("broker unavailable; the command waits in the outbox",
                 extra={"error": str(exc)})
        return False
    except DBAPIError:
        # Recorded already; the relay sends it once the database answers again.
        log.warning("command kept in the outbox: the database failed while sending it")
        return False
    return True


def send_command(school_id: str, service: str, command_type: str,
                 data: dict[str, Any]) -> str:
    """Record one command on its own (nothing else to record with it) and send it; its id."""
    with recording() as connection:
        command_id = record_command(connection, school_id, service, command_type, data)
    send_recorded()
    return command_id


def busy(what: str, holder: str) -> Response:
    """429: one of this kind is already in flight for the school (issue 14, item 6)."""
    return api_error(429, "busy", f"{what} is already in flight for this school; "
                     "ask again when it is done", {"in_flight": holder},
                     headers={"Retry-After": "30"})


def accepted(answer: dict[str, Any], command_id: str,
             location: str | None = None) -> Response:
    response = jsonify({**answer, "command_id": command_id})
    response.status_code = 202
    if location is not None:
        response.headers["Location"] = location
    return response
