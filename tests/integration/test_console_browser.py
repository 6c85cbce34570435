"""The console in a real headless Chromium (Debian's, through Playwright): issue 16.

The gateway serves on a free port (its WSGI app in a thread); a deputy and a teacher
click through the pages; screenshots are kept in var/test-artifacts/console/.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from kombu import Connection
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from services.gateway.adapters import users
from services.gateway.adapters.tokens import create_token
from services.gateway.app import create_app
from services.gateway.domain.access import Role
from services.gateway.handlers.findings import apply_finding_events
from shared.messaging.topology import Topology
from shared.settings import Settings
from tests.integration.test_console import PASSWORD, _finding, account, seed
from tests.support import BROKER_URL, drain_queue, free_port

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "console"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def served(production_settings: Settings, gateway_client: Any) -> Iterator[tuple[Any, str]]:
    gateway, _ = gateway_client(production_settings)
    server = make_server("127.0.0.1", free_port(), create_app(gateway), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


def shot(page: Page, name: str) -> None:
    """Keep a screenshot, and check the page with axe-core: no serious violations."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in violations
               if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: {serious}"


def log_in(page: Page, base: str, login: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()


def test_a_deputy_works_through_the_console(
    served: tuple[Any, str], browser: Browser, production_settings: Settings
) -> None:
    gateway, base = served
    seed(gateway)
    account(gateway, "deputy", Role.DEPUTY)
    with gateway.engine.begin() as connection:
        api_token = create_token(connection, Role.DEPUTY, "a").token
    with Connection(BROKER_URL, connect_timeout=5) as broker:
        Topology(production_settings.namespace, "quorum",
                 production_settings.delivery_limit).declare(broker)
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    shot_login = page.goto(f"{base}/console/login")
    assert shot_login is not None and shot_login.ok
    shot(page, "login")
    log_in(page, base, "deputy")
    page.wait_for_url(f"{base}/console/")
    shot(page, "dashboard")

    api = page.request.get(f"{base}/api/v1/findings?status=open",
                           headers={"Authorization": f"Bearer {api_token}"}).json()["items"]
    by_rule: dict[str, int] = {}
    for item in api:
        by_rule[item["rule"]] = by_rule.get(item["rule"], 0) + 1
    shown = {row.get_attribute("data-rule"): int(row.locator("td.num").inner_text())
             for row in page.locator("tr[data-rule]").all()}
    assert shown == by_rule
    assert page.locator("#open-total").inner_text() == str(len(api))
    # Fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name="Замечания").click()
    page.wait_for_url(re.compile(r".*/console/findings.*"))
    shot(page, "findings")
    card = page.locator("#finding-f1")
    card.get_by_label("Обоснование").fill("урок перенесён приказом директора")
    card.get_by_role("button", name="Снять").click()
    page.wait_for_url(re.compile(r".*/console/findings.*"))
    assert "отправлено «снято»" in page.locator(".flash").inner_text()
    commands = drain_queue(production_settings.namespace, "checker", idle_seconds=0.5)
    assert len(commands) == 1
    with gateway.engine.begin() as connection:  # the checker's answer, as it announces it
        apply_finding_events(connection, [_finding("f1", "a", "t1", status="waived")])
    page.reload()
    assert page.locator("#finding-f1").count() == 0
    assert page.locator("#finding-f2").count() == 1
    shot(page, "findings-after-waive")

    page.get_by_role("button", name="Выйти").click()
    page.wait_for_url(f"{base}/console/login")
    page.goto(f"{base}/console/")
    assert page.url == f"{base}/console/login"
    assert problems == []  # no CSP violation or script error on any page
    context.close()


def test_a_teacher_cannot_open_another_teachers_page(
    served: tuple[Any, str], browser: Browser
) -> None:
    gateway, base = served
    seed(gateway)
    account(gateway, "teacher1", Role.TEACHER, teacher="t1")
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base, "teacher1")
    page.wait_for_url(f"{base}/console/teachers/t1")
    shot(page, "teacher-start")
    assert page.locator("#finding-f1").count() == 1
    answer = page.goto(f"{base}/console/teachers/t2")
    assert answer is not None and answer.status == 403
    assert page.get_by_role("heading", name="Нет доступа").is_visible()
    shot(page, "teacher-refused")
    context.close()


