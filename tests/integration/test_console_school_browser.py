"""The issue's scenario in a real headless Chromium over real services (issue 16).

A simulated school's quarter goes through RabbitMQ into the real checker and printer on
PostgreSQL; their events come back into the gateway's read models. A deputy director
then works in the console: the dashboard's figures equal the API's, they open a teacher,
waive a finding with a reason (the checker applies it) and see it leave the open list,
ask for a quarter analysis and download its XLSX, print a class journal and download a
PDF that opens, and log out. Screenshots are kept in var/test-artifacts/console/.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at
from services.checker.handlers import sweep
from services.checker.main import bootstrap as checker_service
from services.checker.reporting import make_scheduled
from services.gateway.adapters.tokens import create_token
from services.gateway.consumer import bootstrap_read_model
from services.gateway.domain.access import Role
from services.printer.main import bootstrap as printer_service
from shared.messaging.topology import PRINTER_COPIES
from shared.settings import Settings
from tests.integration.test_checker_rabbitmq import processed as checker_processed
from tests.integration.test_checker_rabbitmq import publish
from tests.integration.test_console import account
from tests.integration.test_console_browser import (  # noqa: F401 (its fixtures)
    browser,
    log_in,
    served,
    shot,
)
from tests.integration.test_printer_rabbitmq import processed as printer_processed
from tests.printer_support import school_of, simulated
from tests.support import wait_for

pytestmark = pytest.mark.integration
SPEC = SimulationSpec(seed=11, parallels=1, grades=(5,), terms=(1,),
                      rates=FaultRates.default())


def api_pages(page: Page, base: str, path: str, token: str,
              limit: int = 500) -> list[dict[str, Any]]:
    """Every item of an API listing, cursor after cursor."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        answer = page.request.get(f"{base}{path}&limit={limit}{cursor}",
                                  headers={"Authorization": f"Bearer {token}"}).json()
        items += answer["items"]
        if not answer.get("next_cursor"):
            return items
        cursor = f"&cursor={answer['next_cursor']}"


@pytest.fixture
def school(production_settings: Settings, migrated: Any,
           served: Any) -> Iterator[Any]:  # noqa: F811 (the fixture)
    """The school's quarter through the real checker and printer; the console served."""
    gateway, base = served
    settings = replace(migrated(production_settings), outbox_relay_interval=0.2,
                       sweep_interval=3600)
    now = judged_at(SPEC)
    checker = checker_service(settings, clock=lambda: now)
    printer, read_model = printer_service(settings), bootstrap_read_model(settings)
    events = list(simulated(SPEC.grades, SPEC.terms, SPEC.seed))
    for service in (checker, printer, read_model):
        service.start()
    try:
        assert all(s.consumer.ready.wait(15) for s in (checker, printer, read_model))
        publish(settings, events)
        copies = len({e["id"] for e in events if e["type"] in PRINTER_COPIES})
        wait_for(lambda: checker_processed(checker) >= len(events), timeout=180)
        wait_for(lambda: printer_processed(printer.engine) >= copies, timeout=180)
        sweep(checker.engine, lambda: now)
        make_scheduled(checker.engine, lambda: now)
        yield gateway, base, events
    finally:
        for service in (read_model, printer, checker):
            service.stop()


