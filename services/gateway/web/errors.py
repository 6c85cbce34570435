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


def unknown_class(school_id: str, class_id: str) -> Response:
    """404 for a class whose roster never came from Kundoluk (remarks sheets, print jobs)."""
    return api_error(404, "class_not_found",
                     f"класса {class_id} в школе {school_id} нет (его список не "
                     f"поступал из Kundoluk); укажите идентификатор класса",
                     {"class_id": class_id})


#: what the staff read for the HTTP errors Werkzeug raises by itself
HTTP_MESSAGES = {
    400: "запрос составлен неверно",
    404: "по этому адресу ничего нет",
    405: "этот метод для адреса не поддерживается",
    413: "тело запроса слишком велико",
    415: "неподдерживаемый тип содержимого",
    429: "слишком много запросов; повторите позже",
}


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
        # Werkzeug's own descriptions are English; one given by the code is kept.
        default = exc.description is None or exc.description == type(exc).description
        message = HTTP_MESSAGES.get(exc.code or 500, exc.name) if default else exc.description
        response = api_error(exc.code or 500, code, str(message))
        if exc.code == 429:
            response.headers["Retry-After"] = str(_seconds_to_reset(app))
            if request.path.startswith("/webhooks/"):
                metrics.WEBHOOK_REQUESTS.labels("429").inc()
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return api_error(500, "internal_error", "сбой сервера; ошибка записана в журнал")
