"""Server time of the web console's pages on PostgreSQL (issue 16: under 300 ms each).

Fills the gateway's findings read model of one school with as many findings as a
1,500-student year gives at its worst (``--findings``, 40,000 by default: 5 parallel
classes in grades 1-11, 80 teachers, every rule), then logs a deputy and a teacher
in through the console's forms and times each page through the WSGI app (Flask's
test client: server time, no network), printing the median and the slowest.

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
from sqlalchemy import insert

from services.gateway.adapters import users
from services.gateway.adapters.tables import findings_view
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
        for login, role, teacher in (("deputy", Role.DEPUTY, None),
                                     ("teacher", Role.TEACHER, "t7")):
            _, code = users.create_user(connection, login, login, role, school_id="s",
                                        teacher_id=teacher)
            users.set_password(connection, code, PASSWORD)
    with gateway.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE gateway_findings")
    app = create_app(gateway)
    print(f"{count:,} findings of one school on PostgreSQL; {repeat} requests per page\n")
    print(f"{'page':<56} {'median ms':>10} {'slowest ms':>11}")
    for login, paths in (("deputy", ["/console/", "/console/findings",
                                     f"/console/findings?rule={rule_ids[0]}&status=",
                                     "/console/findings?teacher_id=t3",
                                     "/console/teachers/t3"]),
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


if __name__ == "__main__":
    main()
