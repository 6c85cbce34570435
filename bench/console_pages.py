"""Server time of the web console's pages on PostgreSQL (issue 16: under 300 ms each).

Fills the gateway's read models of one school as a 1,500-student school year fills them
at its worst: findings (``--findings``, 40,000 by default: 5 parallel classes in grades
1-11 = 55 classes, 80 teachers, every rule), the year's 18 two-week checks (a row per
class, subject and teacher: 825 each), a quarter analysis per class and quarter (220),
program completion, 300 print jobs, 400 backups; then logs a deputy and a teacher in
through the console's forms and times each page through the WSGI app (Flask's test
client: server time, no network), printing the median and the slowest, beside a
yardstick measured in the same run (the login page and the static stylesheet: what a
request costs with no read at all).

    .venv/bin/python bench/console_pages.py
    .venv/bin/python bench/console_pages.py --findings 5000 --repeat 5   # a quick run
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from sqlalchemy import Connection, insert

from services.gateway.adapters import users
from services.gateway.adapters.tables import (
    backups_view,
    classes_view,
    findings_view,
    names_view,
    print_jobs_view,
    reports_view,
)
from services.gateway.app import create_app
from services.gateway.domain.access import Role
from services.gateway.runtime import bootstrap
from shared.db.migrations import upgrade
from shared.events.rules import CATALOG
from shared.settings import SERVICES, load_settings, new_webhook_secret

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    name = f"kozomol_bench_console_{secrets.token_hex(4)}"
    plain = ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with TemporaryDirectory() as scratch:
            run(url, Path(scratch), args.findings, args.repeat)
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, scratch: Path, count: int, repeat: int) -> None:
    for service in SERVICES:
        upgrade(url, service, SERVICES)
    settings = replace(load_settings(), database_url=url, data_dir=scratch,
                       webhook_secrets=(new_webhook_secret(),),
                       namespace=f"bench{secrets.token_hex(3)}")
    gateway = bootstrap(settings)
    rule_ids = list(CATALOG)
    start = date(2026, 9, 1)
    rows = [{"id": f"f{n}", "school_id": "s", "rule": rule_ids[n % len(rule_ids)],
             "clause": "4.1", "severity": "minor", "responsible": "teacher",
             "status": "open" if n % 3 else "fixed", "class_id": f"c{n % 55}",
             "teacher_id": f"t{n % 80}", "date": start + timedelta(days=n % 240),
             "detected_at": datetime.now(UTC), "message": f"замечание {n}", "evidence": {},
             "history": [], "stamp": datetime.now(UTC)} for n in range(count)]
    with gateway.engine.begin() as connection:
        for first in range(0, len(rows), 5000):
            connection.execute(insert(findings_view), rows[first:first + 5000])
        _school_year(connection)
        for login, role, teacher in (("deputy", Role.DEPUTY, None),
                                     ("teacher", Role.TEACHER, "t7")):
            _, code = users.create_user(connection, login, login, role, school_id="s",
                                        teacher_id=teacher)
            users.set_password(connection, code, PASSWORD)
    with gateway.engine.connect() as connection:
        for table in ("gateway_findings", "gateway_reports", "gateway_print_jobs",
                      "gateway_backups", "gateway_classes", "gateway_names"):
            connection.exec_driver_sql(f"ANALYZE {table}")
    app = create_app(gateway)
    print(f"{count:,} findings of one school on PostgreSQL; {repeat} requests per page\n")
    print(f"{'page':<56} {'median ms':>10} {'slowest ms':>11}")
    for login, paths in (("deputy", ["/console/static/console.css", "/console/login",
                                     "/console/", "/console/findings",
                                     f"/console/findings?rule={rule_ids[0]}&status=",
                                     "/console/findings?teacher_id=t3",
                                     "/console/findings/f7",
                                     "/console/teachers/t3", "/console/classes",
                                     "/console/classes/c3", "/console/reports",
                                     "/console/reports/fr17", "/console/reports/qa3-c3",
                                     "/console/printing", "/console/backups",
                                     "/console/settings", "/console/profile"]),
                         ("teacher", ["/console/teachers/t7", "/console/findings"])):
        client = app.test_client()
        form = client.get("/console/login").data.decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        assert client.post("/console/login", data={"login": login, "password": PASSWORD,
                                                    "csrf_token": csrf.group(1)}
                           ).status_code == 302
        for path in paths:
            timings = []
            for _ in range(repeat):
                began = time.perf_counter()
                answer = client.get(path)
                timings.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            print(f"{login + ' ' + path:<56} {statistics.median(timings):>10.1f} "
                  f"{max(timings):>11.1f}")
    gateway.close()


CLASSES = [f"c{n}" for n in range(55)]
SUBJECTS = [f"sub{n}" for n in range(15)]


def _fill_rate_rows() -> list[dict[str, object]]:
    return [{"class_id": class_id, "subject": f"Предмет {subject}", "teacher": f"Учитель {n}",
             "subject_id": subject, "teacher_id": f"t{n % 80}", "lessons_held": 10,
             "topics_on_time": 0.9, "homework_on_time": 0.8, "homework_ahead": 0.7,
             "attendance_on_time": 1.0, "marks_per_lesson": 2.5, "marks_on_time": 0.95,
             "open_findings": {"lesson.topic.late": 1}}
            for n, (class_id, subject) in enumerate(
                (c, s) for c in CLASSES for s in SUBJECTS)]


def _school_year(connection: Connection) -> None:
    """The read models beside the findings, as a school year fills them."""
    now = datetime.now(UTC)
    columns = [{"key": key, "title": key, "format": "percent" if key.endswith("time")
                else None} for key in _fill_rate_rows()[0]]
    reports = []
    first = date(2026, 9, 1)
    for index in range(18):
        start = first + timedelta(days=14 * index)
        parameters = {"date_from": start.isoformat(),
                      "date_to": (start + timedelta(days=13)).isoformat()}
        content = {"kind": "fill_rate", "title": "Заполнение", "parameters": parameters,
                   "summary": [["Период", "…"]], "tables": [
                       {"name": "rows", "title": "Классы", "columns": columns,
                        "rows": _fill_rate_rows()}]}
        reports.append({"id": f"fr{index}", "kind": "fill_rate", "parameters": parameters,
                        "content": content})
    for quarter in range(1, 5):
        for class_id in CLASSES:
            parameters = {"class_id": class_id, "term_id": f"q{quarter}"}
            tables = [{"name": "final_marks", "title": "Итоговые отметки", "columns": [
                {"key": "subject", "title": "Предмет", "format": None},
                {"key": "marks_set", "title": "Выставлено", "format": "integer"}],
                "rows": [{"subject": s, "marks_set": 27} for s in SUBJECTS]},
                {"name": "program", "title": "Программа", "columns": [
                    {"key": "class_id", "title": "Класс", "format": None},
                    {"key": "subject", "title": "Предмет", "format": None},
                    {"key": "behind", "title": "Отставание", "format": "integer"}],
                 "rows": [{"class_id": class_id, "subject": s, "behind": 1}
                          for s in SUBJECTS]}]
            reports.append({"id": f"qa{quarter}-{class_id}", "kind": "quarter_analysis",
                            "parameters": parameters, "content": {
                                "kind": "quarter_analysis", "title": "Анализ",
                                "parameters": parameters, "summary": [], "tables": tables}})
    connection.execute(insert(reports_view), [
        {**report, "school_id": "s", "status": "ready", "scope": None,
         "requested_by": "schedule", "requested_at": now, "generated_at": now}
        for report in reports])
    connection.execute(insert(classes_view), [
        {"school_id": "s", "class_id": class_id, "homeroom_teacher_id": f"t{n}", "stamp": "1"}
        for n, class_id in enumerate(CLASSES)])
    connection.execute(insert(names_view), [
        *({"school_id": "s", "kind": "class", "entity_id": c, "name": f"{c} «А»",
           "stamp": "1"} for c in CLASSES),
        *({"school_id": "s", "kind": "teacher", "entity_id": f"t{n}",
           "name": f"Учитель {n}", "stamp": "1"} for n in range(80))])
    connection.execute(insert(print_jobs_view), [
        {"id": f"job{n}", "school_id": "s", "kind": "class_journal", "status": "completed",
         "parameters": {"class_id": CLASSES[n % 55]}, "requested_by": "deputy:x",
         "requested_at": now - timedelta(hours=n), "finished_at": now,
         "file_key": f"pdf/s/{n}.pdf", "pages": 40} for n in range(300)])
    connection.execute(insert(backups_view), [
        {"id": f"bk{n}", "scope": "s", "kind": "daily", "status": "verified",
         "requested_at": now - timedelta(days=n), "created_at": now - timedelta(days=n),
         "verified_at": now - timedelta(days=n)} for n in range(400)])


if __name__ == "__main__":
    main()
