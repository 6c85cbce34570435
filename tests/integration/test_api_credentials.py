"""Issue 14, items 4 and 5: expiring tokens, API rate limits, the personal-data access log.

On PostgreSQL (the gateway's tables) with the in-process broker.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from services.gateway.adapters import audit as audit_log
from services.gateway.adapters.tables import api_tokens, audit
from services.gateway.adapters.tokens import authenticate, create_token
from services.gateway.domain.access import Role
from shared.settings import Settings
from tests.support import class_known_to_gateway


@pytest.fixture
def pg_settings(embedded_settings: Settings, pg_url: str) -> Settings:
    return replace(embedded_settings, database_url=pg_url)


def bearer(engine: Any, role: Role, school: str | None, **options: Any) -> tuple[str, dict]:
    teacher = "t1" if role in (Role.TEACHER, Role.CLASS_TEACHER) else None
    with engine.begin() as connection:
        issued = create_token(connection, role, school, label="test", teacher_id=teacher,
                              **options)
    return issued.id, {"Authorization": f"Bearer {issued.token}"}


# ---------------------------------------------------------------- item 5: expiry

def test_tokens_expire_after_90_days_by_default_or_as_set(pg_settings: Settings,
                                                          gateway_client: Any) -> None:
    gateway, client = gateway_client(pg_settings)
    _, director = bearer(gateway.engine, Role.DIRECTOR, "a")
    made = client.post("/api/v1/tokens", headers=director,
                       json={"role": "deputy", "school_id": "a"})
    assert made.status_code == 201, made.json
    expires = datetime.fromisoformat(made.json["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=1)
    short = client.post("/api/v1/tokens", headers=director,
                        json={"role": "auditor", "school_id": "a", "expires_in_days": 7})
    assert datetime.fromisoformat(short.json["expires_at"]) < expires - timedelta(days=80)
    for bad in (0, -1, "7", 1.5, True, 100_000):
        refused = client.post("/api/v1/tokens", headers=director,
                              json={"role": "auditor", "school_id": "a", "expires_in_days": bad})
        assert refused.status_code == 422 and "expires_in_days" in refused.json["error"][
            "details"], bad
    listed = {item["id"]: item for item in client.get(
        "/api/v1/tokens", headers=director).json["items"]}
    assert listed[short.json["id"]]["expires_at"] == short.json["expires_at"]

    deputy = {"Authorization": f"Bearer {made.json['token']}"}
    assert client.get("/api/v1/findings", headers=deputy).status_code == 200
    with gateway.engine.begin() as connection:  # its 90 days have passed
        connection.execute(update(api_tokens).where(api_tokens.c.id == made.json["id"])
                           .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = client.get("/api/v1/findings", headers=deputy)
    assert expired.status_code == 401
    assert expired.json["error"]["code"] == "invalid_token"
    assert "истёк" in expired.json["error"]["message"]


def test_a_token_without_an_expiry_is_refused(pg_settings: Settings,
                                              gateway_client: Any) -> None:
    """Fail closed: a row that somehow has no expiry is no valid token."""
    gateway, _ = gateway_client(pg_settings)
    with gateway.engine.begin() as connection:
        connection.execute(insert(api_tokens).values(
            id="legacy", token_hash="0" * 64, role="admin", school_id=None,
            created_at=datetime.now(UTC), expires_at=None))
        issued = create_token(connection, Role.ADMIN, None, lifetime_days=1)
        assert authenticate(connection, issued.token) is not None
        assert authenticate(connection, issued.token,
                            now=datetime.now(UTC) + timedelta(days=2)) is None


# ---------------------------------------------------------------- item 5: rate limits

def test_the_api_rate_limit_is_on_by_default(embedded_settings: Settings) -> None:
    assert embedded_settings.api_rate_limit and embedded_settings.api_address_rate_limit
    assert embedded_settings.auth_failure_limit


def test_guessing_tokens_is_stopped_by_the_failed_authentication_limit(
        pg_settings: Settings, gateway_client: Any) -> None:
    """The audit tried 500 random tokens in 4.3 s without a 429."""
    gateway, client = gateway_client(pg_settings)  # the default limits
    _, good = bearer(gateway.engine, Role.ADMIN, None)
    answers = [client.get("/api/v1/quarantine",
                          headers={"Authorization": f"Bearer kzm_{secrets.token_urlsafe(32)}"}
                          ).status_code for _ in range(60)]
    limit = int(pg_settings.auth_failure_limit.split("/")[0])
    assert answers[:limit] == [401] * limit
    assert set(answers[limit:]) == {429}
    blocked = client.get("/api/v1/quarantine", headers=good)  # the address, whatever it sends
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    other = client.get("/api/v1/quarantine", headers=good,
                       environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_each_token_and_each_address_has_its_own_limit(pg_settings: Settings,
                                                       gateway_client: Any) -> None:
    settings = replace(pg_settings, api_rate_limit="5/minute",
                       api_address_rate_limit="8/minute")
    gateway, client = gateway_client(settings)
    _, first = bearer(gateway.engine, Role.DEPUTY, "a")
    _, second = bearer(gateway.engine, Role.DEPUTY, "a")
    assert [client.get("/api/v1/findings", headers=first).status_code
            for _ in range(6)] == [200] * 5 + [429]
    # the second token still has its own five, until the address's eight are spent
    assert [client.get("/api/v1/findings", headers=second).status_code
            for _ in range(3)] == [200, 200, 200]
    assert client.get("/api/v1/findings", headers=second).status_code == 429
    elsewhere = client.get("/api/v1/findings", headers=second,
                           environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert elsewhere.status_code == 200


# ---------------------------------------------------------------- item 4: the access log

def _lines(client: Any, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    items: list[dict[str, Any]] = response.json["items"]
    return items


def test_the_director_sees_who_read_or_exported_what_when_and_from_where(
        pg_settings: Settings, gateway_client: Any) -> None:
    gateway, client = gateway_client(pg_settings)
    _, director = bearer(gateway.engine, Role.DIRECTOR, "a")
    deputy_id, deputy = bearer(gateway.engine, Role.DEPUTY, "a")
    _, director_b = bearer(gateway.engine, Role.DIRECTOR, "b")
    _, admin = bearer(gateway.engine, Role.ADMIN, None)
    started = datetime.now(UTC)
    address = {"REMOTE_ADDR": "192.0.2.15"}
    assert client.get("/api/v1/findings?student_id=st_7", headers=deputy,
                      environ_base=address).status_code == 200
    class_known_to_gateway(gateway.engine, "a", "5a")
    assert client.get("/api/v1/classes/5a/remarks-sheet?format=csv", headers=deputy,
                      environ_base=address).status_code == 200
    assert client.get("/api/v1/quarantine", headers=director_b).status_code == 200
    issued = client.post("/api/v1/tokens", headers=director,
                         json={"role": "teacher", "school_id": "a", "teacher_id": "t1"})
    assert client.delete(f"/api/v1/tokens/{issued.json['id']}",
                         headers=director).status_code == 204
    client.get("/api/v1/findings", headers={"Authorization": "Bearer kzm_wrong"})

    lines = _lines(client, director)
    by_action: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_action.setdefault(line["action"], []).append(line)
    read = next(line for line in by_action["read"] if line["token_id"] == deputy_id)
    assert read["resource"] == "GET /api/v1/findings"
    assert read["target"] == {"student_id": "st_7"}
    assert (read["role"], read["school_id"], read["status"], read["address"]) == (
        "deputy", "a", 200, "192.0.2.15")
    assert datetime.fromisoformat(read["at"]) >= started - timedelta(seconds=1)
    export = by_action["export"][0]
    assert export["resource"] == "GET /api/v1/classes/<class_id>/remarks-sheet"
    assert export["target"] == {"class_id": "5a", "format": "csv"}
    assert [line["target"]["token_id"] for line in by_action["token.issued"]] == [
        issued.json["id"]]
    assert [line["target"]["token_id"] for line in by_action["token.revoked"]] == [
        issued.json["id"]]
    assert all(line["school_id"] == "a" for line in lines)  # nothing of school b
    assert "auth.failed" not in by_action  # a failed login names no school
    assert any(line["action"] == "auth.failed" for line in _lines(client, admin))

    only_deputy = _lines(client, director, token_id=deputy_id)
    assert {line["token_id"] for line in only_deputy} == {deputy_id}
    exports = _lines(client, director, action="export")
    assert [line["action"] for line in exports] == ["export"]
    assert _lines(client, director, until=started.isoformat()) == []

    table = client.get("/api/v1/audit?format=csv", headers=director)
    assert table.status_code == 200
    rows = list(csv.reader(io.StringIO(table.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Время (UTC)", "Токен", "Роль", "Школа", "Действие"]
    assert any(row[1] == deputy_id and row[4] == "выгрузка" for row in rows[1:])

    assert client.get("/api/v1/audit", headers=deputy).status_code == 403
    assert client.get("/api/v1/audit?school_id=b", headers=director).status_code == 403
    assert client.get("/api/v1/audit?since=yesterday", headers=director).status_code == 400


def test_the_access_log_is_kept_by_retention(pg_settings: Settings,
                                             gateway_client: Any) -> None:
    gateway, _ = gateway_client(pg_settings)
    now = datetime.now(UTC)
    with gateway.engine.begin() as connection:
        for age in (1, 100, 2000):
            audit_log.record(connection, at=now - timedelta(days=age), action="read",
                             resource="GET /api/v1/findings", target={}, school_id="a")
        assert audit_log.prune(connection, now, pg_settings.audit_retention_days) == 1
        left = connection.execute(select(audit.c.at)).scalars().all()
    assert len(left) == 2


def test_tokens_made_and_revoked_on_the_command_line_expire_and_are_logged(
        pg_settings: Settings, migrated: Any) -> None:
    from click.testing import CliRunner

    from kozomol.cli import main
    from shared.db.engine import make_engine

    settings = migrated(pg_settings)
    runner = CliRunner(env={"KOZOMOL_DATABASE_URL": settings.database_url,
                            "KOZOMOL_DATA_DIR": str(settings.data_dir),
                            "KOZOMOL_WEBHOOK_SECRETS": settings.webhook_secrets[0]})
    made = runner.invoke(main, ["tokens", "create", "--role", "auditor", "--school", "a",
                                "--expires-in-days", "30"], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    token_id = made.stderr.split("token id ", 1)[1].split(",", 1)[0]
    assert "expires " in made.stderr
    refused = runner.invoke(main, ["tokens", "create", "--role", "auditor", "--school", "a",
                                   "--expires-in-days", "0"])
    assert refused.exit_code != 0
    assert runner.invoke(main, ["tokens", "revoke", token_id]).exit_code == 0
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            expires = connection.execute(select(api_tokens.c.expires_at).where(
                api_tokens.c.id == token_id)).scalar_one()
            lines = connection.execute(select(audit.c.action, audit.c.school_id,
                                              audit.c.target).order_by(audit.c.id)).all()
    finally:
        engine.dispose()
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    assert [(line.action, line.school_id, line.target["token_id"]) for line in lines] == [
        ("token.issued", "a", token_id), ("token.revoked", "a", token_id)]
