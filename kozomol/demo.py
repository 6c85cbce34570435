"""``kozomol demo``: one simulated school's quarter, end to end, on the embedded default.

It starts every service in this process on a fresh results folder, generates a
school with the Kundoluk simulator, streams the first quarter through the
gateway as signed webhooks (with a progress bar), waits until the services have
consumed everything, and prints a summary. The folder it names at the end holds
the results: the ground truth of planted faults, the findings (the rule
checker's findings as of the quarter's judging moment), the quarantine, the
journal record, and what a deputy director would ask for through the
administrators' API: the quarter's monitoring reports (XLSX), one class journal
printed for the quarter (PDF/A), and a backup, verified by a trial restore.
"""

from __future__ import annotations

import csv
import secrets
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

import click
import httpx
import orjson
from sqlalchemy import func, select

from kozomol.embedded import EmbeddedKozomol
from kozomol.notifier_demo import write_day_messages
from kozomol.simulator.delivery import DeliveryReport, Progress, arrange, send
from kozomol.simulator.faults import RULES, PlantedFault, write_ground_truth
from kozomol.simulator.run import SimulationSpec, collect_faults, judged_at, school_events
from services.backup.adapters.tables import journal
from services.checker.adapters import parameters_store, report_store
from services.checker.adapters.tables import findings
from services.checker.domain.rules import Term
from services.checker.handlers import sweep
from services.gateway.adapters import users
from services.gateway.adapters.tables import quarantine
from services.gateway.adapters.tokens import create_token
from services.gateway.domain.access import Role
from shared.events.schemas import DATA_SCHEMAS
from shared.settings import Settings, with_embedded_secret


@dataclass
class DemoResult:
    output: Path
    delivery: DeliveryReport
    planted: list[PlantedFault]
    found: Counter[str]
    journal_events: int
    seconds: float
    fill_rate_summary: list[list[str]] = field(default_factory=list)
    report_files: list[Path] = field(default_factory=list)
    printed: dict[str, Any] = field(default_factory=dict)
    backup: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    messages_day: date | None = None
    #: the console's address and the deputy's login the demo made (url, login, password)
    console: dict[str, str] = field(default_factory=dict)


def run_demo(settings: Settings, output: Path, spec: SimulationSpec, *,
             serve: Callable[[DemoResult], None] | None = None, port: int = 0) -> DemoResult:
    """Run the demo into ``output``; a run that fails leaves no folder it created.

    ``serve``, when given, is called with the result while every service still runs (on
    ``port``), and the demo stops when it returns: ``kozomol demo --serve`` waits there
    for Ctrl-C so a newcomer can click through the demo school in the console."""
    output = output.resolve()
    created = not output.exists()
    output.mkdir(parents=True, exist_ok=True)
    try:
        return _run(settings, output, spec, serve, port)
    except BaseException:
        if created:
            shutil.rmtree(output, ignore_errors=True)
        raise


def _run(settings: Settings, output: Path, spec: SimulationSpec,
         serve: Callable[[DemoResult], None] | None, port: int) -> DemoResult:
    settings = with_embedded_secret(replace(
        settings, data_dir=output, database_url="",  # a SQLite file per service in output
        service_database_urls={}, broker_url="memory://",
        # no scheduled backup while the quarter streams in; the demo asks for one at the end
        backup_check_interval=24 * 3600.0))
    started = time.perf_counter()
    kozomol = EmbeddedKozomol(settings, host="127.0.0.1", port=port)
    kozomol.start()
    planted: list[PlantedFault] = []
    try:
        if not kozomol.wait_ready(30):
            raise click.ClickException("the services did not start within 30 s")
        events = arrange(school_events(spec, collect_faults(planted)), seed=spec.seed,
                         duplicate_share=0.01)
        progress = Progress("sending webhooks")
        delivery = send(events, f"{kozomol.url}/webhooks/kundoluk", settings.webhook_secrets,
                        batch_size=100, on_progress=progress.advance)
        progress.close()
        phases = {"sending": time.perf_counter() - started}
        click.echo("waiting for the services to process everything…", err=True)
        if not kozomol.drain(timeout=600):
            raise click.ClickException("the services did not finish within 10 minutes")
        phases["processing"] = time.perf_counter() - started - sum(phases.values())
        checker = next(c for c in kozomol.consumers if c.name == "checker")
        as_of = judged_at(spec)  # the simulated quarter's deadlines have all passed
        with checker.engine.begin() as connection:
            # The school follows journal visits (clause 4.3): a rule only where switched on.
            for school_id in sorted({fault.school_id for fault in planted}):
                parameters_store.save(connection, school_id, {"journal_visits_rule": 1},
                                      "demo", as_of)
        sweep(checker.engine, lambda: as_of)
        found = _export(kozomol, output, planted)
        kozomol.drain(timeout=60)  # the notifier takes the findings in
        messages = write_day_messages(settings, output, spec, as_of)
        phases["checking"] = time.perf_counter() - started - sum(phases.values())
        with _deputy(kozomol) as client:
            summary, files = _reports(kozomol, client, output)
            phases["reports"] = time.perf_counter() - started - sum(phases.values())
            printed = _print_class_journal(kozomol, client, output)
            phases["printing"] = time.perf_counter() - started - sum(phases.values())
            backup = _backup(client)
            phases["backup"] = time.perf_counter() - started - sum(phases.values())
        journal_events = _kundoluk_events_in_journal(kozomol)
        result = DemoResult(output, delivery, planted, found, journal_events,
                            time.perf_counter() - started, summary, files, printed, backup,
                            phases, messages.by_kind, messages.day, _console_login(kozomol))
        write_summary(result)
        if serve is not None:
            serve(result)
    finally:
        kozomol.stop()
    return result


