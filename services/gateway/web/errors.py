"""Every error is JSON: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from shared import metrics


def api_error(
    status: int, code: str, message: str, details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _seconds_to_reset(app: Flask) -> int:
    limiter = app.extensions.get("kozomol.limiter")
    current = getattr(limiter, "current_limit", None)
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = {
            400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
            415: "unsupported_media_type", 429: "rate_limited",
        }.get(exc.code or 500, "http_error")
        response = api_error(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 429:
            response.headers["Retry-After"] = str(_seconds_to_reset(app))
            if request.path.startswith("/webhooks/"):
                metrics.WEBHOOK_REQUESTS.labels("429").inc()
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return api_error(500, "internal_error", "the server failed; the error is logged")
