"""Operations endpoints: health, readiness, metrics, the OpenAPI document, event schemas."""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from sqlalchemy.exc import DBAPIError

from services.gateway.runtime import gateway_of
from services.gateway.web.errors import api_error
from services.gateway.web.openapi import openapi_document
from shared.db.engine import ping
from shared.events.jsonschema import event_json_schema
from shared.events.schemas import DATA_SCHEMAS
from shared.messaging.publisher import PublishError

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    gateway = gateway_of(current_app)
    checks: dict[str, str] = {}
    try:
        ping(gateway.engine)
        checks["database"] = "ok"
    except DBAPIError as exc:
        checks["database"] = f"unavailable: {exc.__class__.__name__}"
    try:
        gateway.publishers().check()
        checks["broker"] = "ok"
    except PublishError as exc:
        checks["broker"] = f"unavailable: {exc}"
    ready = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ready" if ready else "not_ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


@blueprint.get("/metrics")
def metrics() -> Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@blueprint.get("/schemas/events/<event_type>.json")
def event_schema(event_type: str) -> Response:
    if event_type not in DATA_SCHEMAS:
        return api_error(404, "not_found", "такого типа события в контракте v1 нет")
    return jsonify(event_json_schema(event_type))