DEMO_LOGIN = "demo-deputy"


def _console_login(kozomol: EmbeddedKozomol) -> dict[str, str]:
    """A deputy director's console account of the demo school, with a fresh password
    (printed once on the terminal; the database keeps only its Argon2id hash)."""
    password = secrets.token_urlsafe(12)
    with kozomol.gateway.engine.begin() as connection:
        _, code = users.create_user(connection, DEMO_LOGIN, "Заместитель директора (демо)",
                                    Role.DEPUTY, school_id="sch0001", teacher_id=None)
        users.set_password(connection, code, password)
    return {"url": f"{kozomol.url}/console/", "login": DEMO_LOGIN, "password": password}


def serve_until_stopped(result: DemoResult) -> None:
    """``kozomol demo --serve``: the summary, then every service keeps running (the
    console included) until Ctrl-C or SIGTERM."""
    stopping = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print_summary(result, serving=True)
    click.echo("")
    click.echo("  everything keeps running: open the console above; Ctrl-C stops it")
    stopping.wait()


def print_summary(result: DemoResult, *, serving: bool = False) -> None:
    delivery = result.delivery
    echo = click.echo
    echo("")
    echo("Kozomol demo: one simulated school, first quarter, embedded default")
    echo("")
    echo("  Kundoluk's events (lessons, attendance, marks, plans, rosters, ...)")
    echo(f"    sent as signed webhooks          {delivery.sent:>9,}")
    echo(f"    accepted, each new               {delivery.accepted:>9,}")
    echo(f"    sent again on purpose (1 %),     {delivery.duplicates:>9,}   recognised by their "
         "event id and not counted twice")
    echo(f"    refused and quarantined          {delivery.rejected:>9,}")
    echo(f"    kept in the journal record       {result.journal_events:>9,}   each accepted "
         "event once, hash-chained")
    if result.backup:
        added = result.backup["events"] - result.journal_events
        echo(f"  the backup holds {result.backup['events']:,} events: those, and {added:,} "
             "that Kozomol's own services announced (findings, reports, print jobs)")
    echo("")
    echo("  Faults the simulator planted in the teachers' work, next to what the checker found:")
    planted = Counter(fault.rule for fault in result.planted)
    echo(f"  {'rule':<34}{'planted':>8}{'found':>8}")
    for rule in RULES:
        echo(f"  {rule:<34}{planted.get(rule, 0):>8}{result.found.get(rule, 0):>8}")
    echo(f"  {'total':<34}{len(result.planted):>8}{sum(result.found.values()):>8}")
    if result.fill_rate_summary:
        echo("")
        echo("  the quarter's fill rate (report via /api/v1/reports):")
        for label, value in result.fill_rate_summary:
            echo(f"    {label:<26}{value:>14}")
        echo(f"  reports saved: {len(result.report_files)} workbooks in "
             f"{result.output / 'reports'}")
    if result.printed:
        echo(f"  class journal {result.printed['class_id']}, first quarter, printed: "
             f"{result.printed['pages']} pages, SHA-256 {result.printed['sha256'][:16]}…, "
             f"{result.printed['path'].name}")
    if result.backup:
        echo(f"  backup {result.backup['id']}: {result.backup['status']}, "
             f"{result.backup['events']:,} events, {result.backup['bytes'] / 1e6:.1f} MB "
             f"(encrypted, in {result.output / 'files' / 'backups'})")
    if result.messages:
        counted = ", ".join(f"{count} {kind}" for kind, count in sorted(result.messages.items()))
        day = f"{result.messages_day:%d.%m.%Y}" if result.messages_day else "a school day"
        echo(f"  messages the notifier would send (reminders and parents' notices of {day}, "
             f"digests as of the quarter's end): {counted}; as .eml files in "
             f"{result.output / 'messages'}, listed in messages.csv")
    echo("")
    echo(f"  left in {result.output}:")
    for name, what in _LEFT_BEHIND:
        echo(f"    {name:<18}{what}")
    echo("")
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.phases.items())
    echo(f"  took {result.seconds:.0f} s ({spent})")
    if result.console:
        echo("")
        if serving:
            echo(f"  the school's web console: {result.console['url']}")
        else:
            echo("  the school's web console: `kozomol demo --serve` keeps it running, or open "
                 "this school again with")
            echo(f"    KOZOMOL_DATA_DIR={result.output} kozomol serve   "
                 "→ http://127.0.0.1:8080/console/")
        echo(f"    log in as {result.console['login']}, password {result.console['password']}"
             " (a deputy director of the demo school)")


