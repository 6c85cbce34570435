"""Sending signed webhooks the way Kundoluk does (``kozomol webhook send``).

Used by operators to replay a file of events, by the README's first steps,
and by the tests and benchmarks.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

from services.gateway.domain.signature import secret_key, sign


def signed_headers(secret_list: Sequence[str], body: bytes, *,
                   timestamp: int | None = None, webhook_id: str | None = None) -> dict[str, str]:
    """Standard Webhooks headers, signed with every given secret (as during rotation)."""
    webhook_id = webhook_id or "msg_" + secrets.token_hex(12)
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret_key(secret), webhook_id, timestamp, body) for secret in secret_list
        ),
    }


def post_events(client: httpx.Client, url: str, secret_list: Sequence[str],
                events: Sequence[dict[str, Any]]) -> httpx.Response:
    """POST one event alone, or several as a batch."""
    body = orjson.dumps(events[0] if len(events) == 1 else {"events": list(events)})
    return client.post(url, content=body, headers=signed_headers(secret_list, body))
