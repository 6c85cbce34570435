"""The README's first command, on a small school: `kozomol demo`."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.support import free_port, kozomol_env

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_a_small_school_end_to_end(tmp_path: Path) -> None:
    # A relative --output, from a working directory of its own (as a new user types it).
    output = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "kozomol", "demo", "--output", "results", "--parallels", "1",
         "--grades", "4-6", "--seed", "3"],
        env=kozomol_env(), cwd=tmp_path, capture_output=True, text=True, timeout=600,
        check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    assert summary["sent"] == summary["accepted"] + summary["duplicates"]
    assert summary["journal_kundoluk_events"] == summary["accepted"]  # every event, once
    # The printed summary says the same in words.
    assert f"sent as signed webhooks          {summary['sent']:>9,}" in done.stdout
    assert "recognised by their event id and not counted twice" in done.stdout
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()
             if line.strip()}
    with (output / "ground-truth.csv").open(encoding="utf-8") as handle:
        planted = list(csv.DictReader(handle))
    assert planted, "the default fault rates planted nothing"
    assert int(lines["total"][0]) == len(planted)
    assert (output / "findings.csv").exists()
    assert (output / "quarantine.csv").exists()
    assert "sending webhooks" in done.stderr  # the progress display
    # The quarter's reports, asked for through the API and saved as workbooks.
    fill_rate = load_workbook(output / "reports" / "fill-rate-q1.xlsx")
    assert fill_rate.sheetnames == ["Классы, предметы, учителя"]
    rows = list(fill_rate.active.iter_rows(values_only=True))
    assert rows[0][0] and rows[0][0].split()[-1] == "1"  # the school by name (№ 1) first
    assert rows[1][0] == "Заполнение электронного журнала"
    assert fill_rate.active.freeze_panes is not None and fill_rate.active.auto_filter.ref
    held = int(lines["Проведено"][-1])  # "Проведено уроков  N" in the printed summary
    assert held > 0
    header = next(i for i, row in enumerate(rows) if row and row[0] == "Класс")
    assert sum(row[3] for row in rows[header + 1:]) == held
    assert len(list((output / "reports").glob("quarter-analysis-*.xlsx"))) == 3  # grades 4-6
    # One class journal printed through the API, and a verified backup.
    printed = next(line for line in done.stdout.splitlines() if "printed:" in line)
    pdf = next((output / "printed").glob("class-journal-*-q1.pdf"))
    pages = len(PdfReader(pdf).pages)
    assert f"printed: {pages} pages" in printed and pages > 5
    assert hashlib.sha256(pdf.read_bytes()).hexdigest()[:16] in printed
    backed_up = next(line for line in done.stdout.splitlines() if line.strip().startswith(
        "backup "))
    assert ": verified, " in backed_up
    assert f"{summary['backup']['events']:,} events" in backed_up
    assert summary["backup"]["events"] > summary["accepted"]  # plus Kozomol's own events
    assert list((output / "files" / "backups").rglob("*.kzb"))
    # The messages the notifier would have sent that day, as e-mails and a table.
    with (output / "messages.csv").open(encoding="utf-8") as handle:
        messages = list(csv.DictReader(handle))
    assert "reminder" in {row["kind"] for row in messages}
    assert sum(summary["messages"].values()) == len(messages)
    assert len(list((output / "messages").glob("*.eml"))) == len(messages)
    # It ends with the console and a login it made (the password on the terminal only).
    login = re.search(r"log in as (\S+), password (\S+) ", done.stdout)
    assert login and login.group(1) == summary["console"]["login"]
    assert f"KOZOMOL_DATA_DIR={output} kozomol serve" in done.stdout
    assert login.group(2) not in (output / "summary.json").read_text(encoding="utf-8")


def test_demo_serve_keeps_the_console_running_for_the_login_it_printed(
    tmp_path: Path
) -> None:
    port = free_port()
    served = subprocess.Popen(
        [sys.executable, "-m", "kozomol", "demo", "--output", "results", "--parallels", "1",
         "--grades", "5", "--seed", "3", "--serve", "--port", str(port)],
        env=kozomol_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    try:
        assert served.stdout is not None
        lines: list[str] = []
        for line in served.stdout:
            lines.append(line)
            if "keeps running" in line:
                break
        printed = "".join(lines)
        assert f"web console: http://127.0.0.1:{port}/console/" in printed, printed
        login = re.search(r"log in as (\S+), password (\S+) ", printed)
        assert login
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as browser:
            form = browser.get("/console/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf
            answer = browser.post("/console/login", data={
                "login": login.group(1), "password": login.group(2),
                "csrf_token": csrf.group(1)})
            assert answer.status_code == 302
            dashboard = browser.get("/console/")
            assert dashboard.status_code == 200 and 'id="open-total"' in dashboard.text
            assert served.poll() is None  # still serving after the demo's summary
        served.send_signal(signal.SIGINT)
        assert served.wait(120) == 0
    finally:
        if served.poll() is None:
            served.kill()
            served.wait(10)
        if served.stdout is not None:
            served.stdout.close()