_LEFT_BEHIND = (
    ("summary.json", "these figures, for a machine"),
    ("ground-truth.csv", "every fault the simulator planted (rule, lesson, mark, student)"),
    ("findings.csv", "the checker's open findings, with the Russian remark"),
    ("quarantine.csv", "events refused at the gateway, with the reasons"),
    ("reports/", "the quarter's fill rate and each class's quarter analysis (XLSX)"),
    ("printed/", "one class journal of the quarter (PDF/A)"),
    ("files/backups/", "the encrypted, verified backup (backup-key is its key)"),
    ("messages/", "the e-mails the notifier would send that day (.eml; messages.csv lists them)"),
    ("*.sqlite3", "each service's own database"),
)


def write_summary(result: DemoResult) -> None:
    """The figures the summary prints, as JSON in the results folder."""
    delivery = result.delivery
    summary = {
        "sent": delivery.sent, "accepted": delivery.accepted,
        "duplicates": delivery.duplicates, "rejected": delivery.rejected,
        "journal_kundoluk_events": result.journal_events,
        "planted": Counter(fault.rule for fault in result.planted),
        "found": result.found,
        "fill_rate": {label: value for label, value in result.fill_rate_summary},
        "printed": {k: str(v) if isinstance(v, Path) else v for k, v in result.printed.items()},
        "backup": result.backup, "messages": result.messages,
        # the password is printed once on the terminal, never written to a file
        "console": {k: v for k, v in result.console.items() if k != "password"},
        "seconds": round(result.seconds, 1),
        "phases": {name: round(value, 1) for name, value in result.phases.items()},
    }
    (result.output / "summary.json").write_bytes(
        orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))


FINDING_COLUMNS = ("id", "rule", "clause", "severity", "responsible", "status", "school_id",
                   "class_id", "subject_id", "subgroup", "teacher_id", "student_id",
                   "lesson_id", "mark_id", "term_id", "date", "detected_at", "message")


