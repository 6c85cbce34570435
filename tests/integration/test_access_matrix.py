"""The access matrix, generated from ``/openapi.json`` (issue 14).

Every operation of the administrators' API × every role × its own school or
another × no, wrong, expired or revoked token. A new endpoint is in the matrix
the day it is added: the credential rows need nothing, and the role rows fail
until the operation is given its roles in ``ALLOWED`` (and, for a write, its
body in ``BODIES``) below.

Expected: a bad credential is 401 everywhere; a role not allowed is 403; an
allowed role never 401/403; another school's objects and filters are 403 or
404 for every role but admin; nothing is ever 5xx.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update

from services.gateway.adapters.tables import api_tokens, quarantine
from services.gateway.adapters.tokens import create_token, revoke
from services.gateway.consumer import bootstrap_read_model
from services.gateway.domain.access import Role
from shared.events.envelope import Event
from shared.events.owners import owner_of
from shared.settings import Settings
from tests.support import batch_body, make_event, signed

pytestmark = pytest.mark.integration

ALL = frozenset(Role)
INTAKE = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.AUDITOR})
ISSUERS = frozenset({Role.ADMIN, Role.DIRECTOR})
MAKERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})
WRITERS = ALL - {Role.AUDITOR}

#: Operation → the roles that may use it (with the bodies below).
ALLOWED: dict[str, frozenset[Role]] = {
    "GET /api/v1/me": ALL,
    "GET /api/v1/quarantine": INTAKE,
    "GET /api/v1/quarantine/{item_id}": INTAKE,
    "GET /api/v1/received-events/{event_id}": INTAKE,
    "GET /api/v1/tokens": ISSUERS,
    "POST /api/v1/tokens": ISSUERS,
    "DELETE /api/v1/tokens/{token_id}": ISSUERS,
    "GET /api/v1/rules": ALL,
    "PUT /api/v1/rules/parameters": MAKERS,
    "GET /api/v1/findings": ALL,
    "GET /api/v1/findings/{finding_id}": ALL,
    "PATCH /api/v1/findings/{finding_id}": MAKERS,
    "GET /api/v1/classes/{class_id}/remarks-sheet": ALL,
    "POST /api/v1/reports": WRITERS,
    "GET /api/v1/reports": ALL,
    "GET /api/v1/reports/{report_id}": ALL,
    "POST /api/v1/print-jobs": WRITERS - {Role.TEACHER},  # a teacher prints only reports
    "GET /api/v1/print-jobs": ALL,
    "GET /api/v1/print-jobs/{job_id}": ALL,
    "GET /api/v1/print-jobs/{job_id}/pdf": ALL,
    "POST /api/v1/backups": MAKERS,
    "GET /api/v1/backups": MAKERS | {Role.AUDITOR},
    "GET /api/v1/backups/{backup_id}": MAKERS | {Role.AUDITOR},
    "POST /api/v1/archive/year-end": MAKERS,
    "GET /api/v1/archive": MAKERS | {Role.AUDITOR},
    "GET /api/v1/audit": frozenset({Role.ADMIN, Role.DIRECTOR, Role.AUDITOR}),
    "GET /api/v1/notifications": INTAKE,
    "GET /api/v1/notifications/{message_id}": INTAKE,
}


#: Operations about the token itself, not a school's data (they ignore school_id).
NO_SCHOOL_DATA = frozenset({"GET /api/v1/me"})


def bodies(school: str) -> dict[str, dict[str, Any]]:
    """A valid body of each write, aimed at ``school``."""
    return {
        "POST /api/v1/tokens": {"role": "auditor", "school_id": school, "label": "matrix"},
        "PUT /api/v1/rules/parameters": {"school_id": school, "parameters": {}},
        "PATCH /api/v1/findings/{finding_id}": {"status": "fixed"},
        "POST /api/v1/reports": {"kind": "fill_rate", "school_id": school},
        "POST /api/v1/print-jobs": {"kind": "final_statement", "school_id": school,
                                    "parameters": {"class_id": "5a"}},
        "POST /api/v1/backups": {"school_id": school},
        "POST /api/v1/archive/year-end": {"school_id": school, "academic_year": "2026-2027"},
    }


def _event(event_type: str, school: str, **data: Any) -> Event:
    return Event(f"m-{event_type}-{school}", event_type, school, datetime.now(UTC), data,
                 owner_of(event_type), "internal")


def seed(client: Any, settings: Settings, engine: Any) -> dict[str, dict[str, str]]:
    """An object of every kind in schools a and b; their ids by path parameter."""
    read_model = bootstrap_read_model(settings)
    ids: dict[str, dict[str, str]] = {}
    now = datetime.now(UTC).isoformat()
    try:
        for school in ("a", "b"):
            good, bad = make_event(school_id=school), make_event(school_id=school, value=5)
            body = batch_body([good, bad])
            assert client.post("/webhooks/kundoluk", data=body,
                               headers=signed(settings.webhook_secrets[0], body)
                               ).status_code == 202
            finding = {"id": f"f-{school}", "school_id": school, "rule": "R01", "clause": "4.1",
                       "severity": "minor", "responsible": "teacher", "status": "open",
                       "class_id": "5a", "teacher_id": "t1", "date": "2026-09-02",
                       "detected_at": now, "message": "нет темы", "evidence": {},
                       "history": []}
            read_model.consumer.process([
                _event("finding.opened", school, **finding),
                _event("report.ready", school, report_id=f"rep-{school}", kind="fill_rate",
                       generated_at=now, parameters={}, scope={"teacher_id": "t1"},
                       requested_by="schedule"),
                _event("print.failed", school, job_id=f"job-{school}", kind="class_journal",
                       reason="matrix"),
                _event("backup.completed", school, backup_id=f"bk-{school}", kind="daily"),
                _event("notification.logged", school, message_id=f"msg-{school}", at=now,
                       status="queued", attempt=0, kind="reminder", channel="email",
                       recipient_kind="teacher", recipient_id="t1", subject="Напоминание"),
            ])
            with engine.begin() as connection:
                item_id = connection.execute(select(quarantine.c.id).where(
                    quarantine.c.school_id == school)).scalar_one()
                victim = create_token(connection, Role.AUDITOR, school, label="to revoke")
            ids[school] = {"item_id": str(item_id), "event_id": good["id"],
                           "finding_id": f"f-{school}", "report_id": f"rep-{school}",
                           "job_id": f"job-{school}", "backup_id": f"bk-{school}",
                           "token_id": victim.id, "class_id": "5a",
                           "message_id": f"msg-{school}"}
    finally:
        read_model.engine.dispose()
    return ids


def operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every bearer-protected operation in /openapi.json."""
    document = orjson.loads(client.get("/openapi.json").data)
    found = [(method.upper(), path, operation)
             for path, item in document["paths"].items()
             for method, operation in item.items()
             if isinstance(operation, dict) and operation.get("security")]
    assert len(found) >= 25
    return found


