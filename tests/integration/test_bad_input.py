"""Issue 14, items 2 and 7: bad input gets a clear answer, loses nothing, and never a 500.

On the embedded default (SQLite, where the audit found the integer overflow).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from sqlalchemy import select

from services.gateway.adapters.tables import quarantine, received_events
from services.gateway.adapters.tokens import create_token
from services.gateway.domain.access import Role
from shared.settings import Settings
from tests.support import batch_body, class_known_to_gateway, make_event, signed

STUDENT = "Секретова Айжан Бакытовна"


@pytest.fixture
def gateway(embedded_settings: Settings, gateway_client: Any) -> tuple[Any, Any]:
    return gateway_client(embedded_settings)


def post(client: Any, settings: Settings, body: bytes) -> Any:
    return client.post("/webhooks/kundoluk", data=body,
                       headers=signed(settings.webhook_secrets[0], body))


def _roster_with_a_null_student() -> dict[str, Any]:
    roster = make_event("class.roster")
    roster["data"]["students"] = [None, {"student_id": "st_9", "full_name": STUDENT},
                                  {"full_name": STUDENT}]
    return roster


def test_an_error_inside_a_list_is_answered_field_by_field_and_loses_nothing(
        gateway: tuple[Any, Any], embedded_settings: Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    engine, client = gateway[0].engine, gateway[1]
    roster, good = _roster_with_a_null_student(), make_event()
    with caplog.at_level(logging.DEBUG):
        batch = post(client, embedded_settings, batch_body([good, roster]))
        single = post(client, embedded_settings, orjson.dumps({**roster, "id": "evt_single"}))
    assert batch.status_code == 202, batch.json
    assert batch.json["accepted"] == 1
    errors = batch.json["rejected"][0]["errors"]
    assert set(errors["data"]["students"]) == {"0", "2"}  # the list items, by index
    assert "student_id" in errors["data"]["students"]["2"]
    assert single.status_code == 422
    assert single.json["error"]["details"] == errors
    with engine.connect() as connection:
        assert connection.execute(select(received_events.c.event_id)).scalars().all() == [
            good["id"]]
        kept = connection.execute(select(quarantine.c.event_id, quarantine.c.errors)).all()
    assert [(row.event_id, row.errors) for row in kept] == [(roster["id"], errors),
                                                            ("evt_single", errors)]
    assert STUDENT not in caplog.text  # nothing personal in the log


def _nested(depth: int) -> bytes:
    """An event whose data holds ``depth`` levels of objects (built as text: the JSON
    writer itself refuses past 254)."""
    event = orjson.dumps(make_event()).decode()
    inner = '{"x":' * depth + "1" + "}" * depth
    return event.replace('"data":{', '"data":{"deep":' + inner + ",", 1).encode()


@pytest.mark.parametrize("depth", [40, 253, 600, 1000])
def test_deeply_nested_events_are_refused_and_kept_without_losing_their_batch(
        gateway: tuple[Any, Any], embedded_settings: Settings, depth: int) -> None:
    engine, client = gateway[0].engine, gateway[1]
    good = make_event()
    body = b'{"events":[' + orjson.dumps(good) + b"," + _nested(depth) + b"]}"
    batch = post(client, embedded_settings, body)
    assert batch.status_code == 202, batch.json
    assert batch.json["accepted"] == 1
    assert batch.json["rejected"][0]["errors"] == {"_schema": ["nested deeper than 32 levels"]}
    single = post(client, embedded_settings, _nested(depth))
    assert single.status_code == 422
    with engine.connect() as connection:
        kept = connection.execute(select(quarantine.c.body)).scalars().all()
    assert len(kept) == 2 and all(b"\\u2026" in body or "…".encode() in body for body in kept)


def test_an_event_nested_within_the_limit_is_taken(
        gateway: tuple[Any, Any], embedded_settings: Settings) -> None:
    response = post(gateway[1], embedded_settings, _nested(20))
    assert response.status_code == 202, response.json


def _token(engine: Any, role: Role, school: str | None) -> dict[str, str]:
    with engine.begin() as connection:
        issued = create_token(connection, role, school, label="test")
    return {"Authorization": f"Bearer {issued.token}"}


def test_a_quarantine_id_beyond_64_bits_is_not_found(gateway: tuple[Any, Any]) -> None:
    engine, client = gateway[0].engine, gateway[1]
    admin = _token(engine, Role.ADMIN, None)
    for item_id in (2**63, 10**30, 9223372036854775807):
        response = client.get(f"/api/v1/quarantine/{item_id}", headers=admin)
        assert response.status_code == 404, (item_id, response.json)
    import base64
    huge = base64.urlsafe_b64encode(b"q" + b"9" * 40).decode().rstrip("=")
    listing = client.get(f"/api/v1/quarantine?cursor={huge}", headers=admin)
    assert listing.status_code == 400


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_school_id_outside_latin_1_downloads_with_an_encoded_file_name(
        gateway: tuple[Any, Any], fmt: str) -> None:
    engine, client = gateway[0].engine, gateway[1]
    admin = _token(engine, Role.ADMIN, None)
    response = client.get(f"/api/v1/archive?format={fmt}&school_id=школа№48", headers=admin)
    assert response.status_code == 200, response.data[:200]
    disposition = response.headers["Content-Disposition"]
    assert disposition.isascii()
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"archive-registry-школа№48.{fmt}"


@pytest.mark.parametrize("class_id", ["5а", 'x"; filename="evil.exe', "a\\b;c=d"])
def test_remarks_sheet_names_cannot_break_the_header(
        gateway: tuple[Any, Any], class_id: str) -> None:
    engine, client = gateway[0].engine, gateway[1]
    deputy = _token(engine, Role.DEPUTY, "shg48")
    class_known_to_gateway(engine, "shg48", class_id)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/api/v1/classes/{class_id}/remarks-sheet?format={fmt}",
                              headers=deputy)
        assert response.status_code == 200, response.data[:200]
        disposition = response.headers["Content-Disposition"]
        assert disposition.count("filename=") == 1 and disposition.count("filename*=") == 1
        fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
        assert not set(fallback) & set('"\\;= ')
        # the readable name (the class, then what it is), whole and in one parameter
        assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == \
            f"{class_id.replace(' ', '')}_лист-замечаний.{fmt}"


def test_whole_numbers_beyond_64_bits_in_an_api_body_are_refused_not_a_500(
        gateway: tuple[Any, Any]) -> None:
    """Found by the fuzz job: a huge number in a year-end request's class list was a 500."""
    engine, client = gateway[0].engine, gateway[1]
    with engine.begin() as connection:
        token = create_token(connection, Role.DEPUTY, "shg48").token
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    huge = b'{"academic_year": "2026-2027", "class_ids": [123456789012345678901234567890]}'
    answer = client.post("/api/v1/archive/year-end", data=huge, headers=headers)
    assert answer.status_code in (400, 422), answer.data
    listed = client.post("/api/v1/archive/year-end", headers=headers,
                         json={"academic_year": "2026-2027", "class_ids": [5, "5a"]})
    assert listed.status_code == 422
    assert "class_ids" in listed.json["error"]["details"]