def _export(kozomol: EmbeddedKozomol, output: Path, planted: list[PlantedFault]
            ) -> Counter[str]:
    """Write the results folder; returns the open findings per rule."""
    with (output / "ground-truth.csv").open("w", newline="", encoding="utf-8") as handle:
        write_ground_truth(planted, handle)
    checker = next(c for c in kozomol.consumers if c.name == "checker")
    found: Counter[str] = Counter()
    with checker.engine.connect() as connection, \
            (output / "findings.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FINDING_COLUMNS)
        for row in connection.execute(select(*(findings.c[name] for name in FINDING_COLUMNS))
                                      .where(findings.c.status == "open")
                                      .order_by(findings.c.date, findings.c.rule)):
            writer.writerow(row)
            found[row.rule] += 1
    with kozomol.gateway.engine.connect() as connection:
        rejected = connection.execute(
            select(quarantine.c.received_at, quarantine.c.event_id, quarantine.c.event_type,
                   quarantine.c.errors).order_by(quarantine.c.id)).all()
    with (output / "quarantine.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["received_at", "event_id", "event_type", "errors"])
        for item in rejected:
            writer.writerow([item.received_at, item.event_id, item.event_type,
                             orjson.dumps(item.errors).decode()])
    return found


@contextmanager
def _deputy(kozomol: EmbeddedKozomol) -> Iterator[httpx.Client]:
    """An API client with a deputy director's token of the simulated school."""
    with kozomol.gateway.engine.begin() as connection:
        token = create_token(connection, Role.DEPUTY, "sch0001", label="demo").token
    with httpx.Client(base_url=kozomol.url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def _first_quarter(kozomol: EmbeddedKozomol) -> tuple[Term, list[str]]:
    checker = next(c for c in kozomol.consumers if c.name == "checker")
    with checker.engine.connect() as connection:
        book = report_store.book(connection, "sch0001", with_plans=False)
    if book is None:
        raise click.ClickException("the checker has not swept the school")
    quarter = next(t for t in book.terms if t.kind == "quarter" and t.number == 1)
    return quarter, sorted(book.homeroom)


def _until(client: httpx.Client, path: str, done: Callable[[dict[str, Any]], bool],
           timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        item = dict(client.get(path).json())
        if done(item) or time.monotonic() > deadline:
            return item
        time.sleep(0.2)


def _print_class_journal(kozomol: EmbeddedKozomol, client: httpx.Client,
                         output: Path) -> dict[str, Any]:
    """Print one class journal of the quarter through the API and save the PDF."""
    quarter, classes = _first_quarter(kozomol)
    class_id = classes[len(classes) // 2]
    asked = client.post("/api/v1/print-jobs", json={
        "kind": "class_journal",
        "parameters": {"class_id": class_id, "term_id": quarter.term_id}})
    if asked.status_code != 202:
        raise click.ClickException(f"the print job was refused: {asked.text}")
    job = _until(client, asked.headers["Location"], lambda j: j["status"] != "pending")
    if job["status"] != "completed":
        raise click.ClickException(f"the class journal was not printed: {job}")
    folder = output / "printed"
    folder.mkdir(exist_ok=True)
    path = folder / f"class-journal-{class_id}-q1.pdf"
    path.write_bytes(client.get(job["pdf"]).content)
    return {"class_id": class_id, "pages": job["pages"], "sha256": job["sha256"], "path": path}


def _backup(client: httpx.Client) -> dict[str, Any]:
    """Ask for a backup of the school through the API; wait until it is verified."""
    asked = client.post("/api/v1/backups", json={})
    if asked.status_code != 202:
        raise click.ClickException(f"the backup was refused: {asked.text}")
    backup = _until(client, asked.headers["Location"],
                    lambda b: b["status"] in ("verified", "damaged", "failed"))
    if backup["status"] != "verified":
        raise click.ClickException(f"the backup was not verified: {backup}")
    return backup


def _reports(kozomol: EmbeddedKozomol, client: httpx.Client,
             output: Path) -> tuple[list[list[str]], list[Path]]:
    """Ask the API for the quarter's reports as a deputy director would; save them as XLSX."""
    quarter, classes = _first_quarter(kozomol)
    folder = output / "reports"
    folder.mkdir(exist_ok=True)
    asks = [("fill_rate", {"date_from": quarter.start.isoformat(),
                           "date_to": quarter.end.isoformat()}, "fill-rate-q1"),
            *(("quarter_analysis", {"class_id": class_id, "term_id": quarter.term_id},
               f"quarter-analysis-{class_id}") for class_id in classes)]
    summary: list[list[str]] = []
    files = []
    for kind, parameters, name in asks:
        answer = client.post("/api/v1/reports", params={"wait": 30},
                             json={"kind": kind, "parameters": parameters})
        if answer.status_code != 200 or answer.json()["status"] != "ready":
            raise click.ClickException(f"the {kind} report did not come: {answer.text}")
        if kind == "fill_rate":
            summary = answer.json()["report"]["summary"]
        sheet = client.get(f"/api/v1/reports/{answer.json()['id']}", params={"format": "xlsx"})
        path = folder / f"{name}.xlsx"
        path.write_bytes(sheet.content)
        files.append(path)
    return summary, files


def _kundoluk_events_in_journal(kozomol: EmbeddedKozomol) -> int:
    """How many of the journal record's entries are Kundoluk's (the rest are Kozomol's own)."""
    backup = next(c for c in kozomol.consumers if c.name == "backup")
    with backup.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(journal).where(
            journal.c.type.in_(sorted(DATA_SCHEMAS)))).scalar_one())
