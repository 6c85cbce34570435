"""Issue 14: nothing personal in the ordinary logs.

``kozomol serve`` (all four services in one process) takes a simulated
school's quarter, bad deliveries built from its real names (validation errors
inside lists, over-long names, the services' own types), and a deputy's and a
director's work through the API (findings, remarks sheets, reports, a printed
class journal, a backup, the access log). Then its whole log is scanned for
every student's, parent's and teacher's name and every parent's phone: none
may be there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kozomol.webhook_client import post_events
from shared.settings import new_webhook_secret
from tests.e2e.test_processes import Processes, cli
from tests.printer_support import simulated
from tests.support import free_port, kozomol_env, wait_for

pytestmark = pytest.mark.e2e


def personal_data(events: tuple[dict[str, Any], ...]) -> set[str]:
    """Every name and phone number the simulated school's events carry."""
    found: set[str] = set()
    for event in events:
        data = event["data"]
        if event["type"] in ("student.profile", "teacher.profile"):
            found.add(data["full_name"])
            for parent in data.get("parents") or []:
                found.add(parent["full_name"])
                if parent.get("phone"):
                    found.add(parent["phone"])
        elif event["type"] == "class.roster":
            found.update(student["full_name"] for student in data["students"])
    return found


def bad_deliveries(events: tuple[dict[str, Any], ...]) -> list[list[dict[str, Any]]]:
    """Deliveries the gateway refuses, each carrying real names."""
    roster = next(e for e in events if e["type"] == "class.roster")
    profile = next(e for e in events if e["type"] == "student.profile")
    name = profile["data"]["full_name"]
    return [
        [{**roster, "id": "bad-roster", "data": {**roster["data"], "students": [
            None, {"full_name": name}, *roster["data"]["students"][:3]]}}],
        [{**profile, "id": "bad-profile", "data": {**profile["data"],
                                                   "birth_date": f"{name} 2015",
                                                   "full_name": name * 20}}],
        [{**profile, "id": "bad-type", "type": "finding.opened"},
         {**profile, "id": "bad-parents", "data": {**profile["data"], "parents": name}}],
    ]


def test_a_full_run_writes_no_name_or_phone_into_the_log(tmp_path: Path) -> None:
    events = simulated(grades=(5,), terms=(1,))
    names = personal_data(events)
    assert len(names) > 30
    school_id = events[0]["school_id"]
    class_id = next(e["data"]["class_id"] for e in events if e["type"] == "class.roster")
    secret, port = new_webhook_secret(), free_port()
    env = kozomol_env(data_dir=str(tmp_path / "var"), http_port=str(port),
                      webhook_secrets=secret, sweep_interval="1", log_level="INFO",
                      # a replayed quarter settles first; judged seconds after it is in
                      settle_window="3")
    processes = Processes(tmp_path / "logs")
    serve = processes.start("serve", ["serve"], env)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=60) as client:
            def ready() -> Any:
                try:
                    return client.get(f"{base}/readyz").status_code == 200
                except httpx.TransportError:
                    return serve.poll() is not None

            wait_for(ready, timeout=60)
            url = f"{base}/webhooks/kundoluk"
            for start in range(0, len(events), 500):
                response = post_events(client, url, [secret], list(events[start:start + 500]))
                assert response.status_code == 202, response.text
            for delivery in bad_deliveries(events):
                assert post_events(client, url, [secret], delivery).status_code in (202, 422)

            tokens = {}
            for role in ("deputy", "director"):
                made = cli(env, "tokens", "create", "--role", role, "--school", school_id)
                assert made.returncode == 0, made.stderr
                tokens[role] = {"Authorization": f"Bearer {made.stdout.strip()}"}
            api = f"{base}/api/v1"
            deputy = tokens["deputy"]
            wait_for(lambda: client.get(f"{api}/findings", headers=deputy).json()["items"],
                     timeout=120)
            for fmt in ("json", "csv", "xlsx"):
                assert client.get(f"{api}/classes/{class_id}/remarks-sheet?format={fmt}",
                                  headers=deputy).status_code == 200
            report = client.post(f"{api}/reports?wait=30", headers=deputy, json={
                "kind": "quarter_analysis", "parameters": {"class_id": class_id}})
            assert report.status_code == 200, report.text
            assert client.get(f"{api}/reports/{report.json()['id']}?format=xlsx",
                              headers=deputy).status_code == 200
            job = client.post(f"{api}/print-jobs", headers=deputy, json={
                "kind": "class_journal", "parameters": {"class_id": class_id}})
            assert job.status_code == 202, job.text

            def finished() -> Any:
                found = client.get(f"{api}/print-jobs/{job.json()['id']}", headers=deputy).json()
                return found if found["status"] != "pending" else None

            printed = wait_for(finished, timeout=120)
            assert printed["status"] == "completed", printed
            assert client.get(f"{api}/print-jobs/{job.json()['id']}/pdf",
                              headers=deputy).status_code == 200
            backup = client.post(f"{api}/backups", headers=deputy, json={})
            assert backup.status_code == 202, backup.text
            wait_for(lambda: client.get(f"{api}/backups/{backup.json()['id']}",
                                        headers=deputy).json()["status"] == "verified",
                     timeout=120)
            quarantined = client.get(f"{api}/quarantine", headers=deputy).json()["items"]
            assert {"bad-roster", "bad-profile", "bad-type"} <= {
                item["event_id"] for item in quarantined}
            audit = client.get(f"{api}/audit?format=csv", headers=tokens["director"])
            assert audit.status_code == 200 and "выгрузка" in audit.text
    finally:
        codes = processes.stop_all()
    assert codes == [0], processes.log("serve")[-3000:]
    log = processes.log("serve")
    assert len(log.splitlines()) > 20  # it did log: ids, counts, types
    for line in log.splitlines():
        if line.startswith("{"):
            orjson.loads(line)
    leaked = sorted(name for name in names if name in log)
    assert not leaked, f"{len(leaked)} names or phones in the log, e.g. {leaked[:5]}"


def test_the_scan_would_see_a_leak(tmp_path: Path) -> None:
    """The same scan over a log that does hold a name finds it (the test can fail)."""
    events = simulated(grades=(5,), terms=(1,))
    name = sorted(personal_data(events))[0]
    log = subprocess.run([sys.executable, "-c", f"import logging; logging.warning({name!r})"],
                         capture_output=True, text=True, check=True).stderr
    assert [n for n in personal_data(events) if n in log] == [name]
