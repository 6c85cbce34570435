"""How the API writes values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from flask import Response, request
from werkzeug.exceptions import BadRequest

from services.gateway.web.errors import api_error


def iso_utc(moment: datetime | None) -> str | None:
    """UTC ISO 8601; SQLite hands back naive datetimes, which we stored as UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def listing_limit(default: int = 50, most: int = 200) -> int:
    """``?limit=`` of a listing, the one reading of it every listing uses: a malformed or
    out-of-range one is a 400 (``bad_request``)."""
    try:
        limit = int(request.args.get("limit", default))
    except ValueError:
        raise BadRequest(f"limit — целое число от 1 до {most}") from None
    if not 1 <= limit <= most:
        raise BadRequest(f"limit — от 1 до {most}")
    return limit


_RUSSIAN_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


def parse_date(text: str) -> date:
    """A date as ISO (2026-10-01) or as school staff write it (01.10.2026); ValueError."""
    found = _RUSSIAN_DATE.match(text.strip())
    if found:
        day, month, year = (int(part) for part in found.groups())
        return date(year, month, day)
    return date.fromisoformat(text.strip())


#: Every operation takes ``school_id``: it narrows a listing, and an admin token (of no
#: school) names the school with it; another school's is refused by the scope check.
EVERYWHERE = frozenset({"school_id"})


def unknown_arguments(allowed: Iterable[str]) -> list[str]:
    """Query parameters of this request that the endpoint does not know (sorted)."""
    known = EVERYWHERE | set(allowed)
    return sorted(name for name in request.args if name not in known)


def refuse_unknown_arguments(allowed: Iterable[str]) -> Response | None:
    """A 400 naming the query parameters the endpoint does not know (None: all known), so a
    misspelt filter is not silently ignored."""
    unknown = unknown_arguments(allowed)
    if not unknown:
        return None
    return api_error(400, "unknown_parameter",
                     f"неизвестные параметры запроса: {', '.join(unknown)}",
                     {name: ["неизвестный параметр"] for name in unknown})