def test_a_deputy_works_through_a_real_schools_quarter(
    school: Any, browser: Browser  # noqa: F811 (the fixture)
) -> None:
    gateway, base, events = school
    school_id = school_of(events)
    calendar = next(e["data"] for e in events if e["type"] == "school.calendar")
    q1 = next(t["id"] for t in calendar["terms"] if t["kind"] == "quarter")
    roster = next(e["data"] for e in events if e["type"] == "class.roster")
    account(gateway, "deputy", Role.DEPUTY, school=school_id)
    with gateway.engine.begin() as connection:
        token = create_token(connection, Role.DEPUTY, school_id).token
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)

    # The findings the checker announced have reached the read model.
    wait_for(lambda: len(api_pages(page, base, "/api/v1/findings?status=open", token)) > 0,
             timeout=60)
    # The checker made the latest fortnight's check by itself; the deputy asked the API
    # for the earlier ones of the quarter (so the year's trend has several points).
    scheduled = [item for item in api_pages(page, base, "/api/v1/reports?kind=fill_rate",
                                            token, limit=200) if item["status"] == "ready"]
    assert scheduled, "the checker made no two-week check"
    latest = date.fromisoformat(scheduled[0]["parameters"]["date_from"])
    for weeks in (6, 4, 2):
        start = latest - timedelta(weeks=weeks)
        asked = page.request.post(f"{base}/api/v1/reports?wait=25", headers={
            "Authorization": f"Bearer {token}"}, data={"kind": "fill_rate", "parameters": {
                "date_from": start.isoformat(),
                "date_to": (start + timedelta(days=13)).isoformat()}})
        assert asked.status == 200, asked.text()
    fortnights = [item for item in api_pages(page, base, "/api/v1/reports?kind=fill_rate",
                                             token, limit=200) if item["status"] == "ready"]
    log_in(page, base, "deputy")
    page.wait_for_url(f"{base}/console/")

    # The dashboard's figures are the API's.
    api_open = api_pages(page, base, "/api/v1/findings?status=open", token)
    by_rule: dict[str, int] = {}
    for item in api_open:
        by_rule[item["rule"]] = by_rule.get(item["rule"], 0) + 1
    shown = {row.get_attribute("data-rule"): int(row.locator("td.num").inner_text())
             for row in page.locator("tr[data-rule]").all()}
    assert shown == by_rule
    assert page.locator("#open-total").inner_text() == str(len(api_open))
    # This fortnight's fill rate and the last one's, as the API's reports give them:
    # topics, homework and attendance entered on time of 3 per held lesson.
    rates = []
    for item in sorted(fortnights, key=lambda item: item["parameters"]["date_from"]):
        rows = page.request.get(f"{base}/api/v1/reports/{item['id']}", headers={
            "Authorization": f"Bearer {token}"}).json()["report"]["tables"][0]["rows"]
        held = sum(row["lessons_held"] for row in rows)
        on_time = sum(round((row[key] or 0) * row["lessons_held"]) for row in rows
                      for key in ("topics_on_time", "homework_on_time", "attendance_on_time"))
        rates.append(f"{on_time / (3 * held) * 100:.1f} %".replace(".", ","))
    assert len(rates) == 4
    assert page.locator("#fill-current").inner_text() == rates[-1]
    assert page.locator("#fill-previous").inner_text() == rates[-2]
    assert page.locator("svg circle.trend-dot").count() == 4
    assert page.locator("#trend-table tbody td.num:nth-child(3)").all_text_contents() == rates
    shot(page, "school-dashboard")

    # A teacher furthest behind; waive one of their open findings with a reason.
    first = page.locator("ol.ranked li[data-teacher]").first
    teacher_id = first.get_attribute("data-teacher")
    first.get_by_role("link").click()
    page.wait_for_url(re.compile(rf".*/console/teachers/{teacher_id}.*"))
    shot(page, "school-teacher")
    card = page.locator("li.finding:has(form.decide)").first
    finding_id = (card.get_attribute("id") or "").removeprefix("finding-")
    card.get_by_label("Обоснование").fill("урок перенесён приказом директора")
    card.get_by_role("button", name="Снять").click()
    page.wait_for_url(re.compile(rf".*/console/teachers/{teacher_id}.*"))
    assert "отправлено «снято»" in page.locator(".flash").inner_text()

    def gone() -> bool:
        page.reload()
        return page.locator(f"#finding-{finding_id}").count() == 0

    wait_for(gone, timeout=30)  # the checker applied it; the read model took its event
    waived = page.request.get(f"{base}/api/v1/findings/{finding_id}",
                              headers={"Authorization": f"Bearer {token}"}).json()
    assert waived["status"] == "waived"

    # A quarter analysis of a class, followed while it is made, downloaded as XLSX.
    page.get_by_role("link", name="Отчёты").click()
    page.wait_for_url(f"{base}/console/reports")
    shot(page, "school-reports")
    form = page.locator("#kind-quarter_analysis")
    form.get_by_label("Класс").select_option(roster["class_id"])
    form.get_by_label("Период (например, q1)").fill(q1)
    form.get_by_role("button", name="Сформировать").click()
    page.wait_for_url(re.compile(r".*/console/reports/rep-.*"))
    page.locator("#download-xlsx").wait_for(timeout=30_000)  # the page refreshes itself
    shot(page, "school-report")
    with page.expect_download() as downloading:
        page.locator("#download-xlsx").click()
    assert downloading.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(downloading.value.path()).read_bytes()))
    assert any("Итоговые отметки" in name for name in workbook.sheetnames)

    # A class journal of the quarter, printed and downloaded as a PDF that opens.
    page.get_by_role("link", name="Печать").click()
    page.wait_for_url(f"{base}/console/printing")
    journal = page.locator("#print-class_journal")
    journal.get_by_label("Класс", exact=True).select_option(roster["class_id"])
    journal.get_by_label("Период (например, q1)").fill(q1)
    journal.get_by_role("button", name="Напечатать").click()
    page.wait_for_url(f"{base}/console/printing")
    # (the scheduled reports' PDFs are in the list too: the journal's row is the newest one)
    link = page.locator("tr[data-job]:has-text('Классный журнал') a.download").first
    link.wait_for(timeout=90_000)  # the list reloads itself once the job is printed
    shot(page, "school-printing")
    with page.expect_download() as downloading:
        link.click()
    body = Path(downloading.value.path()).read_bytes()
    assert body.startswith(b"%PDF")
    with pikepdf.open(io.BytesIO(body)) as pdf:
        assert len(pdf.pages) > 1
    assert downloading.value.suggested_filename.endswith("_журнал_2026-2027_I-четверть.pdf")

    page.get_by_role("button", name="Выйти").click()
    page.wait_for_url(f"{base}/console/login")
    assert page.goto(f"{base}/console/") is not None
    assert page.url == f"{base}/console/login"
    assert problems == []
    context.close()
