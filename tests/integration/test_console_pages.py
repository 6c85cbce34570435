"""The console's other pages (issue 16) on PostgreSQL and RabbitMQ through Flask's client:
the school's time zone, the fill-rate trend equal to the API's reports, classes, reports,
printing, backups, settings, and Kyrgyz for a user who chose it."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from kombu import Connection
from openpyxl import load_workbook
from sqlalchemy import insert

from services.gateway.adapters import users
from services.gateway.adapters.tables import classes_view
from services.gateway.adapters.tokens import create_token
from services.gateway.domain.access import Role
from services.gateway.handlers.reports import apply_report_events
from services.gateway.handlers.school_zones import apply_zone_events
from shared.events.envelope import Event
from shared.messaging.topology import Topology
from shared.settings import Settings
from tests.integration.test_console import account, csrf_of, log_in, seed
from tests.support import BROKER_URL, drain_queue

FIRST_DAY = date(2026, 9, 1)
FILL_COLUMNS = [{"key": "class_id", "title": "Класс", "format": None},
                {"key": "lessons_held", "title": "Проведено уроков", "format": "integer"},
                {"key": "topics_on_time", "title": "Темы в срок", "format": "percent"},
                {"key": "homework_on_time", "title": "Д/з в срок", "format": "percent"},
                {"key": "attendance_on_time", "title": "Посещаемость в срок",
                 "format": "percent"}]


def ready(report_id: str, kind: str, parameters: dict[str, Any], tables: list[Any], *,
          school: str = "a", generated: datetime | None = None) -> Event:
    """A report.ready event as the checker announces it (a scheduled report)."""
    generated = generated or datetime(2026, 10, 1, 6, tzinfo=UTC)
    data = {"report_id": report_id, "kind": kind, "title": f"Отчёт {kind}",
            "parameters": parameters, "summary": [["Период", "…"]], "tables": tables,
            "requested_by": "schedule", "generated_at": generated.isoformat(), "scope": None}
    return Event(f"e-{report_id}", "report.ready", school, generated, data, "checker",
                 "internal")


def fortnight(index: int, shares: tuple[float, float, float], lessons: int = 40) -> Event:
    start = FIRST_DAY + timedelta(days=14 * index)
    rows = [{"class_id": "5a", "lessons_held": lessons, "topics_on_time": shares[0],
             "homework_on_time": shares[1], "attendance_on_time": shares[2]},
            {"class_id": "5b", "lessons_held": 0, "topics_on_time": None,
             "homework_on_time": None, "attendance_on_time": None}]
    return ready(f"fr{index}", "fill_rate", {"date_from": start.isoformat(),
                                             "date_to": (start + timedelta(days=13)).isoformat()},
                 [{"name": "rows", "title": "Классы", "columns": FILL_COLUMNS, "rows": rows}],
                 generated=datetime.combine(start + timedelta(days=14), datetime.min.time(),
                                            UTC))


@pytest.fixture
def school(production_settings: Settings, gateway_client: Any) -> tuple[Any, Any]:
    gateway, client = gateway_client(production_settings)
    seed(gateway)
    with gateway.engine.begin() as connection:
        connection.execute(insert(classes_view), [
            {"school_id": "a", "class_id": "5a", "homeroom_teacher_id": "t1", "stamp": "1"},
            {"school_id": "a", "class_id": "6b", "homeroom_teacher_id": "t2", "stamp": "1"}])
        apply_zone_events(connection, [Event("cal", "school.calendar", "a",
                                             datetime(2026, 8, 20, tzinfo=UTC),
                                             {"timezone": "Asia/Tashkent"}, "kundoluk",
                                             "contract")])
        apply_report_events(connection, [fortnight(0, (0.5, 0.25, 1.0)),
                                         fortnight(1, (0.75, 0.5, 1.0)),
                                         fortnight(2, (1.0, 0.75, 1.0))])
    with Connection(BROKER_URL, connect_timeout=5) as broker:
        Topology(production_settings.namespace, "quorum",
                 production_settings.delivery_limit).declare(broker)
    return gateway, client


def commands(settings: Settings, service: str) -> list[dict[str, Any]]:
    return [orjson.loads(m.body) for m in
            drain_queue(settings.namespace, service, idle_seconds=0.5)]


def test_the_dashboard_shows_the_fortnights_as_the_api_reports_them_in_school_time(
    school: tuple[Any, Any]
) -> None:
    gateway, client = school
    account(gateway, "deputy", Role.DEPUTY)
    with gateway.engine.begin() as connection:
        token = create_token(connection, Role.DEPUTY, "a").token
    log_in(client, "deputy")
    text = client.get("/console/").data.decode()
    assert "<script" not in text and "style=" not in text
    # The API's figures: (topics + homework + attendance on time) / (3 x lessons held).
    listed = client.get("/api/v1/reports?kind=fill_rate",
                        headers={"Authorization": f"Bearer {token}"}).json["items"]
    rates = []
    for item in sorted(listed, key=lambda item: item["parameters"]["date_from"]):
        report = client.get(f"/api/v1/reports/{item['id']}",
                            headers={"Authorization": f"Bearer {token}"}).json["report"]
        rows = report["tables"][0]["rows"]
        held = sum(row["lessons_held"] for row in rows)
        on_time = sum((row[key] or 0) * row["lessons_held"] for row in rows
                      for key in ("topics_on_time", "homework_on_time", "attendance_on_time"))
        rates.append(on_time / (3 * held))
    assert [round(rate, 4) for rate in rates] == [0.5833, 0.75, 0.9167]
    assert re.search(r'id="fill-current">91,7 %<', text)
    assert re.search(r'id="fill-previous">75,0 %<', text)
    assert re.search(r'id="fill-change" class="ok">\+16,7 п. п.<', text)  # points
    # the chart: a dot per fortnight, and the same figures in its table
    assert text.count('class="trend-dot"') == 3
    table = text[text.index('id="trend-table"'):]
    assert re.findall(r'<td class="num">(\d+,\d %)</td>', table) == \
        ["58,3 %", "75,0 %", "91,7 %"]
    # 02:09 UTC is 07:09 in Tashkent, the zone of the school's calendar
    assert "Проверена 30.11.2026 07:09." in text and "(Asia/Tashkent)" in text


def test_every_page_answers_for_a_deputy(school: tuple[Any, Any]) -> None:
    gateway, client = school
    account(gateway, "deputy", Role.DEPUTY)
    log_in(client, "deputy")
    for path in ("/console/", "/console/classes", "/console/classes/5a", "/console/findings",
                 "/console/findings/f1", "/console/teachers/t1", "/console/reports",
                 "/console/reports/fr1", "/console/printing", "/console/backups",
                 "/console/settings", "/console/profile"):
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.data.decode()
        assert "<script" not in text and "style=" not in text, path
        assert 'name="csrf_token"' in text, path  # every page has at least the logout form


def test_a_class_page_is_only_for_its_homeroom_teacher_and_the_heads(
    school: tuple[Any, Any]
) -> None:
    gateway, client = school
    account(gateway, "ct1", Role.CLASS_TEACHER, teacher="t1")
    log_in(client, "ct1")
    classes = client.get("/console/classes").data.decode()
    assert 'data-class="5a"' in classes and 'data-class="6b"' not in classes
    own = client.get("/console/classes/5a")
    assert own.status_code == 200 and "finding-f1" in own.data.decode()
    assert client.get("/console/classes/6b").status_code == 403
    assert client.get("/console/classes/nope").status_code == 403


def test_a_report_is_asked_for_followed_and_downloaded(
    school: tuple[Any, Any], production_settings: Settings
) -> None:
    gateway, client = school
    account(gateway, "deputy", Role.DEPUTY)
    log_in(client, "deputy")
    form = client.get("/console/reports")
    refused = client.post("/console/reports", data={
        "kind": "quarter_analysis", "csrf_token": csrf_of(form.data)})
    assert refused.status_code == 303  # class_id is required, as the API says
    assert "заполнен неверно" in client.get("/console/reports").data.decode()
    assert commands(production_settings, "checker") == []

    sent = client.post("/console/reports", data={
        "kind": "quarter_analysis", "class_id": "5a", "term_id": "q1",
        "csrf_token": csrf_of(form.data)})
    assert sent.status_code == 303
    report_id = sent.headers["Location"].rsplit("/", 1)[-1]
    [command] = commands(production_settings, "checker")
    assert command["type"] == "report.request" and command["data"]["report_id"] == report_id
    assert command["data"]["parameters"] == {"class_id": "5a", "term_id": "q1"}
    waiting = client.get(f"/console/reports/{report_id}").data.decode()
    # console.js asks the state while it is made and reloads when it changes (no inline
    # script, and no meta refresh: axe-core counts that as a critical violation)
    assert f'data-poll="/console/reports/{report_id}/state"' in waiting
    assert 'data-poll-state="pending"' in waiting and "готовится" in waiting
    assert client.get(f"/console/reports/{report_id}/state").json == {"state": "pending"}

    finals = {"name": "final_marks", "title": "Итоговые отметки за период", "columns": [
        {"key": "subject", "title": "Предмет", "format": None},
        {"key": "marks_set", "title": "Выставлено", "format": "integer"}],
        "rows": [{"subject": "Математика", "marks_set": 25}]}
    with gateway.engine.begin() as connection:
        apply_report_events(connection, [ready(report_id, "quarter_analysis",
                                               {"class_id": "5a", "term_id": "q1"}, [finals])])
    assert client.get(f"/console/reports/{report_id}/state").json == {"state": "ready"}
    made = client.get(f"/console/reports/{report_id}").data.decode()
    assert "data-poll" not in made and "<script" not in made and "Математика" in made
    download = client.get(f"/console/reports/{report_id}/download?format=xlsx")
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert sheet is not None
    assert ["Математика", 25] in [list(row) for row in sheet.iter_rows(values_only=True)]
    csv = client.get(f"/console/reports/{report_id}/download?format=csv&table=final_marks")
    assert "Математика" in csv.data.decode("utf-8-sig")
    assert "Математика" in client.get("/console/classes/5a").data.decode()  # final marks


def test_printing_backups_and_parameters_send_the_apis_commands(
    school: tuple[Any, Any], production_settings: Settings
) -> None:
    gateway, client = school
    account(gateway, "deputy", Role.DEPUTY)
    log_in(client, "deputy")
    page = client.get("/console/printing")
    csrf = csrf_of(page.data)
    assert client.post("/console/printing", data={
        "kind": "class_journal", "class_id": "5a", "term_id": "q1", "csrf_token": csrf}
    ).status_code == 303
    [printing] = commands(production_settings, "printer")
    assert printing["type"] == "print.request"
    assert (printing["data"]["kind"], printing["data"]["parameters"]) == \
        ("class_journal", {"class_id": "5a", "term_id": "q1"})
    listed = client.get("/console/printing").data.decode()
    assert f'data-job="{printing["data"]["job_id"]}"' in listed and "печатается" in listed
    assert 'data-poll="/console/printing/state"' in listed
    assert re.search(r'<script src="/console/static/console.js" defer></script>', listed)
    assert client.get("/console/printing/state").json == \
        {"state": f"{printing['data']['job_id']}:0"}

    assert client.post("/console/backups", data={"csrf_token": csrf}).status_code == 303
    [backup] = commands(production_settings, "backup")
    assert backup["type"] == "backup.create" and backup["data"]["scope"] == "a"

    out_of_bounds = client.post("/console/settings/parameters", data={
        "written_mark_days": "400", "csrf_token": csrf})
    assert out_of_bounds.status_code == 303
    assert "не изменены" in client.get("/console/settings").data.decode()
    assert commands(production_settings, "checker") == []
    assert client.post("/console/settings/parameters", data={
        "written_mark_days": "5", "oral_mark_days": "0", "csrf_token": csrf}
    ).status_code == 303
    [change] = commands(production_settings, "checker")
    assert change["type"] == "rules.parameters.update"
    assert change["data"]["parameters"] == {"written_mark_days": 5}  # only what changed


def test_a_director_makes_and_disables_an_account(school: tuple[Any, Any]) -> None:
    gateway, client = school
    account(gateway, "director", Role.DIRECTOR)
    log_in(client, "director")
    csrf = csrf_of(client.get("/console/settings").data)
    made = client.post("/console/settings/accounts", data={
        "login": "usenov", "full_name": "Усенов Бакыт", "role": "teacher", "teacher_id": "t2",
        "language": "ky", "csrf_token": csrf})
    assert made.status_code == 200
    link = re.search(r'id="setup-link">([^<]+)<', made.data.decode())
    assert link and "/console/set-password?code=" in link.group(1)
    assert "code=" not in (made.headers.get("Set-Cookie") or "")
    with gateway.engine.begin() as connection:
        created = users.find_user(connection, "usenov")
        assert created is not None and created.language == "ky" and created.school_id == "a"
    assert client.post("/console/settings/accounts", data={
        "login": "boss", "full_name": "Админ", "role": "admin", "csrf_token": csrf}
    ).status_code == 403  # a director issues no admin accounts
    assert client.post(f"/console/settings/accounts/{created.id}/disable",
                       data={"csrf_token": csrf}).status_code == 303
    with gateway.engine.begin() as connection:
        assert users.check_password(connection, "usenov", "x" * 12) is None
    assert "отключена" in client.get("/console/settings").data.decode()


def test_a_user_who_chose_kyrgyz_reads_the_console_in_kyrgyz(school: tuple[Any, Any]) -> None:
    gateway, client = school
    account(gateway, "deputy", Role.DEPUTY)
    log_in(client, "deputy")
    russian = client.get("/console/").data.decode()
    assert '<html lang="ru">' in russian and "Замечания" in russian
    profile = client.get("/console/profile")
    assert client.post("/console/profile", data={
        "language": "ky", "csrf_token": csrf_of(profile.data)}).status_code == 303
    kyrgyz = client.get("/console/").data.decode()
    assert '<html lang="ky">' in kyrgyz
    assert "Эскертүүлөр" in kyrgyz and "Чыгуу" in kyrgyz and "Замечания" not in kyrgyz


def test_kozomol_users_sets_the_language(production_settings: Settings,
                                         gateway_client: Any) -> None:
    from click.testing import CliRunner

    from kozomol.cli import main

    gateway, _ = gateway_client(production_settings)
    runner = CliRunner(env={"KOZOMOL_DATABASE_URL": production_settings.database_url,
                            "KOZOMOL_BROKER_URL": production_settings.broker_url,
                            "KOZOMOL_DATA_DIR": str(production_settings.data_dir),
                            "KOZOMOL_WEBHOOK_SECRETS": production_settings.webhook_secrets[0]})
    made = runner.invoke(main, ["users", "create", "--login", "usenov", "--name", "Усенов",
                                "--role", "deputy", "--school", "a", "--language", "ky"],
                         catch_exceptions=False)
    assert made.exit_code == 0, made.output
    with gateway.engine.connect() as connection:
        found = users.find_user(connection, "usenov")
        assert found is not None and found.language == "ky"
    assert runner.invoke(main, ["users", "language", "usenov", "ru"],
                         catch_exceptions=False).exit_code == 0
    with gateway.engine.connect() as connection:
        found = users.find_user(connection, "usenov")
        assert found is not None and found.language == "ru"
    assert runner.invoke(main, ["users", "language", "usenov", "en"]).exit_code != 0