def test_a_form_without_its_csrf_token_is_refused(
    served: tuple[Any, str], browser: Browser
) -> None:
    gateway, base = served
    seed(gateway)
    account(gateway, "deputy", Role.DEPUTY)
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base, "deputy")
    page.wait_for_url(f"{base}/console/")
    page.goto(f"{base}/console/findings")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]')"
                  ".forEach(input => input.remove())")
    card = page.locator("#finding-f1")
    with page.expect_navigation() as navigation:
        card.get_by_role("button", name="Исправлено").click()
    response = navigation.value
    assert response is not None and response.status == 400
    assert "CSRF" in page.content()
    shot(page, "csrf-refused")
    context.close()


def test_a_disabled_users_live_session_stops(served: tuple[Any, str], browser: Browser) -> None:
    gateway, base = served
    user_id = account(gateway, "deputy", Role.DEPUTY)
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base, "deputy")
    page.wait_for_url(f"{base}/console/")
    with gateway.engine.begin() as connection:
        users.disable(connection, user_id)
    page.reload()
    assert page.url == f"{base}/console/login"
    context.close()


def seed_pages(gateway: Any) -> None:
    """The school of test_console_pages: classes, three fortnights, a calendar's zone."""
    from sqlalchemy import insert

    from services.gateway.adapters.tables import classes_view
    from services.gateway.handlers.reports import apply_report_events
    from tests.integration.test_console_pages import fortnight

    seed(gateway)
    with gateway.engine.begin() as connection:
        connection.execute(insert(classes_view), [
            {"school_id": "a", "class_id": "5a", "homeroom_teacher_id": "t1", "stamp": "1"},
            {"school_id": "a", "class_id": "6b", "homeroom_teacher_id": "t2", "stamp": "1"}])
        apply_report_events(connection, [fortnight(0, (0.5, 0.25, 1.0)),
                                         fortnight(1, (0.75, 0.5, 1.0)),
                                         fortnight(2, (1.0, 0.75, 1.0))])


PAGES = {"dashboard-trend": "/console/", "classes": "/console/classes",
         "class": "/console/classes/5a", "finding": "/console/findings/f1",
         "reports": "/console/reports", "report": "/console/reports/fr2",
         "printing": "/console/printing", "backups": "/console/backups",
         "settings": "/console/settings", "profile": "/console/profile"}


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_passes_axe_and_fits_the_screen(
    served: tuple[Any, str], browser: Browser, width: int
) -> None:
    gateway, base = served
    seed_pages(gateway)
    account(gateway, "director", Role.DIRECTOR)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    log_in(page, base, "director")
    page.wait_for_url(f"{base}/console/")
    for name, path in PAGES.items():
        answer = page.goto(f"{base}{path}")
        assert answer is not None and answer.status == 200, path
        shot(page, f"{name}-{width}")
        # Nothing wider than the screen: wide tables scroll inside their own region.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    page.goto(f"{base}/console/")
    assert page.locator("svg circle.trend-dot").count() == 3
    page.get_by_text("Таблица").click()  # the chart's figures as a table, for everyone
    assert page.locator("#trend-table tbody tr").count() == 3
    # Kyrgyz, chosen on the profile page.
    page.goto(f"{base}/console/profile")
    page.get_by_label("Язык консоли").select_option("ky")
    page.get_by_role("button", name="Сохранить").click()
    page.goto(f"{base}/console/")
    assert page.get_by_role("link", name="Эскертүүлөр").is_visible()
    shot(page, f"dashboard-ky-{width}")
    assert problems == []
    context.close()


def test_a_class_teacher_cannot_open_a_class_not_theirs(
    served: tuple[Any, str], browser: Browser
) -> None:
    gateway, base = served
    seed_pages(gateway)
    account(gateway, "ct1", Role.CLASS_TEACHER, teacher="t1")
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base, "ct1")
    page.wait_for_url(f"{base}/console/teachers/t1")
    page.get_by_role("link", name="Классы").click()
    page.wait_for_url(f"{base}/console/classes")
    assert page.locator("tr[data-class]").count() == 1
    page.get_by_role("link", name="5 «А»").click()
    page.wait_for_url(f"{base}/console/classes/5a")
    shot(page, "class-teacher-own-class")
    answer = page.goto(f"{base}/console/classes/6b")
    assert answer is not None and answer.status == 403
    assert page.get_by_role("heading", name="Нет доступа").is_visible()
    context.close()
