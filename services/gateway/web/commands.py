"""Commands from the API to the service that owns the data (checker, printer, backup).

The gateway never changes another service's data itself: it publishes a command
on the commands exchange (routing key ``<service>.<command>``) and answers
``202`` once the broker has confirmed it; the owner announces the result as an
event, which the gateway's read models pick up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Response, current_app, jsonify

from services.gateway.runtime import gateway_of
from services.gateway.web.errors import api_error
from shared.events.envelope import new_envelope
from shared.messaging.publisher import OutgoingMessage, PublishError


def send_command(school_id: str, routing_key: str, command_type: str,
                 data: dict[str, Any]) -> str | None:
    """Publish one command with confirms; its id, or None when the broker is unavailable."""
    gateway = gateway_of(current_app)
    command = new_envelope("cmd", command_type, school_id, data, datetime.now(UTC),
                           source="gateway")
    command_id = str(command["id"])
    try:
        gateway.publishers().publish([OutgoingMessage(
            gateway.topology.commands.name, routing_key, orjson.dumps(command), command_id,
            {"school_id": school_id})])
    except PublishError:
        return None
    return command_id


def busy(what: str, holder: str) -> Response:
    """429: one of this kind is already in flight for the school (issue 14, item 6)."""
    return api_error(429, "busy", f"{what} is already in flight for this school; "
                     "ask again when it is done", {"in_flight": holder},
                     headers={"Retry-After": "30"})


def broker_unavailable() -> Response:
    return api_error(503, "unavailable", "the broker is unavailable; retry later",
                     headers={"Retry-After": "30"})


def accepted(answer: dict[str, Any], command_id: str,
             location: str | None = None) -> Response:
    response = jsonify({**answer, "command_id": command_id})
    response.status_code = 202
    if location is not None:
        response.headers["Location"] = location
    return response
