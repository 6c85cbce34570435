"""The administrators' API on PostgreSQL: tokens, roles and school scoping."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from services.gateway.adapters.tokens import create_token
from services.gateway.domain.access import Role
from shared.settings import Settings
from tests.support import batch_body, make_event, signed


@pytest.fixture
def api(embedded_settings: Settings, pg_url: str, gateway_client: Any) -> tuple[Any, Any]:
    # PostgreSQL for the gateway's tables, the in-process broker for the events.
    return gateway_client(replace(embedded_settings, database_url=pg_url))


def token(engine: Engine, role: Role, school: str | None) -> dict[str, str]:
    with engine.begin() as connection:
        issued = create_token(connection, role, school,
                              teacher_id="t1" if role is Role.TEACHER else None)
    return {"Authorization": f"Bearer {issued.token}"}


def deliver_with_rejections(client: Any, secret: str) -> dict[str, dict[str, Any]]:
    """One accepted and one quarantined event for each of schools a and b."""
    events = {}
    for school in ("a", "b"):
        good = make_event(school_id=school)
        bad = make_event(school_id=school, value=5)
        body = batch_body([good, bad])
        assert client.post("/webhooks/kundoluk", data=body,
                           headers=signed(secret, body)).status_code == 202
        events[school] = {"good": good, "bad": bad}
    return events


def test_missing_or_wrong_token_is_401(api: tuple[Any, Any]) -> None:
    _, client = api
    for headers in ({}, {"Authorization": "Bearer kzm_nope"}, {"Authorization": "Basic x"},
                    {"Authorization": "Bearer "}):
        response = client.get("/api/v1/quarantine", headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] in {"unauthenticated", "invalid_token"}
        assert "WWW-Authenticate" in response.headers


def test_school_a_cannot_read_anything_of_school_b(
    api: tuple[Any, Any], embedded_settings: Settings
) -> None:
    gateway, client = api
    events = deliver_with_rejections(client, embedded_settings.webhook_secrets[0])
    deputy_a = token(gateway.engine, Role.DEPUTY, "a")

    listing = client.get("/api/v1/quarantine", headers=deputy_a)
    assert listing.status_code == 200
    assert [item["event_id"] for item in listing.json["items"]] == [events["a"]["bad"]["id"]]
    assert listing.json["items"][0]["item"] == events["a"]["bad"]

    assert client.get("/api/v1/quarantine?school_id=b", headers=deputy_a).status_code == 403
    admin = token(gateway.engine, Role.ADMIN, None)
    b_items = client.get("/api/v1/quarantine?school_id=b", headers=admin).json["items"]
    assert [item["event_id"] for item in b_items] == [events["b"]["bad"]["id"]]
    b_item_id = b_items[0]["id"]
    assert client.get(f"/api/v1/quarantine/{b_item_id}", headers=deputy_a).status_code == 404
    assert client.get(f"/api/v1/quarantine/{b_item_id}", headers=admin).status_code == 200

    b_event = events["b"]["good"]["id"]
    assert client.get(f"/api/v1/received-events/{b_event}", headers=deputy_a).status_code == 404
    a_event = events["a"]["good"]["id"]
    record = client.get(f"/api/v1/received-events/{a_event}", headers=deputy_a).json
    assert record["school_id"] == "a"
    assert record["stored_in"] == "broker"
    assert record["received_at"].endswith("+00:00")


def test_quarantine_pagination_is_stable_and_complete(
    api: tuple[Any, Any], embedded_settings: Settings
) -> None:
    gateway, client = api
    bad = [make_event(school_id="a", value=i) for i in range(7)]
    body = batch_body(bad)
    client.post("/webhooks/kundoluk", data=body,
                headers=signed(embedded_settings.webhook_secrets[0], body))
    headers = token(gateway.engine, Role.AUDITOR, "a")
    seen, cursor = [], None
    for _ in range(10):
        url = "/api/v1/quarantine?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).json
        seen += [item["batch_index"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [6, 5, 4, 3, 2, 1, 0]
    bad_cursor = client.get("/api/v1/quarantine?cursor=zzz", headers=headers)
    assert bad_cursor.status_code == 400
    assert client.get("/api/v1/quarantine?limit=0", headers=headers).status_code == 400


def test_teachers_may_not_read_intake_and_auditors_may_not_write(api: tuple[Any, Any]) -> None:
    gateway, client = api
    teacher = token(gateway.engine, Role.TEACHER, "a")
    assert client.get("/api/v1/quarantine", headers=teacher).status_code == 403
    auditor = token(gateway.engine, Role.AUDITOR, "a")
    response = client.post("/api/v1/tokens", headers=auditor,
                           data=orjson.dumps({"role": "teacher"}),
                           content_type="application/json")
    assert response.status_code == 403


def test_a_director_issues_and_revokes_tokens_of_their_school(api: tuple[Any, Any]) -> None:
    gateway, client = api
    director = token(gateway.engine, Role.DIRECTOR, "a")
    created = client.post("/api/v1/tokens", headers=director, json={"role": "deputy",
                                                                    "label": "завуч"})
    assert created.status_code == 201
    new = created.json
    assert (new["role"], new["school_id"]) == ("deputy", "a")
    bearer = {"Authorization": f"Bearer {new['token']}"}
    assert client.get("/api/v1/me", headers=bearer).json["role"] == "deputy"
    assert client.post("/api/v1/tokens", headers=director,
                       json={"role": "deputy", "school_id": "b"}).status_code == 403
    assert client.post("/api/v1/tokens", headers=director,
                       json={"role": "admin"}).status_code == 403
    assert client.post("/api/v1/tokens", headers=director,
                       json={"role": "wizard"}).status_code == 422
    listed = client.get("/api/v1/tokens", headers=director).json["items"]
    assert new["id"] in [item["id"] for item in listed]
    assert all("token" not in item and "token_hash" not in item for item in listed)
    assert client.delete(f"/api/v1/tokens/{new['id']}", headers=director).status_code == 204
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    other_school = token(gateway.engine, Role.DIRECTOR, "b")
    assert client.delete(f"/api/v1/tokens/{new['id']}", headers=other_school).status_code == 404


def test_token_requests_with_wrong_fields_are_422(api: tuple[Any, Any]) -> None:
    gateway, client = api
    admin = token(gateway.engine, Role.ADMIN, None)
    for body, field in (({"role": "deputy"}, "school_id"),
                        ({"role": "admin", "school_id": "a"}, "school_id"),
                        ({"role": "deputy", "school_id": 5}, "school_id"),
                        ({"role": "deputy", "school_id": "a", "label": ["x"]}, "label")):
        response = client.post("/api/v1/tokens", headers=admin, json=body)
        assert response.status_code == 422, body
        assert field in response.json["error"]["details"]