def call(client: Any, method: str, path: str, ids: dict[str, str], *, school: str,
         headers: dict[str, str]) -> Any:
    label = f"{method} {path}"
    url = path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        assert name in ids, f"the matrix has no object for path parameter {name} ({label})"
        url = url.replace("{" + name + "}", ids[name])
    body = bodies(school).get(label)
    if method not in ("GET", "DELETE"):
        assert body is not None, f"add a body for {label} to the access matrix"
    query = {"school_id": school}
    if label == "POST /api/v1/reports":
        query["wait"] = "0"
    return client.open(url, method=method, json=body, query_string=query, headers=headers)


@pytest.fixture
def matrix(embedded_settings: Settings, gateway_client: Any) -> Any:
    # The limits have their own tests; this matrix makes ~150 failed logins on purpose.
    settings = replace(embedded_settings, api_rate_limit="", api_address_rate_limit="",
                       auth_failure_limit="")
    gateway, client = gateway_client(settings)
    return settings, gateway, client


def test_every_operation_refuses_a_missing_wrong_expired_or_revoked_token(matrix: Any) -> None:
    settings, gateway, client = matrix
    ids = seed(client, settings, gateway.engine)
    with gateway.engine.begin() as connection:
        expired = create_token(connection, Role.ADMIN, None)
        connection.execute(update(api_tokens).where(api_tokens.c.id == expired.id).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        revoked = create_token(connection, Role.ADMIN, None)
        revoke(connection, revoked.id)
    credentials = {"none": {}, "wrong": {"Authorization": "Bearer kzm_" + "x" * 43},
                   "not bearer": {"Authorization": f"Basic {expired.token}"},
                   "expired": {"Authorization": f"Bearer {expired.token}"},
                   "revoked": {"Authorization": f"Bearer {revoked.token}"}}
    wrong = []
    for method, path, _ in operations(client):
        for name, headers in credentials.items():
            response = call(client, method, path, ids["a"], school="a", headers=headers)
            if response.status_code != 401 or "WWW-Authenticate" not in response.headers:
                wrong.append(f"{name} token: {method} {path} -> {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_every_operation_by_role_and_school(matrix: Any) -> None:
    settings, gateway, client = matrix
    ids = seed(client, settings, gateway.engine)
    ops = operations(client)
    missing = sorted({f"{m} {p}" for m, p, _ in ops} - set(ALLOWED))
    assert not missing, f"give these operations their roles in ALLOWED: {missing}"
    wrong = []
    for role in Role:
        for school in ("a", "b"):
            own_school = role is Role.ADMIN or school == "a"
            with gateway.engine.begin() as connection:
                token = create_token(connection, role, None if role is Role.ADMIN else "a",
                                     teacher_id="t1" if role in (Role.TEACHER,
                                                                 Role.CLASS_TEACHER) else None)
            headers = {"Authorization": f"Bearer {token.token}"}
            for method, path, _ in ops:
                label = f"{method} {path}"
                response = call(client, method, path, ids[school], school=school, headers=headers)
                status = response.status_code
                if status >= 500:
                    verdict = "a server error"
                elif not own_school and label not in NO_SCHOOL_DATA:
                    verdict = "" if status in (403, 404) else "another school's answered"
                elif role in ALLOWED[label]:
                    verdict = "" if status not in (401, 403) else "refused an allowed role"
                else:
                    verdict = "" if status == 403 else "let a role in that is not allowed"
                if verdict:
                    wrong.append(f"{role.value} / school {school}: {label} -> {status}: "
                                 f"{verdict} {response.data[:150]!r}")
    assert not wrong, "\n".join(wrong)
