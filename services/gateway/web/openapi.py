"""The OpenAPI 3.1 document served at ``/openapi.json``."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.events.jsonschema import add_event_components
from shared.events.print_kinds import PRINT_KINDS
from shared.events.schemas import DATA_SCHEMAS

_ERROR = {"$ref": "#/components/responses/Error"}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


@cache
def openapi_document() -> dict[str, Any]:
    spec = APISpec(
        title="Kozomol gateway",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "Kundoluk webhooks in (contract v1) and the administrators' API."},
    )
    add_event_components(spec)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.response("Error", _json({
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}},
    }, "An error; details are field-by-field where a field is at fault"))
    envelope_one_of = {"oneOf": [
        {"allOf": [_ref("EventEnvelope"), {"properties": {
            "type": {"const": event_type}, "data": _ref(schema.__name__)}}]}
        for event_type, schema in DATA_SCHEMAS.items()
    ] + [_ref("EventEnvelope")]}
    signature_headers = [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"},
         "description": text}
        for name, text in (
            ("webhook-id", "unique per delivery"),
            ("webhook-timestamp", "Unix seconds; at most 5 minutes from the receiver's clock"),
            ("webhook-signature", "space-separated v1,<base64 HMAC-SHA256> signatures"),
        )
    ]
    spec.path("/webhooks/kundoluk", operations={"post": {
        "summary": "Receive one event or a batch of events from Kundoluk",
        "parameters": signature_headers,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
            envelope_one_of,
            {"type": "object", "required": ["events"], "properties": {"events": {
                "type": "array", "minItems": 1, "maxItems": 1000, "items": envelope_one_of}}},
        ]}}}},
        "responses": {
            "202": _json({"type": "object", "properties": {
                "accepted": {"type": "integer"}, "duplicates": {"type": "integer"},
                "duplicate_ids": {"type": "array", "items": {"type": "string"}},
                "stored_in": {"type": ["string", "null"], "enum": ["broker", "outbox", None]},
                "rejected": {"type": "array", "items": {"type": "object", "properties": {
                    "index": {"type": "integer"}, "id": {"type": ["string", "null"]},
                    "errors": {"type": "object"}}}},
                "id": {"type": "string"}, "status": {"enum": ["accepted", "duplicate"]},
            }}, "Durably stored (broker confirm or the gateway's outbox)"),
            **{code: _ERROR for code in ("400", "401", "413", "415", "422", "503")},
        },
    }})
    page = {"type": "object", "properties": {
        "items": {"type": "array", "items": {"type": "object"}},
        "next_cursor": {"type": ["string", "null"]}}}
    paged = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                           "maximum": 500}},
             {"name": "cursor", "in": "query", "schema": {"type": "string"}},
             {"name": "school_id", "in": "query", "schema": {"type": "string"}}]
    admin_errors = {code: _ERROR for code in ("401", "403", "404", "429")}
    spec.path("/api/v1/me", operations={"get": {
        "summary": "The calling token's role and school", "security": _BEARER,
        "responses": {"200": _json({"type": "object"}, "The token"), **admin_errors}}})
    spec.path("/api/v1/quarantine", operations={"get": {
        "summary": "Items refused by the webhook endpoint, newest first", "security": _BEARER,
        "parameters": paged,
        "responses": {"200": _json(page, "A page of quarantined items"), **admin_errors}}})
    spec.path("/api/v1/quarantine/{item_id}", operations={"get": {
        "summary": "One quarantined item", "security": _BEARER,
        "parameters": [{"name": "item_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {"200": _json({"type": "object"}, "The item"), **admin_errors}}})
    spec.path("/api/v1/received-events/{event_id}", operations={"get": {
        "summary": "Whether and when an event was received, and where it was stored",
        "security": _BEARER,
        "parameters": [{"name": "event_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": _json({"type": "object"}, "The intake record"), **admin_errors}}})
    spec.path("/api/v1/tokens", operations={
        "get": {"summary": "Tokens of the caller's school", "security": _BEARER,
                "parameters": paged[2:],
                "responses": {"200": _json(page, "Tokens (hashes never shown)"),
                              **admin_errors}},
        "post": {"summary": "Issue a token (shown once)", "security": _BEARER,
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["role"], "properties": {
                         "role": {"type": "string"}, "school_id": {"type": "string"},
                         "label": {"type": "string"},
                         "expires_in_days": {"type": "integer", "minimum": 1,
                                             "maximum": 3660,
                                             "description": "default 90 "
                                                            "(KOZOMOL_TOKEN_LIFETIME_DAYS)"}}}}}},
                 "responses": {"201": _json({"type": "object"}, "The new token"),
                               "422": _ERROR, **admin_errors}},
    })
    finding_filters = [{"name": name, "in": "query", "schema": {"type": "string"}}
                       for name in ("class_id", "subject_id", "teacher_id", "student_id", "rule",
                                    "severity", "status", "date_from", "date_to",
                                    "include_withdrawn")]
    spec.path("/api/v1/rules", operations={"get": {
        "summary": "The rule catalog with the parameters in force for the school",
        "security": _BEARER, "parameters": paged[2:],
        "responses": {"200": _json(page, "Rules"), **admin_errors}}})
    spec.path("/api/v1/rules/parameters", operations={"put": {
        "summary": "Change the school's rule parameters (director, deputy); applied by the "
                   "checker at its next sweep",
        "security": _BEARER,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["parameters"], "properties": {
                "school_id": {"type": "string"},
                "parameters": {"type": "object", "additionalProperties": {"oneOf": [
                    # bounds per parameter: 0-365 days, 0-600 minutes (docs/rules.md)
                    {"type": "integer", "minimum": 0, "maximum": 600},
                    {"type": "string", "enum": ["quarter", "half_year"]},
                    {"type": "array", "items": {"type": "string"}, "maxItems": 100}]}}}}}}},
        "responses": {"202": _json({"type": "object"}, "Sent to the checker"),
                      "422": _ERROR, "503": _ERROR, **admin_errors}}})
    spec.path("/api/v1/findings", operations={"get": {
        "summary": "Findings, newest first; withdrawn ones only when asked for",
        "security": _BEARER, "parameters": paged + finding_filters,
        "responses": {"200": _json(page, "A page of findings"), "400": _ERROR,
                      **admin_errors}}})
    spec.path("/api/v1/findings/{finding_id}", operations={
        "get": {"summary": "One finding with its history", "security": _BEARER,
                "parameters": [{"name": "finding_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object"}, "The finding"),
                              **admin_errors}},
        "patch": {"summary": "Mark a finding fixed, waived (with a comment) or open again",
                  "security": _BEARER,
                  "parameters": [{"name": "finding_id", "in": "path", "required": True,
                                  "schema": {"type": "string"}}],
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": {"type": "object", "required": ["status"], "properties": {
                          "status": {"enum": ["fixed", "waived", "open"]},
                          "comment": {"type": "string"}}}}}},
                  "responses": {"202": _json({"type": "object"}, "Sent to the checker"),
                                "422": _ERROR, "503": _ERROR, **admin_errors}},
    })
    spec.path("/api/v1/classes/{class_id}/remarks-sheet", operations={"get": {
        "summary": "The class journal's remarks sheet (листок замечаний): JSON, CSV or XLSX",
        "security": _BEARER,
        "parameters": [{"name": "class_id", "in": "path", "required": True,
                        "schema": {"type": "string"}},
                       {"name": "format", "in": "query",
                        "schema": {"enum": ["json", "csv", "xlsx"]}},
                       {"name": "school_id", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The sheet"},
                      "400": {**_ERROR, "description": "An unknown query parameter"},
                      "404": {**_ERROR, "description": "No such class (named in the message)"},
                      "406": {**_ERROR, "description": "A format other than json, csv, xlsx "
                                                       "(the PDF is a print job)"},
                      **admin_errors}}})
    report_id = [{"name": "report_id", "in": "path", "required": True,
                  "schema": {"type": "string"}}]
    wait = {"name": "wait", "in": "query", "schema": {"type": "number", "maximum": 30},
            "description": "seconds to wait for the report (POST: 10 by default)"}
    spec.path("/api/v1/reports", operations={
        "post": {"summary": "Ask the checker for a report (fill_rate, quarter_analysis, "
                            "program_completion, teacher_summary, academic_results, "
                            "marks_objectivity, journal_visits); see docs/reports.md",
                 "security": _BEARER, "parameters": [wait],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["kind"], "properties": {
                         "kind": {"enum": ["fill_rate", "quarter_analysis",
                                           "program_completion", "teacher_summary",
                                           "academic_results", "marks_objectivity",
                                           "journal_visits"]},
                         "school_id": {"type": "string"},
                         "parameters": {"type": "object"}}}}}},
                 "responses": {"200": {"description": "The report (it came within wait)"},
                               "202": {"description": "Being made: ask Location again"},
                               "422": _ERROR, "503": _ERROR, **admin_errors}},
        "get": {"summary": "Reports of the school, newest first, without content",
                "security": _BEARER,
                "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}}
                               for name in ("school_id", "kind", "status", "requested_by",
                                            "limit")],
                "responses": {"200": {"description": "The list"}, **admin_errors}}})
    spec.path("/api/v1/reports/{report_id}", operations={"get": {
        "summary": "One report: JSON, one table as CSV (table=name) or every table as XLSX",
        "security": _BEARER,
        "parameters": [*report_id, wait,
                       {"name": "format", "in": "query",
                        "schema": {"enum": ["json", "csv", "xlsx"]}},
                       {"name": "table", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Ready or failed"},
                      "202": {"description": "Still being made"}, **admin_errors}}})
    spec.path("/api/v1/tokens/{token_id}", operations={"delete": {
        "summary": "Revoke a token", "security": _BEARER,
        "parameters": [{"name": "token_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"204": {"description": "Revoked"}, **admin_errors}}})
    _backup_paths(spec, admin_errors)
    _print_job_paths(spec, admin_errors)
    spec.path("/api/v1/audit", operations={"get": {
        "summary": "The personal-data access log, newest first: who read, exported or changed "
                   "what, when, from where; tokens issued and revoked (director, auditor, admin)",
        "security": _BEARER,
        "parameters": [*paged,
                       {"name": "token_id", "in": "query", "schema": {"type": "string"}},
                       {"name": "action", "in": "query", "schema": {"enum": [
                           "read", "export", "write", "auth.failed", "token.issued",
                           "token.revoked"]}},
                       *({"name": name, "in": "query",
                          "schema": {"type": "string", "format": "date-time"}}
                         for name in ("since", "until")),
                       {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}}],
        "responses": {"200": _json(page, "A page of access-log lines, or all as CSV"),
                      "400": _ERROR, **admin_errors}}})
    _notification_paths(spec, admin_errors)
    for path, summary in (("/healthz", "The process is alive"),
                          ("/readyz", "The database and the broker are reachable"),
                          ("/metrics", "Prometheus metrics")):
        spec.path(path, operations={"get": {"summary": summary,
                                            "responses": {"200": {"description": "OK"}}}})
    spec.path("/schemas/events/{event_type}.json", operations={"get": {
        "summary": "JSON Schema of one event type",
        "parameters": [{"name": "event_type", "in": "path", "required": True,
                        "schema": {"enum": sorted(DATA_SCHEMAS)}}],
        "responses": {"200": {"description": "The schema"}, "404": _ERROR}}})
    return spec.to_dict()


def _backup_paths(spec: APISpec, admin_errors: dict[str, Any]) -> None:
    """Backups and the year-end archive registry (docs/backup.md)."""
    spec.path("/api/v1/backups", operations={
        "post": {"summary": "Ask the backup service for a backup now (of the token's school; "
                            "an admin's: school_id, or every school)",
                 "security": _BEARER,
                 "requestBody": {"required": False, "content": {"application/json": {
                     "schema": {"type": "object",
                                "properties": {"school_id": {"type": "string"}}}}}},
                 "responses": {"202": {"description": "Requested; follow Location"},
                               "503": _ERROR, **admin_errors}},
        "get": {"summary": "Backups, newest first (status requested, completed, verified, "
                           "damaged, failed)",
                "security": _BEARER,
                "parameters": [{"name": "school_id", "in": "query",
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The backups"}, **admin_errors}}})
    spec.path("/api/v1/backups/{backup_id}", operations={"get": {
        "summary": "One backup", "security": _BEARER,
        "parameters": [{"name": "backup_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The backup"}, **admin_errors}}})
    spec.path("/api/v1/archive/year-end", operations={"post": {
        "summary": "Print every class journal of a year and enter each in the archive registry",
        "security": _BEARER,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["academic_year"], "properties": {
                "academic_year": {"type": "string", "pattern": r"^\d{4}-\d{4}$"},
                "school_id": {"type": "string"}, "responsible": {"type": "string"},
                "class_ids": {"type": "array", "items": {"type": "string"}}}}}}},
        "responses": {"202": {"description": "Sent to the backup service"}, "422": _ERROR,
                      "503": _ERROR, **admin_errors}}})
    spec.path("/api/v1/archive", operations={"get": {
        "summary": "The year-end archive registry: JSON, or printable as CSV / XLSX",
        "security": _BEARER,
        "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}}
                       for name in ("school_id", "academic_year")] + [
            {"name": "format", "in": "query", "schema": {"enum": ["json", "csv", "xlsx"]}}],
        "responses": {"200": {"description": "The registry"}, "400": _ERROR,
                      **admin_errors}}})


def _notification_paths(spec: APISpec, admin_errors: dict[str, Any]) -> None:
    """The notifier's delivery log (docs/notifier.md)."""
    spec.path("/api/v1/notifications", operations={"get": {
        "summary": "Messages the notifier queued for the school, with their latest status "
                   "(queued, failed, retried, sent, given_up, cancelled), newest change first",
        "security": _BEARER,
        "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}}
                       for name in ("school_id", "status", "kind", "channel",
                                    "recipient_kind", "recipient_id", "limit")],
        "responses": {"200": {"description": "The list"}, "400": _ERROR, **admin_errors}}})
    spec.path("/api/v1/notifications/{message_id}", operations={"get": {
        "summary": "One message with every step of its delivery",
        "security": _BEARER,
        "parameters": [{"name": "message_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The message"}, **admin_errors}}})


