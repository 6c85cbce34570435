"""How the API writes values."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request
from werkzeug.exceptions import BadRequest


def iso_utc(moment: datetime | None) -> str | None:
    """UTC ISO 8601; SQLite hands back naive datetimes, which we stored as UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def listing_limit(default: int = 50, most: int = 200) -> int:
    """``?limit=`` of a listing; a malformed or out-of-range one is a 400."""
    try:
        limit = int(request.args.get("limit", default))
    except ValueError:
        raise BadRequest("limit must be a number") from None
    if not 1 <= limit <= most:
        raise BadRequest(f"limit must be between 1 and {most}")
    return limit
