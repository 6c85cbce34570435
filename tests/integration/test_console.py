"""The school's web console (issue 16) on PostgreSQL and RabbitMQ, through its forms.

Staff accounts, cookie sessions, CSRF, throttling, expiry and clause 3.2 (a disabled
user stops at once), and pages limited exactly as the API limits the same role.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from kombu import Connection
from sqlalchemy import insert, select, update

from services.gateway.adapters import users
from services.gateway.adapters.tables import api_tokens, backups_view, names_view, sessions
from services.gateway.adapters.tables import users as users_table
from services.gateway.adapters.tokens import create_token
from services.gateway.domain.access import Role
from services.gateway.handlers.findings import apply_finding_events
from shared.events.envelope import Event
from shared.messaging.topology import Topology
from shared.settings import Settings
from tests.support import BROKER_URL, drain_queue

PASSWORD = "длинный-пароль-1"


@pytest.fixture
def console(production_settings: Settings, gateway_client: Any) -> tuple[Any, Any]:
    return gateway_client(replace(production_settings, console_account_failures=3))


def _finding(finding_id: str, school: str, teacher: str, rule: str = "lesson.topic.late",
             status: str = "open") -> Event:
    data = {"id": finding_id, "school_id": school, "rule": rule, "clause": "4.1",
            "severity": "minor", "responsible": "teacher", "status": status,
            "class_id": "5a", "teacher_id": teacher, "date": "2026-09-02",
            "detected_at": datetime.now(UTC).isoformat(), "message": f"нет темы {finding_id}",
            "evidence": {}, "history": []}
    return Event(f"e-{finding_id}-{status}", "finding.updated" if status != "open"
                 else "finding.opened", school, datetime.now(UTC), data, "checker", "internal")


def seed(gateway: Any) -> None:
    with gateway.engine.begin() as connection:
        apply_finding_events(connection, [
            _finding("f1", "a", "t1"), _finding("f2", "a", "t1", rule="homework.late"),
            _finding("f3", "a", "t2"), _finding("f4", "a", "t2", status="fixed"),
            _finding("fb", "b", "t1")])
        connection.execute(insert(names_view), [
            {"school_id": "a", "kind": kind, "entity_id": entity, "name": name, "stamp": "1"}
            for kind, entity, name in (("school", "a", "Школа-гимназия № 48"),
                                       ("teacher", "t1", "Асанова Айгуль"),
                                       ("teacher", "t2", "Бекова Нурия"),
                                       ("class", "5a", "5 «А»"))])
        connection.execute(insert(backups_view).values(
            id="bk-a", scope="a", kind="daily", status="verified",
            requested_at=datetime(2026, 11, 30, 2, tzinfo=UTC),
            created_at=datetime(2026, 11, 30, 2, 5, tzinfo=UTC),
            verified_at=datetime(2026, 11, 30, 2, 9, tzinfo=UTC)))


def account(gateway: Any, login: str, role: Role, school: str | None = "a",
            teacher: str | None = None) -> str:
    """An account made as `kozomol users create` makes it, its password set by its code."""
    with gateway.engine.begin() as connection:
        user, code = users.create_user(connection, login, f"Имя {login}", role,
                                       school_id=school, teacher_id=teacher)
        assert users.set_password(connection, code, PASSWORD) is not None
    return user.id


def csrf_of(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, "the form carries no CSRF token"
    return found.group(1).decode()


def log_in(client: Any, login: str, password: str = PASSWORD) -> Any:
    form = client.get("/console/login")
    return client.post("/console/login", data={
        "login": login, "password": password, "csrf_token": csrf_of(form.data)})


def test_a_deputy_sees_the_apis_figures_waives_a_finding_and_logs_out(
    console: tuple[Any, Any], production_settings: Settings
) -> None:
    gateway, client = console
    seed(gateway)
    account(gateway, "deputy", Role.DEPUTY)
    with gateway.engine.begin() as connection:
        api_token = create_token(connection, Role.DEPUTY, "a").token

    assert client.get("/console/").status_code == 302  # not logged in: to the login page
    answer = log_in(client, "deputy")
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # the plain-http embedded default

    page = client.get("/console/")
    assert page.status_code == 200
    text = page.data.decode()
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert "<script" not in text and "style=" not in text
    api = client.get("/api/v1/findings?status=open",
                     headers={"Authorization": f"Bearer {api_token}"}).json["items"]
    by_rule: dict[str, int] = {}
    for item in api:
        by_rule[item["rule"]] = by_rule.get(item["rule"], 0) + 1
    shown = dict(re.findall(r'data-rule="([\w.]+)">.*?<td class="num">(\d+)</td>', text, re.S))
    assert {rule: int(count) for rule, count in shown.items()} == by_rule == \
        {"lesson.topic.late": 2, "homework.late": 1}
    assert re.search(r'id="open-total">3<', text)
    ranked = re.findall(r'data-teacher="(\w+)".*?class="count">(\d+)<', text, re.S)
    assert ranked == [("t1", "2"), ("t2", "1")]
    # 02:09 UTC is 08:09 in Bishkek: times are the school's (no calendar came: Asia/Bishkek)
    assert "Проверена 30.11.2026 08:09." in text and "(Asia/Bishkek)" in text

    listing = client.get("/console/findings")
    assert [m for m in re.findall(r'id="finding-(\w+)"', listing.data.decode())] == \
        [item["id"] for item in api]
    with Connection(BROKER_URL, connect_timeout=5) as broker:  # the checker's queue
        Topology(production_settings.namespace, "quorum",
                 production_settings.delivery_limit).declare(broker)
    refused = client.post("/console/findings/f1", data={
        "status": "waived", "comment": "", "csrf_token": csrf_of(listing.data)})
    assert refused.status_code == 303
    assert "укажите обоснование" in client.get("/console/findings").data.decode()
    assert drain_queue(production_settings.namespace, "checker", idle_seconds=0.3) == []

    sent = client.post("/console/findings/f1", data={
        "status": "waived", "comment": "урок перенесён приказом", "csrf_token":
        csrf_of(listing.data)})
    assert sent.status_code == 303
    commands = [orjson.loads(m.body) for m in
                drain_queue(production_settings.namespace, "checker", idle_seconds=0.5)]
    assert [(c["type"], c["data"]["finding_id"], c["data"]["status"], c["data"]["comment"])
            for c in commands] == [("finding.update", "f1", "waived", "урок перенесён приказом")]
    assert commands[0]["data"]["actor"] == \
        "заместитель директора Имя deputy (пользователь deputy)"
    # The checker applies it and announces the change; the read model takes it.
    with gateway.engine.begin() as connection:
        apply_finding_events(connection, [_finding("f1", "a", "t1", status="waived")])
    after = client.get("/console/findings").data.decode()
    assert "finding-f1" not in after and "finding-f2" in after

    home = client.get("/console/")
    assert client.post("/console/logout", data={"csrf_token": csrf_of(home.data)}
                       ).status_code == 302
    assert client.get("/console/").status_code == 302


def test_a_teacher_sees_only_their_own_page(console: tuple[Any, Any]) -> None:
    gateway, client = console
    seed(gateway)
    account(gateway, "teacher1", Role.TEACHER, teacher="t1")
    log_in(client, "teacher1")
    start = client.get("/console/")
    assert start.status_code == 302 and start.headers["Location"].endswith("/console/teachers/t1")
    own = client.get("/console/teachers/t1").data.decode()
    assert "finding-f1" in own and "finding-f2" in own and "finding-f3" not in own
    assert "finding-fb" not in own  # school b's finding of a teacher with the same id
    assert client.get("/console/teachers/t2").status_code == 403
    assert client.get("/console/teachers/t2?school_id=b").status_code == 403
    listing = client.get("/console/findings").data.decode()
    assert "finding-f3" not in listing and "Снять" not in listing  # no decisions for teachers
    assert client.post("/console/findings/f1", data={
        "status": "fixed", "csrf_token": csrf_of(client.get("/console/teachers/t1").data)}
    ).status_code == 403


def test_a_form_without_its_csrf_token_is_refused(console: tuple[Any, Any]) -> None:
    gateway, client = console
    seed(gateway)
    account(gateway, "deputy", Role.DEPUTY)
    client.get("/console/login")
    assert client.post("/console/login", data={"login": "deputy", "password": PASSWORD}
                       ).status_code == 400
    log_in(client, "deputy")
    refused = client.post("/console/findings/f1", data={"status": "fixed"})
    assert refused.status_code == 400
    assert "CSRF" in refused.data.decode()
    wrong = client.post("/console/findings/f1", data={"status": "fixed", "csrf_token": "x"})
    assert wrong.status_code == 400


def test_a_disabled_users_live_session_and_tokens_stop_at_once(
    console: tuple[Any, Any]
) -> None:
    gateway, client = console
    seed(gateway)
    user_id = account(gateway, "deputy", Role.DEPUTY)
    with gateway.engine.begin() as connection:
        token = create_token(connection, Role.DEPUTY, "a", user_id=user_id).token
    log_in(client, "deputy")
    assert client.get("/console/").status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/findings", headers=bearer).status_code == 200
    with gateway.engine.begin() as connection:
        assert users.disable(connection, user_id) == 1
    assert client.get("/console/").status_code == 302
    assert client.get("/api/v1/findings", headers=bearer).status_code == 401
    assert log_in(client, "deputy").status_code == 401
    with gateway.engine.connect() as connection:
        assert connection.execute(select(api_tokens.c.revoked_at)).scalar() is not None


def test_login_is_throttled_per_account_and_passwords_are_argon2id(
    console: tuple[Any, Any]
) -> None:
    gateway, client = console
    account(gateway, "deputy", Role.DEPUTY)
    with gateway.engine.connect() as connection:
        stored = connection.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    for _ in range(3):
        assert log_in(client, "deputy", "неверный пароль").status_code == 401
    # Past the limit even the right password is refused for a while.
    throttled = log_in(client, "deputy")
    assert throttled.status_code == 429
    assert "Слишком много" in throttled.data.decode()
    assert log_in(client, "nobody", "x").status_code == 401  # other accounts are not


def test_sessions_end_when_idle_or_too_old(console: tuple[Any, Any]) -> None:
    gateway, client = console
    account(gateway, "deputy", Role.DEPUTY)
    log_in(client, "deputy")
    assert client.get("/console/").status_code == 200
    with gateway.engine.begin() as connection:
        connection.execute(update(sessions).values(
            last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
    assert client.get("/console/").status_code == 302
    log_in(client, "deputy")
    with gateway.engine.begin() as connection:
        connection.execute(update(sessions).where(sessions.c.ended_at.is_(None)).values(
            created_at=datetime.now(UTC) - timedelta(hours=13)))
    assert client.get("/console/").status_code == 302


def test_a_setup_code_works_once(console: tuple[Any, Any]) -> None:
    gateway, client = console
    with gateway.engine.begin() as connection:
        _, code = users.create_user(connection, "new", "Новый Учитель", Role.DEPUTY,
                                    school_id="a", teacher_id=None)
    form = client.get(f"/console/set-password?code={code}")
    token = csrf_of(form.data)
    short = client.post("/console/set-password", data={
        "code": code, "password": "short", "password_again": "short", "csrf_token": token})
    assert short.status_code == 422 and "не короче 10" in short.data.decode()
    done = client.post("/console/set-password", data={
        "code": code, "password": PASSWORD, "password_again": PASSWORD, "csrf_token": token})
    assert done.status_code == 302
    again = client.post("/console/set-password", data={
        "code": code, "password": PASSWORD, "password_again": PASSWORD, "csrf_token": token})
    assert again.status_code == 422
    assert log_in(client, "new").status_code == 302
    with gateway.engine.begin() as connection:
        reset_code = users.reset_password(connection, users.find_user(connection, "new").id)
    assert client.get("/console/").status_code == 302  # a reset ends the sessions
    assert log_in(client, "new").status_code == 401
    assert reset_code != code


def test_static_assets_are_served_by_the_product_and_pages_stay_out_of_openapi(
    console: tuple[Any, Any]
) -> None:
    _, client = console
    css = client.get("/console/static/console.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and b".card" in css.data
    css.close()
    paths = client.get("/openapi.json").json["paths"]
    assert not [path for path in paths if path.startswith("/console")]


def test_the_users_commands_show_the_code_once_and_disable_revokes_tokens(
    production_settings: Settings, migrated: Any, gateway_client: Any
) -> None:
    from click.testing import CliRunner

    from kozomol.cli import main

    gateway, client = gateway_client(production_settings)
    runner = CliRunner(env={"KOZOMOL_DATABASE_URL": production_settings.database_url,
                            "KOZOMOL_BROKER_URL": production_settings.broker_url,
                            "KOZOMOL_DATA_DIR": str(production_settings.data_dir),
                            "KOZOMOL_WEBHOOK_SECRETS": production_settings.webhook_secrets[0]})
    made = runner.invoke(main, ["users", "create", "--login", "aliyeva", "--name",
                                "Алиева Гульнара", "--role", "deputy", "--school", "a"],
                         catch_exceptions=False)
    assert made.exit_code == 0, made.output
    code = made.stdout.strip().split("code=", 1)[1]
    assert runner.invoke(main, ["users", "create", "--login", "x", "--name", "X", "--role",
                                "teacher", "--school", "a"]).exit_code != 0  # no --teacher
    token = runner.invoke(main, ["tokens", "create", "--role", "deputy", "--school", "a",
                                 "--user", "aliyeva"], catch_exceptions=False)
    assert token.exit_code == 0, token.output
    bearer = {"Authorization": f"Bearer {token.stdout.strip()}"}
    form = client.get(f"/console/set-password?code={code}")
    assert client.post("/console/set-password", data={
        "code": code, "password": PASSWORD, "password_again": PASSWORD,
        "csrf_token": csrf_of(form.data)}).status_code == 302
    listed = runner.invoke(main, ["users", "list"], catch_exceptions=False).stdout
    assert "aliyeva" in listed and "Алиева Гульнара" in listed and code not in listed
    with gateway.engine.connect() as connection:
        stored = connection.execute(select(users_table)).one()
    assert code not in str(tuple(stored)) and PASSWORD not in str(tuple(stored))

    assert log_in(client, "aliyeva").status_code == 302
    assert client.get("/api/v1/findings", headers=bearer).status_code == 200
    disabled = runner.invoke(main, ["users", "disable", "aliyeva"], catch_exceptions=False)
    assert "1 API token(s) revoked" in disabled.stdout
    assert client.get("/console/").status_code == 302
    assert client.get("/api/v1/findings", headers=bearer).status_code == 401
    assert "disabled" in runner.invoke(main, ["users", "list"]).stdout


def test_with_the_database_down_the_console_says_so_and_the_api_takes_no_cookie(
    production_settings: Settings, migrated: Any
) -> None:
    from tests.integration.test_intake_unavailable import NO_DATABASE, bootstrapped

    gateway, client = bootstrapped(production_settings, migrated, database_url=NO_DATABASE)
    try:
        down = client.get("/console/login")
        assert down.status_code == 503
        assert "База данных шлюза недоступна" in down.data.decode()
        assert "Set-Cookie" not in client.get("/healthz").headers
    finally:
        gateway.close()