def _print_job_paths(spec: APISpec, admin_errors: dict[str, Any]) -> None:
    """Print jobs: PDF/A copies made by the printer (docs/printer.md)."""
    job_id = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    body = {"type": "object", "required": ["kind", "parameters"], "properties": {
        "kind": {"enum": list(PRINT_KINDS)},
        "school_id": {"type": "string"},
        "parameters": {"type": "object", "description": "by kind: "
                       + "; ".join(f"{kind} {{{', '.join(required)}"
                                   + (f" | optional {', '.join(optional)}" if optional else "")
                                   + "}" for kind, (required, optional) in PRINT_KINDS.items()),
                       "additionalProperties": {"type": ["string", "boolean"]}}}}
    spec.path("/api/v1/print-jobs", operations={
        "post": {"summary": 'Print a document: {"kind", "parameters": {…}, "school_id"?} — '
                            "the parameters go inside parameters, e.g. "
                            '{"kind": "class_journal", "parameters": {"class_id": "5a", '
                            '"term_id": "…"}}; batches class_journals / student_reports '
                            '(bundle "pdf" with bookmarks or "zip")',
                 "security": _BEARER,
                 "parameters": [{"name": "wait", "in": "query",
                                 "schema": {"type": "number", "maximum": 30},
                                 "description": "seconds to wait for the job to finish "
                                                "(0 by default)"}],
                 "requestBody": {"required": True,
                                 "content": {"application/json": {"schema": body}}},
                 "responses": {"200": {"description": "Finished within ?wait (the job)"},
                               "202": {"description": "Sent to the printer; follow Location"},
                               "400": _ERROR, "422": _ERROR, "503": _ERROR,
                               **admin_errors}},
        "get": {"summary": "Print jobs of the school, newest first",
                "security": _BEARER,
                "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}}
                               for name in ("school_id", "kind", "status", "limit")],
                "responses": {"200": {"description": "The list"}, **admin_errors}}})
    spec.path("/api/v1/print-jobs/{job_id}", operations={"get": {
        "summary": "A print job: pending, completed (pages, sha256, pdf link) or failed "
                   "(error)",
        "security": _BEARER, "parameters": job_id,
        "responses": {"200": {"description": "The job"}, **admin_errors}}})
    spec.path("/api/v1/print-jobs/{job_id}/pdf", operations={"get": {
        "summary": "The printed PDF/A file, or the ZIP of a batch, under its readable name "
                   "(header X-Content-SHA256)",
        "security": _BEARER, "parameters": job_id,
        "responses": {"200": {"description": "The PDF (or ZIP)",
                              "content": {"application/pdf": {}, "application/zip": {}}},
                      "409": _ERROR, "503": _ERROR, **admin_errors}}})
